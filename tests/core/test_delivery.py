"""Names, no overwrite, UNIQNAME fallback, last-data file, staging disk away; docs/processing.md."""

import os
from datetime import UTC, datetime

import pytest

from dataman.core.errors import DeliveryFailed
from dataman.core.identity import UniqnameRegistry
from dataman.core.pipeline import process_frame
from dataman.core.publish import publish, write_pieces
from tests.conftest import make_frame

NOW = datetime(2025, 12, 30, 3, 13, 1, tzinfo=UTC)


def test_outputs_land_in_night_folder_and_staging_with_last_data_file(config):
    raw = make_frame(config, instrument="MODS2B", roi="1kx1k", binning=2, night="20251230",
                     number=12)
    result = process_frame(raw, config, now=lambda: NOW)
    assert result.processed == config.paths.proc_dir / "20251230" / "mods2b.20251230.0012.fits"
    assert result.delivered == config.paths.repo_dir / "mods2b.20251230.0012.fits"
    assert (config.paths.repo_dir / "MODS2B.new").read_text() == "mods2b.20251230.0012.fits\n"
    leftovers = [p.name for p in config.paths.repo_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_existing_targets_are_never_overwritten_but_written_under_uniqname(config):
    raw = make_frame(config, roi="1kx1k", binning=2)
    squatter = config.paths.repo_dir / raw.name
    squatter.write_bytes(b"someone else's file")
    result = process_frame(raw, config, now=lambda: NOW)
    assert squatter.read_bytes() == b"someone else's file"
    assert result.delivered.name == "mods1b.20251230.031301.fits" == result.uniqname
    assert result.processed.name == raw.name  # the night folder was free
    assert any("exists; delivered as mods1b.20251230.031301.fits" in w for w in result.warnings)
    assert (config.paths.repo_dir / "MODS1B.new").read_text() == result.uniqname + "\n"


def test_uniqname_skips_names_taken_by_files_the_registry_does_not_know(tmp_path):
    on_disk = {"mods1r.20251230.031301.fits", "mods1r.20251230.031301_2.fits"}
    registry = UniqnameRegistry(tmp_path / "state")
    names = [registry.assign(f"mods1r.20251230.000{n}.fits", "MODS1R", NOW,
                             taken=on_disk.__contains__) for n in (1, 2)]
    assert names == ["mods1r.20251230.031301_3.fits", "mods1r.20251230.031301_4.fits"]


def test_two_frames_in_the_same_second_get_different_uniqnames(config):
    first = process_frame(make_frame(config, roi="1kx1k", binning=2, number=1), config,
                          now=lambda: NOW)
    second = process_frame(make_frame(config, roi="1kx1k", binning=2, number=2), config,
                           now=lambda: NOW)
    assert first.uniqname == "mods1b.20251230.031301.fits"
    assert second.uniqname == "mods1b.20251230.031301_2.fits"


def test_missing_staging_disk_fails_delivery_but_keeps_the_processed_file(config):
    raw = make_frame(config, roi="1kx1k", binning=2)
    os.rmdir(config.paths.repo_dir)
    with pytest.raises(DeliveryFailed, match="No such file or directory"):
        process_frame(raw, config, now=lambda: NOW)
    assert (config.paths.proc_dir / "20251230" / raw.name).stat().st_size > 0
    # processed, so it has its thumbnail for the night report
    assert (config.paths.state_dir / "thumbnails" / "20251230" /
            raw.name.replace(".fits", ".png")).stat().st_size > 0


def test_a_failed_write_leaves_no_file_and_no_temporary(tmp_path):
    def broken(stream):
        stream.write(b"x" * 100)
        raise OSError(28, "No space left on device")

    with pytest.raises(DeliveryFailed, match="No space left on device"):
        publish(tmp_path, ["a.fits"], broken)
    assert list(tmp_path.iterdir()) == []


def test_publish_refuses_a_short_file(tmp_path):
    with pytest.raises(DeliveryFailed, match="wrote 3 bytes of 4"):
        publish(tmp_path, ["a.fits"], write_pieces([b"abc"]), expected_size=4)
    assert list(tmp_path.iterdir()) == []


def test_a_frame_kept_while_staging_was_down_is_delivered_when_it_returns(config):
    from dataman.core.pipeline import FrameResult, deliver

    raw = make_frame(config, instrument="MODS1R", roi="1kx1k", binning=2)
    os.rmdir(config.paths.repo_dir)
    with pytest.raises(DeliveryFailed):
        process_frame(raw, config, now=lambda: NOW)
    processed = config.paths.proc_dir / "20251230" / raw.name
    config.paths.repo_dir.mkdir()  # the NFS disk is back
    result = FrameResult(raw.name)
    delivered = deliver(processed, raw.name, "mods1r.20251230.031301.fits", "MODS1R", config,
                        result)
    assert delivered == config.paths.repo_dir / raw.name
    assert delivered.read_bytes() == processed.read_bytes()
    assert (config.paths.repo_dir / "MODS1R.new").read_text() == raw.name + "\n"
