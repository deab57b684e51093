"""The written files: raw untouched, pixels bit for bit, idempotent, valid FITS, offline."""

import hashlib
import shutil
import socket
from datetime import UTC, datetime

import numpy as np
import pytest
from astropy.io import fits

from dataman.core.config import load_config
from dataman.core.pipeline import process_frame
from tests.conftest import fitsverify_counts, make_frame, write_config

NOW = datetime(2025, 12, 30, 4, 0, tzinfo=UTC)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("roi", "binning"), [("1kx1k", 1), ("full", 2)])
def test_raw_file_is_unchanged_and_pixels_are_carried_bit_for_bit(config, roi, binning):
    raw = make_frame(config, roi=roi, binning=binning)
    before, mode = digest(raw), raw.stat().st_mode
    result = process_frame(raw, config, now=lambda: NOW)
    assert digest(raw) == before and raw.stat().st_mode == mode
    with fits.open(raw, do_not_scale_image_data=True) as old, \
            fits.open(result.delivered, do_not_scale_image_data=True) as new:
        assert [h.name for h in new] == ["PRIMARY", "IM1", "IM2", "IM3", "IM4", "CONPARS",
                                         "MERGED"]
        for name in ("IM1", "IM2", "IM3", "IM4"):
            assert new[name].data.dtype == old[name].data.dtype == np.dtype(">i2")
            assert np.array_equal(new[name].data, old[name].data)
        assert new["CONPARS"].header == old["CONPARS"].header
        assert new["CONPARS"].data.tobytes() == old["CONPARS"].data.tobytes()
    assert digest(result.processed) == digest(result.delivered)


def test_processing_an_output_again_changes_nothing(tmp_path):
    first = load_config(write_config(tmp_path / "one"))
    second = load_config(write_config(tmp_path / "two"))
    raw = make_frame(first, roi="4kx3k", binning=2, instrument="MODS2B")
    once = process_frame(raw, first, now=lambda: NOW)
    copy = second.paths.data_dir / "mods2b" / raw.name
    copy.parent.mkdir(parents=True)
    shutil.copy(once.delivered, copy)
    later = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    twice = process_frame(copy, second, now=lambda: later)
    assert twice.delivered.read_bytes() == once.delivered.read_bytes()
    assert twice.uniqname == once.uniqname


@pytest.mark.parametrize(("roi", "binning", "instrument"), [
    ("full", 1, "MODS1B"), ("1kx1k", 2, "MODS2R"), ("3kx3k", 1, "MODS1R")])
def test_outputs_pass_fitsverify_and_astropy_verify(config, roi, binning, instrument):
    raw = make_frame(config, roi=roi, binning=binning, instrument=instrument)
    result = process_frame(raw, config, now=lambda: NOW)
    assert shutil.which("fitsverify"), \
        "fitsverify is required (apt-get install fitsverify; scripts/test does it)"
    warnings, errors, report = fitsverify_counts(result.delivered)
    assert (warnings, errors) == (0, 0), report[-2000:]
    with fits.open(result.delivered) as hdus:
        hdus.verify("exception")


def test_processing_works_with_all_network_access_blocked(config, monkeypatch):
    raw = make_frame(config, roi="1kx1k", binning=2)

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    result = process_frame(raw, config, now=lambda: NOW)
    with fits.open(result.delivered) as hdus:
        assert "BJD-OBS" in hdus[0].header and "HJD-OBS" in hdus[0].header
