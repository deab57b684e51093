"""Setting aside a damaged journal or UNIQNAME registry, and only a damaged one."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dataman.core.identity import UniqnameRegistry
from dataman.service.journal import FILE_NAME, Journal, JournalError
from dataman.service.salvage import check_registry, open_journal, registry_damage

AT = 1796613124.0  # 2026-12-07 03:12:04 UTC
NIGHT = "20261206"


def test_a_journal_that_is_not_a_database_is_kept_aside_and_a_new_one_started(tmp_path: Path):
    (tmp_path / FILE_NAME).write_bytes(b"half a copy " * 100)
    (tmp_path / f"{FILE_NAME}-wal").write_bytes(b"")
    journal, notices = open_journal(tmp_path, AT)
    with journal:
        assert journal.counts() == Journal.open(tmp_path).counts()  # empty, usable
    aside = tmp_path / f"{FILE_NAME}.damaged-20261207T031204Z"
    assert aside.read_bytes() == b"half a copy " * 100
    assert (tmp_path / f"{FILE_NAME}.damaged-20261207T031204Z-wal").exists()
    assert notices == [f"journal damaged: set aside as {aside}"]


def test_a_journal_of_a_newer_dataman_is_not_damage(tmp_path: Path):
    Journal.open(tmp_path).close()
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(JournalError, match="schema version 99"):
        open_journal(tmp_path, AT)
    assert sorted(path.name for path in tmp_path.iterdir() if "damaged" in path.name) == []


def marker(root: Path, night: str, raw: str, content: bytes) -> Path:
    path = root / "uniqnames" / "frames" / night / raw
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_a_registry_is_judged_by_the_markers_of_the_nights_about_to_be_used(tmp_path: Path):
    assert registry_damage(tmp_path / "uniqnames", [NIGHT]) is None  # none yet: fine
    marker(tmp_path, NIGHT, "mods1b.20261206.0001.fits", b"mods1b.20261207.031204.fits\n")
    marker(tmp_path, "20200101", "mods1b.20200101.0001.fits", b"old junk")  # not read
    assert registry_damage(tmp_path / "uniqnames", [NIGHT]) is None
    bad = marker(tmp_path, NIGHT, "mods1b.20261206.0002.fits", b"\xff\xfe")
    assert registry_damage(tmp_path / "uniqnames", [NIGHT]) == f"{bad} does not hold a name"
    bad.write_bytes(b"garbage")
    assert registry_damage(tmp_path / "uniqnames", [NIGHT]) == (
        f"{bad} holds 'garbage', not a UNIQNAME")


def test_a_damaged_registry_is_kept_aside_and_a_new_one_starts_empty(tmp_path: Path):
    marker(tmp_path, NIGHT, "mods1b.20261206.0002.fits", b"garbage")
    notices = check_registry(tmp_path, [NIGHT], AT)
    aside = tmp_path / "uniqnames.damaged-20261207T031204Z"
    assert notices == [f"UNIQNAME registry damaged: set aside as {aside}"]
    assert (aside / "frames" / NIGHT / "mods1b.20261206.0002.fits").read_bytes() == b"garbage"
    assert not (tmp_path / "uniqnames").exists()
    assert check_registry(tmp_path, [NIGHT], AT) == []


def test_a_new_registry_learns_the_names_the_journal_gave_lately(tmp_path: Path):
    """A frame processed right after the restart must not get the name of one processed
    in the same second before it: the new registry knows the journal's recent names."""
    marker(tmp_path, NIGHT, "mods1b.20261206.0002.fits", b"garbage")
    with Journal.open(tmp_path) as journal:
        for number, (uniqname, when) in enumerate(
                [("mods1b.20261207.031203.fits", AT - 1), ("mods1b.20261207.031204.fits", AT),
                 ("mods1b.20251101.020000.fits", AT - 40 * 86400)], start=1):
            record = journal.request(f"mods1b.20261206.{number:04d}.fits",
                                     f"/data/mods1b/mods1b.20261206.{number:04d}.fits",
                                     "mods1b", "datagram", when)
            journal.start(record.id, pid=4200, now=when)
            journal.set_uniqname(record.id, uniqname)
        check_registry(tmp_path, [NIGHT], AT, journal)
    registry = UniqnameRegistry(tmp_path)
    assert registry.uniqname_of("mods1b.20261206.0002.fits") == "mods1b.20261207.031204.fits"
    assert registry.uniqname_of("mods1b.20261206.0003.fits") is None  # 40 days old
    # A new frame processed in the same second as frame 2 gets the next name.
    when = datetime.fromtimestamp(AT, UTC)
    assert registry.assign("mods1b.20261206.0009.fits", "MODS1B", when) == \
        "mods1b.20261207.031204_2.fits"
