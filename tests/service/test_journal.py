"""The journal: named transitions, de-duplication, order, crash recovery, named errors.

Time is injected (``now``) everywhere; the one real process is the SIGKILL test.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dataman.core.facts import FrameFacts, columns
from dataman.core.quality import Finding, QualityReport
from dataman.core.setups import Setup, SetupFrame
from dataman.ipc.states import FrameState
from dataman.service.journal import (
    FILE_NAME,
    IllegalTransition,
    Journal,
    JournalError,
    NightSummary,
    Transition,
    UnknownFrame,
)
from dataman.service.records import SCHEMA_VERSION, FrameRecord

QUEUED, RUNNING, PROCESSED, DELIVERED, FAILED = FrameState


def report_of(verdict: str | None) -> QualityReport | None:
    """A quality report with that verdict (None: the checks are off)."""
    findings = {"BAD": (Finding("IM2:dead", "IM2 data constant at 1012 DN"),),
                "WARN": (Finding("IM3:noise", "IM3 read noise 10.5 DN above 8"),), "OK": ()}
    return None if verdict is None else QualityReport(findings[verdict])


def raw(number: int, channel: str = "mods1b") -> str:
    return f"{channel}.20251230.{number:04d}.fits"


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.open(tmp_path) as opened:
        yield opened


def ask(journal: Journal, number: int, source: str = "datagram", now: float = 100.0) -> int:
    """Request frame ``number`` and return its id."""
    return journal.request(raw(number), f"/data/mods1b/{raw(number)}", "mods1b", source, now).id


def test_transition_table_is_the_documented_one() -> None:
    edges = {(t.name, t.source, t.target) for t in Transition}
    assert edges == {
        ("START", QUEUED, RUNNING), ("PROCESS", RUNNING, PROCESSED),
        ("DELIVER", PROCESSED, DELIVERED), ("FAIL", RUNNING, FAILED),
        ("REQUEUE", RUNNING, QUEUED), ("POSTPONE", RUNNING, QUEUED),
        ("REDELIVER", PROCESSED, PROCESSED), ("RETRY", FAILED, QUEUED),
        ("EXPIRE", QUEUED, FAILED)}


def test_a_frame_whose_raw_file_never_came_expires_from_the_queue(journal: Journal) -> None:
    ask(journal, 1), ask(journal, 2)
    expired = journal.expire([(1, "not found (waited 120 s)"), (2, "not found")], now=220.0)
    assert [(r.state, r.reason, r.attempts) for r in expired] == [
        (FAILED, "not found (waited 120 s)", 0), (FAILED, "not found", 0)]
    assert journal.pending() == []
    with pytest.raises(IllegalTransition):
        journal.expire([(1, "again")], now=221.0)


def test_postpone_queues_again_without_counting_an_attempt(journal: Journal) -> None:
    journal.request(raw(1), "/data/mods1b/" + raw(1), "mods1b", "datagram", 100.0)
    journal.start(1, pid=4242, now=101.0)
    waiting = journal.postpone(1, "still being written", now=102.0)
    assert (waiting.state, waiting.attempts, waiting.reason) == (QUEUED, 0,
                                                                 "still being written")
    journal.start(1, pid=4242, now=103.0)
    again = journal.requeue(1, "worker died", now=104.0)
    assert (again.state, again.attempts) == (QUEUED, 1)


def test_frame_goes_from_request_to_delivery(journal: Journal) -> None:
    request = journal.request(raw(1), "/data/mods1b/" + raw(1), "mods1b", "datagram", 100.0)
    assert (request.id, request.is_new, request.state) == (1, True, QUEUED)
    running = journal.start(1, pid=4242, now=101.0)
    assert (running.state, running.pid, running.started_at) == (RUNNING, 4242, 101.0)
    done = journal.processed(1, "/proc/20251230/" + raw(1), "mods1b.20251230.031245.fits",
                             {"read": 0.5, "otm": 0.25}, warnings=2, now=102.5)
    assert (done.state, done.processed_path, done.uniqname, done.timings, done.warnings) == (
        PROCESSED, Path("/proc/20251230/" + raw(1)), "mods1b.20251230.031245.fits",
        {"read": 0.5, "otm": 0.25}, 2)
    late = journal.delivery_retry(1, "/newdata: No space left on device", now=103.0)
    assert (late.state, late.delivery_retries, late.reason) == (
        PROCESSED, 1, "/newdata: No space left on device")
    delivered = journal.delivered(1, "/newdata/" + raw(1), now=110.0)
    assert (delivered.state, delivered.delivered_path, delivered.delivered_at) == (
        DELIVERED, Path("/newdata/" + raw(1)), 110.0)
    assert (delivered.requested_at, delivered.changed_at, delivered.attempts) == (100.0, 110.0, 0)


def test_failed_frame_keeps_its_reason_until_the_operator_retries(journal: Journal) -> None:
    ask(journal, 1)
    journal.start(1, 4242, 101.0)
    failed = journal.failed(1, "BadHeader: CONPARS missing", 102.0)
    assert (failed.state, failed.reason) == (FAILED, "BadHeader: CONPARS missing")
    retried = journal.retry(raw(1), 200.0)
    assert (retried.state, retried.attempts, retried.changed_at) == (QUEUED, 1, 200.0)
    assert [record.name for record in journal.pending()] == [raw(1)]


def test_worker_death_requeues_and_counts_the_attempt(journal: Journal) -> None:
    ask(journal, 1)
    journal.start(1, 4242, 101.0)
    again = journal.requeue(1, "worker 4242 killed by SIGKILL", 102.0)
    assert (again.state, again.attempts, again.reason) == (
        QUEUED, 1, "worker 4242 killed by SIGKILL")


@pytest.mark.parametrize("steps, illegal", [
    ([], "delivered"), ([], "failed"), (["start"], "start"),
    (["start", "processed"], "failed"), (["start", "processed", "delivered"], "delivered")])
def test_illegal_transition_raises_and_changes_nothing(journal: Journal, steps: list[str],
                                                       illegal: str) -> None:
    ask(journal, 1)
    calls: dict[str, Callable[[], object]] = {
        "start": lambda: journal.start(1, 4242, 101.0),
        "processed": lambda: journal.processed(1, "/proc/p", "u", {}, 0, 102.0),
        "delivered": lambda: journal.delivered(1, "/newdata/p", 103.0),
        "failed": lambda: journal.failed(1, "why", 103.0)}
    for step in steps:
        calls[step]()
    before = journal.get(1)
    with pytest.raises(IllegalTransition, match=raw(1)):
        calls[illegal]()
    assert journal.get(1) == before


def test_operator_cannot_retry_a_frame_that_did_not_fail(journal: Journal) -> None:
    ask(journal, 1)
    with pytest.raises(IllegalTransition, match="cannot RETRY a frame that is queued"):
        journal.retry(raw(1), 101.0)
    with pytest.raises(UnknownFrame, match=raw(9)):
        journal.retry(raw(9), 101.0)
    with pytest.raises(UnknownFrame, match="id 9"):
        journal.start(9, 4242, 101.0)


def test_known_name_is_not_queued_twice(journal: Journal) -> None:
    ask(journal, 1)
    assert journal.request(raw(1), "/elsewhere", "mods1b", "scan", 101.0).is_new is False
    journal.start(1, 4242, 102.0)
    assert journal.request(raw(1), "/x", "mods1b", "datagram", 103.0).state == RUNNING
    journal.processed(1, "/proc/p", "u", {}, 0, 104.0)
    journal.delivered(1, "/newdata/p", 105.0)
    again = journal.request(raw(1), "/x", "mods1b", "console", 106.0)
    assert (again.id, again.is_new, again.state) == (1, False, DELIVERED)
    assert journal.counts() == {QUEUED: 0, RUNNING: 0, PROCESSED: 0, DELIVERED: 1, FAILED: 0}


def test_failed_name_is_queued_again_by_a_new_request(journal: Journal) -> None:
    ask(journal, 1, source="scan")
    journal.start(1, 4242, 101.0)
    journal.failed(1, "FrameIncomplete: still being written", 102.0)
    again = journal.request(raw(1), "/data/mods1b/" + raw(1), "mods1b", "datagram", 150.0)
    assert (again.id, again.is_new, again.state) == (1, True, QUEUED)
    record = journal.get(1)
    assert (record.attempts, record.priority, record.requested_at) == (1, 0, 100.0)


def test_a_burst_repeating_names_records_each_once_and_retries_a_failed_one_once(
        journal: Journal) -> None:
    ask(journal, 1)
    journal.start(1, 4242, 101.0)
    journal.failed(1, "not FITS", 102.0)
    path = "/data/mods1b/"
    burst = [(raw(1), path + raw(1), "mods1b", "datagram"),
             (raw(2), path + raw(2), "mods1b", "datagram")] * 3
    answers = journal.request_many(burst, 110.0)
    assert [(a.id, a.is_new, a.state) for a in answers] == [
        (1, True, QUEUED), (2, True, QUEUED)] + [(1, False, QUEUED), (2, False, QUEUED)] * 2
    assert journal.get(1).attempts == 1  # retried once, not three times
    assert journal.counts() == {QUEUED: 2, RUNNING: 0, PROCESSED: 0, DELIVERED: 0, FAILED: 0}


def test_live_requests_run_before_scan_finds(journal: Journal) -> None:
    ask(journal, 1, "scan")
    ask(journal, 2, "datagram")
    ask(journal, 3, "scan")
    ask(journal, 4, "console")
    ask(journal, 3, "datagram")  # its datagram came late: live after all
    assert [r.name for r in journal.pending()] == [raw(2), raw(3), raw(4), raw(1)]


def test_delivery_waits_in_request_order(journal: Journal) -> None:
    for number in (1, 2, 3):
        ask(journal, number)
    for frame_id in (3, 1, 2):
        journal.start(frame_id, 4242, 101.0)
        journal.processed(frame_id, f"/proc/{frame_id}", f"u{frame_id}", {}, 0, 102.0)
    assert [r.id for r in journal.awaiting_delivery()] == [1, 2, 3]


def test_uniqname_of_the_first_attempt_survives_a_requeue(journal: Journal) -> None:
    ask(journal, 1)
    journal.start(1, 4242, 101.0)
    assert journal.set_uniqname(1, "mods1b.20251230.031245.fits") == "mods1b.20251230.031245.fits"
    journal.requeue(1, "worker died", 102.0)
    journal.start(1, 4343, 103.0)
    assert journal.set_uniqname(1, "mods1b.20251230.031250.fits") == "mods1b.20251230.031245.fits"
    done = journal.processed(1, "/proc/p", "mods1b.20251230.031250.fits", {}, 0, 104.0)
    assert (done.uniqname, done.attempts, done.pid) == ("mods1b.20251230.031245.fits", 1, 4343)


def test_running_frame_is_queued_again_after_a_supervisor_crash(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        ask(journal, 1)
        ask(journal, 2)
        journal.start(1, 4242, 101.0)
    with Journal.open(tmp_path) as journal:
        pending = journal.recover(now=500.0)
        assert [(r.name, r.state, r.attempts) for r in pending] == [
            (raw(1), QUEUED, 1), (raw(2), QUEUED, 0)]
        assert pending[0].reason == "supervisor stopped while worker 4242 ran it"


CHILD = """
import sys
from dataman.service.journal import Journal
journal = Journal.open(sys.argv[1])
number = 0
while True:
    number += 1
    name = f"mods1b.20251230.{number:04d}.fits"
    journal.request(name, "/data/" + name, "mods1b", "datagram", float(number))
    if number == 3:
        journal.start(3, 4242, 3.5)
    print(name, flush=True)
