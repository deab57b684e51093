"""Which outputs the check after an unclean stop looks at, and the clean-stop record."""

from __future__ import annotations

from pathlib import Path

from dataman.service.journal import Journal
from dataman.service.powercut import CLEAN_STOP, record_clean_stop, stopped_cleanly


def processed(journal: Journal, number: int, at: float, *, deliver: bool = True) -> None:
    name = f"mods1b.20251230.{number:04d}.fits"
    record = journal.request(name, f"/data/mods1b/{name}", "mods1b", "datagram", at - 1).record
    journal.start(record.id, pid=4242, now=at - 0.5)
    journal.processed(record.id, f"/proc/20251230/{name}", name, {}, 0, at,
                      delivered_path=f"/newdata/{name}" if deliver else None,
                      output_size=1000 + number)


def test_the_frames_processed_in_the_window_before_the_last_change_are_checked(tmp_path: Path):
    with Journal.open(tmp_path) as journal:
        processed(journal, 1, 1000.0)
        processed(journal, 2, 1500.0, deliver=False)  # waiting for repoDir: checked too
        processed(journal, 3, 2000.0)
        journal.request("mods1b.20251230.0004.fits", "/data/x", "mods1b", "datagram", 2100.0)
        recent = journal.written_lately(600.0)  # the last change: 2100
    assert [(record.name, record.output_size) for record in recent] == [
        ("mods1b.20251230.0002.fits", 1002), ("mods1b.20251230.0003.fits", 1003)]


def test_a_clean_stop_is_recorded_and_used_up_by_the_next_start(tmp_path: Path):
    assert not stopped_cleanly(tmp_path)  # never stopped cleanly: a first start, or a crash
    record_clean_stop(tmp_path, 1767064366.0)
    assert (tmp_path / CLEAN_STOP).read_text() == "1767064366.000\n"
    assert stopped_cleanly(tmp_path)
    assert not stopped_cleanly(tmp_path)
