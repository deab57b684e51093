"""Publication when a disk misbehaves: read-only, full procDir, temporaries of the dead."""

from __future__ import annotations

import os

import pytest

from dataman.core.errors import DeliveryFailed
from dataman.core.pipeline import process_frame
from dataman.core.publish import publish, remove_abandoned_temporaries, write_pieces
from tests.conftest import make_frame


def test_a_read_only_folder_is_a_delivery_failure_not_an_internal_error(tmp_path):
    from tests.reliability.mounts import Mounts

    mounts = Mounts()
    folder = tmp_path / "newdata"
    folder.mkdir()
    mounts.read_only(folder)  # a real read-only file system (skipped where mounts are refused)
    try:
        with pytest.raises(DeliveryFailed, match="Read-only file system"):
            publish(folder, ["a.fits"], write_pieces([b"x" * 2880]))
    finally:
        mounts.release_all()
    assert list(folder.iterdir()) == []


def test_when_proc_dir_cannot_be_written_nothing_is_delivered(config, monkeypatch):
    raw = make_frame(config, roi="1kx1k", binning=2)
    night = config.paths.proc_dir / "20251230"
    real_publish = publish

    def proc_dir_full(directory, *args, **kwargs):
        if directory == night:
            raise DeliveryFailed(f"{night}: No space left on device")
        return real_publish(directory, *args, **kwargs)

    monkeypatch.setattr("dataman.core.pipeline.publish", proc_dir_full)
    with pytest.raises(DeliveryFailed, match="No space left on device"):
        process_frame(raw, config)
    assert list(config.paths.repo_dir.iterdir()) == []


def test_old_style_temporaries_of_dead_writers_of_the_given_names_are_removed(tmp_path):
    alive = os.getpid()
    for name in (f".a.fits.{alive}.part", ".a.fits.999999999.part", ".b.fits.999999999.part",
                 ".MODS1B.new.999999999.part", "a.fits", ".a.fits.part"):
        (tmp_path / name).write_bytes(b"")
    removed = remove_abandoned_temporaries(tmp_path, {"a.fits", "MODS1B.new"},
                                       alive=lambda pid: pid == alive)
    assert sorted(p.name for p in removed) == [".MODS1B.new.999999999.part",
                                               ".a.fits.999999999.part"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
        ".a.fits.part", f".a.fits.{alive}.part", ".b.fits.999999999.part", "a.fits"])


def test_when_every_name_is_taken_by_another_file_nothing_is_replaced(tmp_path):
    for name in ("a.fits", "u.fits"):
        (tmp_path / name).write_bytes(b"someone else's")
    with pytest.raises(DeliveryFailed, match=r"all of \['a.fits', 'u.fits'\] exist"):
        publish(tmp_path, ["a.fits", "u.fits"], write_pieces([b"x" * 2880]),
                ours=lambda path: False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.fits", "u.fits"]  # no temporary
    assert {(tmp_path / name).read_bytes() for name in ("a.fits", "u.fits")} == {
        b"someone else's"}