"""


def test_acknowledged_requests_survive_sigkill(tmp_path: Path) -> None:
    """A real child writes requests without pause; everything it acknowledged is there."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    acknowledged = [child.stdout.readline().strip() for _ in range(25)]
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=10) == -signal.SIGKILL
    child.stdout.close()
    assert acknowledged[-1] == raw(25)
    with Journal.open(tmp_path) as journal:
        assert all(journal.is_known(name) for name in acknowledged)
        assert journal.get(3).state == RUNNING
        pending = journal.recover(now=1000.0)
        assert (pending[2].name, pending[2].attempts) == (raw(3), 1)
        assert len(pending) >= 25


def test_night_summary_counts_frames_requested_in_the_window(journal: Journal) -> None:
    ask(journal, 1, now=50.0)  # before the night: not counted
    for number, requested in [(2, 100.0), (3, 110.0), (4, 120.0), (5, 130.0), (6, 140.0)]:
        ask(journal, number, now=requested)
    for frame_id, delivered_at in [(2, 104.0), (3, 120.0), (4, 121.0)]:  # latencies 4, 10, 1
        journal.start(frame_id, 4242, delivered_at - 0.5)
        journal.processed(frame_id, "/proc/p", "u", {}, 0, delivered_at - 0.25)
        journal.delivered(frame_id, "/newdata/p", delivered_at)
    journal.start(5, 4242, 131.0)
    journal.failed(5, "BadFrame: not FITS", 132.0)
    assert journal.night_summary(start=100.0, end=200.0) == NightSummary(
        requested=5, delivered=3, failed=[(raw(5), "BadFrame: not FITS")],
        latency_median=4.0, latency_max=10.0)
    assert journal.night_summary(300.0, 400.0) == NightSummary(0, 0, [], None, None)


