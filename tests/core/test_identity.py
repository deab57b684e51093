"""A frame's identity across nights, processes and reprocessing: one UNIQNAME, one copy,
``<CHAN>.new`` never backwards, and no temporary of ours left on the staging disk."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from astropy.io import fits

from dataman.core.errors import DeliveryFailed
from dataman.core.identity import UniqnameRegistry
from dataman.core.lastdata import record_newest
from dataman.core.pipeline import process_frame
from dataman.core.publish import TEMPORARY, publish, remove_abandoned_temporaries
from tests.conftest import make_frame

NOW = datetime(2026, 11, 30, 20, 12, 30, tzinfo=UTC)


def small(config, **spec):
    return make_frame(config, roi="1kx1k", binning=2, **spec)


def test_frames_of_different_nights_processed_in_one_second_get_distinct_uniqnames(config):
    results = [process_frame(small(config, instrument="MODS2B", night=night, number=7), config,
                             now=lambda: NOW)
               for night in ("20251226", "20251227", "20251228", "20251229")]
    assert [r.uniqname for r in results] == [
        "mods2b.20261130.201230.fits", "mods2b.20261130.201230_2.fits",
        "mods2b.20261130.201230_3.fits", "mods2b.20261130.201230_4.fits"]
    for result in results:
        assert fits.getval(result.delivered, "UNIQNAME") == result.uniqname


def _assign_many(state_dir: str, first: int, count: int) -> list[tuple[str, str]]:
    registry = UniqnameRegistry(Path(state_dir))
    names = [f"mods1b.2025{1201 + n % 28:04d}.{n:04d}.fits" for n in range(first, first + count)]
    return [(name, registry.assign(name, "MODS1B", NOW)) for name in names]


def test_processes_claiming_names_at_once_never_share_one(tmp_path):
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        chunks = pool.starmap(_assign_many, [(str(tmp_path), start, 30) for start in
                                             (0, 30, 60, 90)])
    given = dict(pair for chunk in chunks for pair in chunk)
    assert len(given) == 120
    assert len(set(given.values())) == 120
    assert set(given.values()) == {"mods1b.20261130.201230.fits"} | {
        f"mods1b.20261130.201230_{n}.fits" for n in range(2, 121)}


def test_a_frame_keeps_its_uniqname_when_processed_again_later(config):
    raw = small(config)
    first = process_frame(raw, config, now=lambda: NOW)
    later = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
    again = process_frame(raw, config, now=lambda: later)
    assert first.uniqname == again.uniqname == "mods1b.20261130.201230.fits"
    assert sorted(p.name for p in config.paths.repo_dir.iterdir()) == ["MODS1B.new", raw.name]


def test_reservations_of_the_old_per_night_folders_are_taken_over_and_removed(tmp_path):
    legacy = tmp_path / "proc" / "20251230" / ".uniqnames"
    legacy.mkdir(parents=True)
    (legacy / "mods1b.20261130.201230.fits").write_text("mods1b.20251230.0001.fits")
    registry = UniqnameRegistry(tmp_path / "state")
    assert registry.import_legacy(tmp_path / "proc") == 1
    assert not legacy.exists()
    assert registry.uniqname_of("mods1b.20251230.0001.fits") == "mods1b.20261130.201230.fits"
    assert registry.assign("mods1b.20251230.0002.fits", "MODS1B", NOW) == \
        "mods1b.20261130.201230_2.fits"


# --- the last-data file -------------------------------------------------------------------

def test_last_data_file_never_moves_back_to_an_older_exposure(tmp_path):
    repo, state = tmp_path / "newdata", tmp_path / "state"
    repo.mkdir()
    sequence = ["mods1b.20251230.0080.fits", "mods1b.20251230.0083.fits",
                "mods1b.20251230.0081.fits", "mods1b.20251229.0200.fits",
                "mods1b.20251231.0001.fits", "mods1b.20251230.0099.fits"]
    changed = [record_newest(repo, state, "MODS1B", name, name) for name in sequence]
    assert changed == [True, True, False, False, True, False]
    assert (repo / "MODS1B.new").read_text() == "mods1b.20251231.0001.fits\n"


def test_last_data_file_naming_a_uniqname_still_knows_its_exposure(tmp_path):
    repo, state = tmp_path / "newdata", tmp_path / "state"
    repo.mkdir()
    record_newest(repo, state, "MODS1R", "mods1r.20251230.0050.fits",
                  "mods1r.20251231.031246.fits")
    assert not record_newest(repo, state, "MODS1R", "mods1r.20251230.0049.fits",
                             "mods1r.20251230.0049.fits")
    assert (repo / "MODS1R.new").read_text() == "mods1r.20251231.031246.fits\n"


def test_a_frame_delivered_late_does_not_repoint_last_data(config):
    newer, older = small(config, number=83), small(config, number=80)
    process_frame(newer, config, now=lambda: NOW)
    process_frame(older, config, now=lambda: NOW)
    assert (config.paths.repo_dir / "MODS1B.new").read_text() == newer.name + "\n"


# --- temporaries on the staging disk --------------------------------------------------------

def _ours(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if TEMPORARY.match(p.name))


def test_a_staging_folder_that_vanishes_mid_write_keeps_no_temporary(tmp_path):
    repo, away = tmp_path / "newdata", tmp_path / "newdata-unmounted"
    repo.mkdir()

    def vanish_mid_write(stream):
        stream.write(b"x" * 2880)
        repo.rename(away)
        stream.write(b"y" * 2880)

    with pytest.raises(DeliveryFailed):
        publish(repo, ["mods1b.20251230.0001.fits"], vanish_mid_write)
    away.rename(repo)
    assert list(repo.iterdir()) == []


def test_a_staging_folder_turned_read_only_mid_write_keeps_no_temporary(tmp_path):
    from tests.reliability.mounts import Mounts

    repo, mounts = tmp_path / "newdata", Mounts()
    repo.mkdir()

    def read_only_mid_write(stream):
        stream.write(b"x" * 2880)
        mounts.read_only(repo)

    try:
        with pytest.raises(DeliveryFailed):
            publish(repo, ["mods1b.20251230.0001.fits"], read_only_mid_write)
    finally:
        mounts.release_all()
    assert list(repo.iterdir()) == []


def test_only_abandoned_temporaries_of_this_host_are_swept(tmp_path):
    held = tmp_path / "held"
    held.mkdir()
    script = ("import sys, time; from pathlib import Path; from dataman.core.publish import "
              "publish\ndef slow(stream):\n    stream.write(b'x'); print('writing', flush=True)"
              "\n    sys.stdin.readline()\npublish(Path(sys.argv[1]), ['a.fits'], slow)")
    writer = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        live = _ours(tmp_path)
        (tmp_path / ".b.fits.otherhost-12-0badcafe.part").write_bytes(b"theirs")
        from dataman.core.publish import HOST
        (tmp_path / f".c.fits.{HOST}-999999-0badcafe.part").write_bytes(b"abandoned")
        removed = remove_abandoned_temporaries(tmp_path)
        assert [p.name for p in removed] == [f".c.fits.{HOST}-999999-0badcafe.part"]
        assert len(live) == 1 and (tmp_path / live[0]).exists()
    finally:
        writer.communicate("\n", timeout=30)
    assert writer.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".b.fits.otherhost-12-0badcafe.part", "a.fits", "held"]


def test_a_retry_clears_what_its_abandoned_attempt_left(config):
    from dataman.core.publish import HOST

    raw = small(config)
    left = config.paths.repo_dir / f".{raw.name}.{HOST}-{os.getpid()}-0badcafe.part"
    left.write_bytes(b"half a frame")
    process_frame(raw, config, now=lambda: NOW, redo=True)
    assert _ours(config.paths.repo_dir) == []
    assert sorted(p.name for p in config.paths.repo_dir.iterdir()) == ["MODS1B.new", raw.name]
