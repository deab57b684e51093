"""The journal: a durable record of every frame request and of what became of it.

The supervisor records a request here *before* it queues or acknowledges it, so
a crash never loses a frame: at the next start :meth:`Journal.recover` returns
every frame still to be processed and :meth:`Journal.awaiting_delivery` every
frame processed but not yet delivered. There is one row per raw file name, and
its state moves only along the named :class:`Transition` edges::

    QUEUED ──START──▶ RUNNING ──PROCESS──▶ PROCESSED ──DELIVER──▶ DELIVERED
      ▲│ ▲              │  │                  │  ▲
      ││ └──REQUEUE─────┘  FAIL               └──┘ REDELIVER (staging disk down)
      ││    POSTPONE       │
      │└──EXPIRE──────┐    ▼
      └──────RETRY───── FAILED        (EXPIRE: the raw file never appeared)

Storage is sqlite3, ``<stateDir>/journal.sqlite3``, in WAL mode with
``synchronous=FULL``: a method that changes a frame has committed and synced
when it returns, so neither a SIGKILL nor a power cut loses what it recorded.
Only the supervisor writes (one asyncio process, one connection, one thread),
so there is no lock contention to handle. Times are UTC epoch seconds passed in
by the caller (``now``): the state machine is tested without a clock.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dataman.core.facts import FrameFacts
from dataman.core.quality.report import QualityReport
from dataman.core.setups import SetupFrame
from dataman.ipc.states import FrameState, Source
from dataman.service.records import (
    FILE_NAME,
    MIGRATIONS,
    SCHEMA,
    SCHEMA_VERSION,
    SETUP_QUERY,
    FrameRecord,
    IllegalTransition,
    JournalError,
    NightSummary,
    Request,
    Transition,
    UnknownFrame,
    processed_columns,
    setup_frames_of,
)

__all__ = ["FILE_NAME", "FrameRecord", "FrameState", "IllegalTransition", "Journal",
           "JournalError", "NightSummary", "Request", "Source", "Transition", "UnknownFrame"]

Changes = dict[str, Any] | Callable[[FrameRecord], dict[str, Any]]


class Journal:
    """The supervisor's durable frame table; open it with :meth:`open`, one writer only."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    def open(cls, state_dir: str | Path) -> Journal:
        """Open or create ``<state_dir>/journal.sqlite3``; JournalError if unusable."""
        path = Path(state_dir) / FILE_NAME
        db = None
        try:
            db = sqlite3.connect(path, isolation_level=None)
            _prepare(db)
        except sqlite3.Error as exc:
            if db is not None:
                db.close()
            raise JournalError(f"{path}: cannot open the journal: {_reason(exc, path)}") from exc
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- requests and transitions -------------------------------------------------------

    def request(self, name: str, path: str | Path, channel: str, source: str,
                now: float) -> Request:
        """Record a request, committed on return; a known name is not queued twice."""
        return self.request_many([(name, path, channel, source)], now)[0]

    def request_many(self, requests: Iterable[tuple[str, str | Path, str, str]],
                     now: float) -> list[Request]:
        """Record (name, path, channel, source) requests in one transaction: one disk
        sync for a whole burst of datagrams. All are recorded or, on error, none.

        A request repeated within the burst (same name and source: a flood) is
        answered as the journal stands after the first one, without asking again.
        """
        answers: list[Request] = []
        seen: dict[tuple[str, str], Request] = {}
        with self._transaction():
            for name, path, channel, source in requests:
                answer = seen.get((name, source))
                if answer is None:
                    answer = self._request(name, path, channel, Source(source), now)
                    seen[name, source] = Request(False, answer.record)
                answers.append(answer)
        return answers

    def _request(self, name: str, path: str | Path, channel: str, source: Source,
                 now: float) -> Request:
        """One request, inside the caller's transaction."""
        record = self.is_known(name)
        if record is None:
            cursor = self._db.execute(
                "INSERT INTO frames (name, path, channel, source, priority, state,"
                " requested_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, str(path), channel, source, source.priority, FrameState.QUEUED,
                 now, now))
            return Request(True, self.get(cursor.lastrowid or 0))
        requeued = {"path": str(path), "source": source, "priority": source.priority}
        if record.state is FrameState.FAILED:
            self._apply(record, Transition.RETRY, now,
                        requeued | {"attempts": record.attempts + 1})
            return Request(True, self.get(record.id))
        if record.state is FrameState.QUEUED and source.priority < record.priority:
            # A scan find whose datagram came late: it is live after all.
            self._update(record.id, requeued)
            return Request(False, self.get(record.id))
        return Request(False, record)

    def adopt_delivered(self, name: str, path: str | Path, channel: str, uniqname: str,
                        processed_path: str | Path, delivered_path: str | Path,
                        now: float) -> FrameRecord:
        """Record a frame found already delivered (its outputs on disk carry ``uniqname``)
        by a journal started afresh: known, counted, never processed again."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO frames (name, path, channel, source, priority, state,"
                " requested_at, changed_at, processed_at, delivered_at, processed_path,"
                " delivered_path, uniqname, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " ?, ?, ?)",
                (name, str(path), channel, Source.SCAN, Source.SCAN.priority,
                 FrameState.DELIVERED, now, now, now, now, str(processed_path),
                 str(delivered_path), uniqname, "found delivered by the scan"))
            return self.get(cursor.lastrowid or 0)

    def start(self, frame_id: int, pid: int, now: float) -> FrameRecord:
        return self._move(frame_id, Transition.START, now, {"pid": pid, "started_at": now})

    def set_uniqname(self, frame_id: int, uniqname: str) -> str:
        """Record the UNIQNAME a worker reserved; the first one stays, and is returned."""
        with self._transaction():
            record = self.get(frame_id)
            if record.state is not FrameState.RUNNING:
                raise IllegalTransition(f"{record.name}: UNIQNAME set while {record.state}")
            if record.uniqname is None:
                self._update(frame_id, {"uniqname": uniqname})
            return record.uniqname or uniqname

    def processed(self, frame_id: int, processed_path: str | Path, uniqname: str,
                  timings: dict[str, float], warnings: int, now: float, *,
                  delivered_path: str | Path | None = None, facts: FrameFacts | None = None,
                  quality: QualityReport | None = None,
                  output_size: int | None = None) -> FrameRecord:
        """Processed, and with ``delivered_path`` also delivered: one transaction, one sync.

        ``facts`` (what the frame is), ``quality`` (what the checks found, None when
        they are off) and ``output_size`` are stored with it, all of them as soon as
        one is given; with none (a test's frame), their columns stay NULL.
        """
        given = facts is not None or quality is not None or output_size is not None
        outcome = processed_columns(facts or FrameFacts(), quality, output_size) if given else {}
        with self._transaction():
            self._apply(self.get(frame_id), Transition.PROCESS, now, lambda record: {
                "processed_path": str(processed_path), "uniqname": record.uniqname or uniqname,
                "timings": json.dumps(timings), "warnings": warnings, "processed_at": now,
                **outcome})
            if delivered_path is not None:
                self._apply(self.get(frame_id), Transition.DELIVER, now,
                            {"delivered_path": str(delivered_path), "delivered_at": now})
            return self.get(frame_id)

    def delivered(self, frame_id: int, delivered_path: str | Path, now: float) -> FrameRecord:
        return self._move(frame_id, Transition.DELIVER, now,
                          {"delivered_path": str(delivered_path), "delivered_at": now})

    def delivery_retry(self, frame_id: int, reason: str, now: float) -> FrameRecord:
        """Delivery failed (staging disk down or full): the frame waits, never dropped."""
        return self._move(frame_id, Transition.REDELIVER, now, lambda record: {
            "delivery_retries": record.delivery_retries + 1, "reason": reason})

    def failed(self, frame_id: int, reason: str, now: float,
               detail: str | None = None) -> FrameRecord:
        """The frame failed for ``reason``; ``detail`` keeps a bug's traceback."""
        return self._move(frame_id, Transition.FAIL, now, {"reason": reason, "detail": detail})

    def expire(self, expired: Iterable[tuple[int, str]], now: float) -> list[FrameRecord]:
        """Queued frames whose raw file did not appear within waitForWrite: (id, reason)
        pairs, failed in one transaction (a flood of them costs one disk sync)."""
        with self._transaction():
            for frame_id, reason in expired:
                self._apply(self.get(frame_id), Transition.EXPIRE, now, {"reason": reason})
        return [self.get(frame_id) for frame_id, _ in expired]

    def postpone(self, frame_id: int, reason: str, now: float) -> FrameRecord:
        """Back to the queue without counting an attempt: the raw file is not there or
        not complete yet, or the service stopped before the frame finished."""
        return self._move(frame_id, Transition.POSTPONE, now, {"reason": reason})

    def requeue(self, frame_id: int, reason: str, now: float) -> FrameRecord:
        """The worker died mid-frame: queue it again, counting the attempt."""
        return self._move(frame_id, Transition.REQUEUE, now, lambda record: {
            "attempts": record.attempts + 1, "reason": reason})

    def retry(self, name: str, now: float) -> FrameRecord:
        """The operator asks for a failed frame again."""
        record = self.is_known(name)
        if record is None:
            raise UnknownFrame(f"{self.path}: no frame named {name}")
        return self._move(record.id, Transition.RETRY, now,
                          lambda current: {"attempts": current.attempts + 1})

    def recover(self, now: float) -> list[FrameRecord]:
        """At supervisor start: frames left RUNNING by a dead supervisor are queued again.

        Call it once, before any :meth:`start`; returns :meth:`pending`.
        """
        for record in self._select("WHERE state = ?", (FrameState.RUNNING,)):
            self.requeue(record.id, f"supervisor stopped while worker {record.pid} ran it", now)
        return self.pending()

    # --- queries ------------------------------------------------------------------------

    def pending(self) -> list[FrameRecord]:
        """Queued frames in the order to run them: live requests first, then request order."""
        return self._select("WHERE state = ? ORDER BY priority, id", (FrameState.QUEUED,))

    def awaiting_delivery(self) -> list[FrameRecord]:
        """Processed frames not yet delivered, in request order (delivery stays in order)."""
        return self._select("WHERE state = ? ORDER BY id", (FrameState.PROCESSED,))

    def written_lately(self, window: float) -> list[FrameRecord]:
        """Frames processed (or delivered) within ``window`` seconds before the journal's
        last change: the outputs a power cut may have left short, in request order."""
        return self._select(
            "WHERE state IN (?, ?) AND processed_at >= "
            "(SELECT MAX(changed_at) FROM frames) - ? ORDER BY id",
            (FrameState.PROCESSED, FrameState.DELIVERED, window))

    def uniqnames_since(self, since: float) -> list[tuple[str, str]]:
        """(frame, UNIQNAME) of every frame given a name that changed since ``since``."""
        return [(name, uniqname) for name, uniqname in self._read(
            "SELECT name, uniqname FROM frames WHERE uniqname IS NOT NULL AND changed_at >= ?"
            " ORDER BY id", (since,))]

    def get(self, frame_id: int) -> FrameRecord:
        records = self._select("WHERE id = ?", (frame_id,))
        if not records:
            raise UnknownFrame(f"{self.path}: no frame with id {frame_id}")
        return records[0]

    def known_names(self, names: list[str]) -> set[str]:
        """Which of ``names`` the journal has, in one query per 500 names (the scan)."""
        known: set[str] = set()
        for start in range(0, len(names), 500):
            chunk = names[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            known.update(row[0] for row in self._read(
                f"SELECT name FROM frames WHERE name IN ({marks})", tuple(chunk)))
        return known

    def is_known(self, name: str) -> FrameRecord | None:
        return next(iter(self._select("WHERE name = ?", (name,))), None)

    def counts(self, start: float = 0.0, end: float = float("inf")) -> dict[FrameState, int]:
        """Frames per state, of those requested in ``[start, end)`` (default: all)."""
        rows = self._read("SELECT state, COUNT(*) FROM frames WHERE requested_at >= ?"
                          " AND requested_at < ? GROUP BY state", (start, end))
        return {state: 0 for state in FrameState} | {FrameState(s): n for s, n in rows}

    def flagged(self, start: float = 0.0, end: float = float("inf")) -> dict[str, int]:
        """Processed or delivered frames requested in ``[start, end)`` per quality verdict
        (``{'BAD': 1, 'WARN': 2}``; a verdict no frame has is 0)."""
        rows = self._read("SELECT qc_status, COUNT(*) FROM frames WHERE requested_at >= ?"
                          " AND requested_at < ? AND state IN (?, ?)"
                          " AND qc_status IN ('BAD', 'WARN') GROUP BY qc_status",
                          (start, end, str(FrameState.PROCESSED), str(FrameState.DELIVERED)))
        return {"BAD": 0, "WARN": 0} | dict(rows)

    def night_summary(self, start: float, end: float) -> NightSummary:
        """Frames requested in ``[start, end)``: how many delivered, which failed and why."""
        records = self._select("WHERE requested_at >= ? AND requested_at < ? ORDER BY id",
                               (start, end))
        latencies = [r.delivered_at - r.requested_at for r in records
                     if r.state is FrameState.DELIVERED and r.delivered_at is not None]
        return NightSummary(
            requested=len(records), delivered=len(latencies),
            bad=sum(1 for r in records if r.state is FrameState.DELIVERED
                    and r.qc_status == "BAD"),
            warn=sum(1 for r in records if r.state is FrameState.DELIVERED
                     and r.qc_status == "WARN"),
            failed=[(r.name, r.reason or "") for r in records if r.state is FrameState.FAILED],
            latency_median=statistics.median(latencies) if latencies else None,
            latency_max=max(latencies, default=None))

    def setup_frames(self, start: float, end: float) -> list[SetupFrame]:
        """Processed frames requested in ``[start, end)`` as the setup checklist sees them."""
        return setup_frames_of(self._read(SETUP_QUERY, (start, end)))

    # --- plumbing -----------------------------------------------------------------------

    def _move(self, frame_id: int, transition: Transition, now: float,
              changes: Changes) -> FrameRecord:
        with self._transaction():
            self._apply(self.get(frame_id), transition, now, changes)
            return self.get(frame_id)

    def _apply(self, record: FrameRecord, transition: Transition, now: float,
               changes: Changes) -> None:
        if record.state is not transition.source:
            raise IllegalTransition(f"{record.name}: cannot {transition.name} a frame that is"
                                    f" {record.state} (needs {transition.source})")
        values = changes(record) if callable(changes) else changes
        self._update(record.id, values | {"state": transition.target, "changed_at": now})

    def _update(self, frame_id: int, values: dict[str, Any]) -> None:
        # Column names come from this module only, never from a caller's data.
        assignments = ", ".join(f"{column} = ?" for column in values)
        self._db.execute(f"UPDATE frames SET {assignments} WHERE id = ?",
                         [*values.values(), frame_id])

    def _select(self, clause: str, args: tuple[Any, ...]) -> list[FrameRecord]:
        return [FrameRecord.from_row(row)
                for row in self._read(f"SELECT * FROM frames {clause}", args)]

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT; rolled back on any error, sqlite errors named."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: {exc}") from exc


def _prepare(db: sqlite3.Connection) -> None:
    """WAL, full sync, integrity and schema version checked, and a write proven possible."""
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    check = db.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise sqlite3.DatabaseError(f"database is damaged ({check})")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        db.executescript(f"BEGIN IMMEDIATE; {SCHEMA}"
                         f" PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        version = SCHEMA_VERSION
    elif version != SCHEMA_VERSION and version not in MIGRATIONS:
        raise sqlite3.DatabaseError(
            f"schema version {version}, this dataMan knows version {SCHEMA_VERSION}")
    while version < SCHEMA_VERSION:  # an older dataMan's journal: upgraded in place, kept
        db.executescript(f"BEGIN IMMEDIATE; {MIGRATIONS[version]}"
                         f" PRAGMA user_version = {version + 1}; COMMIT;")
        version += 1
    db.execute("BEGIN IMMEDIATE")
    db.execute("COMMIT")


def _reason(exc: sqlite3.Error, path: Path) -> str:
    """The operator's reason: the state directory's own error if it cannot be written."""
    try:
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as os_error:
        return f"state directory {path.parent} cannot be written ({os_error.strerror})"
    if "not a database" in str(exc) or "damaged" in str(exc) or "malformed" in str(exc):
        return f"{exc}; move the file aside to start a new journal"
    return str(exc)
