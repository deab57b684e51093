"""The quality bands the snapshot gives the console: those of the configuration."""

from __future__ import annotations

from pathlib import Path

from dataman.core.config import load_config
from dataman.ipc.protocol_snapshot import QualityBand
from dataman.service.snapshot import quality_bands
from tests.conftest import write_config


def configured(folder: Path, quality: str) -> Path:
    path = write_config(folder)
    path.write_text(path.read_text() + quality)
    return path


def test_the_bands_are_the_configured_ones_and_the_defaults_elsewhere(tmp_path):
    path = configured(tmp_path, "[quality]\n[[MODS1B]]\nbiasMin = 900\nnoiseMax = 6.5\n")
    bands = quality_bands(load_config(path).quality)
    assert bands["MODS1B"] == QualityBand(900.0, 5000.0, 0.5, 6.5)
    assert bands["MODS2R"] == QualityBand(200.0, 5000.0, 0.5, 8.0)  # configspec defaults
    assert sorted(bands) == ["MODS1B", "MODS1R", "MODS2B", "MODS2R"]


def test_a_check_switched_off_has_no_band_and_all_off_none_at_all(tmp_path):
    bands = quality_bands(load_config(configured(tmp_path, "[quality]\ncheckBias = false\n"))
                          .quality)
    assert bands["MODS1R"] == QualityBand(None, None, 0.5, 8.0)
    off = quality_bands(load_config(configured(tmp_path / "off", "[quality]\nchecks = false\n"))
                        .quality)
    assert off == {}


def test_the_running_service_sends_them(service_factory):
    service = service_factory().start()
    assert service.snapshot().quality_bands["MODS1B"] == QualityBand(
        bias_min=200.0, bias_max=5000.0, noise_min=0.5, noise_max=8.0)
    assert service.stop() == 0