def test_flagged_counts_processed_frames_per_quality_verdict(journal: Journal) -> None:
    verdicts = {2: "BAD", 3: "WARN", 4: "WARN", 5: "OK", 6: None, 7: "BAD"}
    for number, verdict in verdicts.items():
        frame_id = ask(journal, number, now=100.0 + number)
        journal.start(frame_id, 4242, 110.0)
        if number == 7:  # a failure: not counted
            journal.failed(frame_id, "BadFrame: not FITS", 111.0)
            continue
        journal.processed(frame_id, "/proc/p", "u", {}, 0, 111.0, facts=FrameFacts(),
                          quality=report_of(verdict))
    assert journal.flagged(100.0, 200.0) == {"BAD": 1, "WARN": 2}
    assert journal.flagged(300.0, 400.0) == {"BAD": 0, "WARN": 0}


def test_file_is_wal_with_schema_version(tmp_path: Path) -> None:
    Journal.open(tmp_path).close()
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


@pytest.fixture
def make_read_only() -> Iterator[Callable[[Path], None]]:
    """Make a folder unwritable even for root: ``chattr +i`` as root (a read-only bind
    mount where the file system has no immutable attribute), else chmod 555."""
    from tests.reliability.mounts import Mounts

    locked: list[Path] = []
    mounts = Mounts()

    def lock(folder: Path) -> None:
        if os.geteuid() != 0:
            folder.chmod(0o555)
        elif not shutil.which("chattr") or subprocess.run(
                ["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            mounts.read_only(folder)  # skips, with the reason, where mounts are refused
            return
        locked.append(folder)

    yield lock
    mounts.release_all()
    for folder in locked:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


@pytest.mark.parametrize("existing", [False, True])
def test_read_only_state_directory_is_a_named_error(
        tmp_path: Path, make_read_only: Callable[[Path], None], existing: bool) -> None:
    if existing:
        Journal.open(tmp_path).close()
    make_read_only(tmp_path)
    where = re.escape(str(tmp_path / FILE_NAME))
    with pytest.raises(JournalError, match=f"^{where}: .*cannot be written"):
        Journal.open(tmp_path)


def test_state_directory_under_a_file_is_a_named_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    state = tmp_path / "file" / "state"
    with pytest.raises(JournalError, match=rf"^{re.escape(str(state))}/{FILE_NAME}: .*"
                                           r"\(Not a directory\)"):
        Journal.open(state)


def test_corrupt_database_is_a_named_error(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"this is no database " * 300)
    where = re.escape(str(tmp_path / FILE_NAME))
    with pytest.raises(JournalError, match=f"^{where}: .*not a database; move the file aside"):
        Journal.open(tmp_path)


def test_journal_of_a_newer_dataman_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        db.execute("PRAGMA user_version = 7")
    db.close()
    with pytest.raises(JournalError,
                       match=f"schema version 7, this dataMan knows version {SCHEMA_VERSION}"):
        Journal.open(tmp_path)


def test_processed_and_delivered_can_be_recorded_in_one_step(journal: Journal) -> None:
    journal.request(raw(1), "/data/mods1b/" + raw(1), "mods1b", "datagram", 100.0)
    journal.start(1, pid=4242, now=101.0)
    record = journal.processed(1, "/proc/20251230/" + raw(1), "u.fits", {"read": 0.5}, 0,
                               now=102.0, delivered_path="/newdata/" + raw(1))
    assert (record.state, record.processed_at, record.delivered_at, record.delivered_path) == (
        DELIVERED, 102.0, 102.0, Path("/newdata/" + raw(1)))


#: The journal of dataMan before the quality columns (schema version 1), as it created it.
SCHEMA_1 = """
CREATE TABLE frames (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, path TEXT NOT NULL,
    channel TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('datagram', 'scan', 'console')),
    priority INTEGER NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('queued', 'running', 'processed', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0, delivery_retries INTEGER NOT NULL DEFAULT 0,
    requested_at REAL NOT NULL, changed_at REAL NOT NULL,
    started_at REAL, processed_at REAL, delivered_at REAL, pid INTEGER,
    processed_path TEXT, delivered_path TEXT, uniqname TEXT,
    timings TEXT NOT NULL DEFAULT '{}', warnings INTEGER NOT NULL DEFAULT 0, reason TEXT
);
CREATE INDEX frames_by_state ON frames (state, priority, id);
CREATE INDEX frames_by_request_time ON frames (requested_at);
"""


def columns_of(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        found = [(row[1], row[2]) for row in db.execute("PRAGMA table_info(frames)")]
    db.close()
    return found


def test_a_journal_of_schema_1_is_upgraded_in_place_and_keeps_its_frames(tmp_path: Path):
    old = tmp_path / "old"
    old.mkdir()
    with sqlite3.connect(old / FILE_NAME) as db:
        db.executescript(SCHEMA_1 + "PRAGMA user_version = 1;")
        db.execute("INSERT INTO frames (name, path, channel, source, priority, state,"
                   " requested_at, changed_at, processed_path, delivered_path, uniqname)"
                   " VALUES (?, ?, 'mods1b', 'datagram', 0, 'delivered', 100.0, 102.0, ?, ?, ?)",
                   (raw(1), "/data/mods1b/" + raw(1), "/proc/" + raw(1), "/newdata/" + raw(1),
                    "mods1b.20251230.031245.fits"))
    db.close()
    with Journal.open(old) as journal:
        record = journal.get(1)
        assert (record.name, record.state, record.uniqname) == (
            raw(1), DELIVERED, "mods1b.20251230.031245.fits")
        assert (record.roi, record.qc_status, record.qc_flags, record.qc) == (
            None, None, None, None)
        ask(journal, 2)
        journal.start(2, pid=1, now=101.0)
        facts = FrameFacts("full", "1x1", "FLAT", 8.0, "Slit flat")
        quality = QualityReport((Finding("IM2:dead", "IM2 data constant"),))
        record = journal.processed(2, "/proc/" + raw(2), "u.fits", {}, 0, now=102.0,
                                   facts=facts, quality=quality)
        assert (record.roi, record.binning, record.imagetyp, record.exptime,
                record.object_name, record.qc_status, record.qc_flags, record.qc) == (
            "full", "1x1", "FLAT", 8.0, "Slit flat", "BAD", "IM2:dead",
            {"findings": [["IM2:dead", "IM2 data constant"]], "amps": []})
        ask(journal, 3)
        journal.start(3, pid=1, now=103.0)
        record = journal.processed(3, "/proc/" + raw(3), "v.fits", {}, 0, now=104.0, facts=(
            FrameFacts("full", "1x1", "OBJECT", 300.0, "M42", date_obs="2025-12-31T03:12:40.5",
                       ccd_temp=-110.5, base_temp=-80.25)))
        assert (record.date_obs, record.ccd_temp, record.base_temp) == (
            "2025-12-31T03:12:40.5", -110.5, -80.25)
    with sqlite3.connect(old / FILE_NAME) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert db.execute("SELECT name FROM frames WHERE qc_status = 'BAD'").fetchall() == [
            (raw(2),)]
    db.close()
    Journal.open(tmp_path).close()
    assert columns_of(old / FILE_NAME) == columns_of(tmp_path / FILE_NAME)


def test_a_bug_that_failed_a_frame_leaves_its_traceback_in_the_record(journal: Journal):
    ask(journal, 1)
    journal.start(1, pid=1, now=101.0)
    trace = 'Traceback (most recent call last):\n  File "x.py", line 1\nKeyError: \'DETSEC\''
    record = journal.failed(1, f"{raw(1)}: internal error: KeyError('DETSEC')", 102.0,
                            detail=trace)
    assert (record.state, record.detail) == (FrameState.FAILED, trace)
    assert journal.get(1).detail == trace


def test_the_setup_of_a_processed_frame_is_kept_for_the_night_checklist(journal: Journal):
    for number, imagetyp, mask, flags in ((1, "OBJECT", "LS5x60x1.0", ""),
                                          (2, "COMP", "LS5x60x1.0", "COMP:lines"),
                                          (3, "FLAT", "LS5x60x0.6", "")):
        ask(journal, number)
        journal.start(number, pid=1, now=101.0)
        facts = FrameFacts("1kx1k", "2x2", imagetyp, 300.0, "NGC 1976", grating="G400L",
                           filter_name="Clear", mask=mask)
        quality = QualityReport(tuple(Finding(flag, "the lamps did not fire")
                                      for flag in flags.split()))
        journal.processed(number, "/proc/" + raw(number), "u.fits", {}, 0, now=102.0,
                          facts=facts, quality=quality)
    ask(journal, 4)  # queued: not in the checklist
    record = journal.get(3)
    assert (record.gratname, record.filtname, record.maskname) == (
        "G400L", "Clear", "LS5x60x0.6")
    wide = Setup("MODS1B", "G400L", "Clear", "LS5x60x1.0", "2x2", "1kx1k")
    assert journal.setup_frames(0.0, 1e12) == [
        SetupFrame(wide, "OBJECT", ""), SetupFrame(wide, "COMP", "COMP:lines"),
        SetupFrame(Setup("MODS1B", "G400L", "Clear", "LS5x60x0.6", "2x2", "1kx1k"), "FLAT",
                   "")]


def test_every_fact_of_a_frame_has_its_journal_column_and_record_field(journal: Journal):
    """A fact added to core/facts.py needs its column (a schema version) and nothing else:
    the journal writes and reads every field of FrameFacts by its column name."""
    names = {"roi", "binning", "imagetyp", "exptime", "object_name", "gratname", "filtname",
             "maskname", "date_obs", "ccd_temp", "base_temp"}  # as the schema names them
    db = sqlite3.connect(journal.path)
    try:
        table = {row[1] for row in db.execute("PRAGMA table_info(frames)")}
    finally:
        db.close()
    assert set(columns(FrameFacts())) == names and names <= table
    assert names <= {f.name for f in dataclasses.fields(FrameRecord)}
