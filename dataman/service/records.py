"""What the journal stores: frame states, the legal transitions, and the row types.

Kept apart from :mod:`dataman.service.journal` (the storage) so the supervisor,
the snapshot and the tests can speak about frames without sqlite.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from dataman.core.errors import DataManError
from dataman.core.facts import FrameFacts, columns, from_columns
from dataman.core.quality.report import QualityReport
from dataman.core.setups import Setup, SetupFrame
from dataman.ipc.states import FrameState, Source

FILE_NAME = "journal.sqlite3"
SCHEMA_VERSION = 6  # PRAGMA user_version; bump it with a step in ``MIGRATIONS``
SCHEMA = """
CREATE TABLE frames (
    id INTEGER PRIMARY KEY AUTOINCREMENT,        -- request order, never reused
    name TEXT NOT NULL UNIQUE,                   -- raw file name, one row per frame
    path TEXT NOT NULL,
    channel TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('datagram', 'scan', 'console')),
    priority INTEGER NOT NULL,                   -- 0 live request, 1 scan find: 0 first
    state TEXT NOT NULL
        CHECK (state IN ('queued', 'running', 'processed', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,         -- times queued again after a start
    delivery_retries INTEGER NOT NULL DEFAULT 0,
    requested_at REAL NOT NULL,                  -- first request: latency counts from here
    changed_at REAL NOT NULL,                    -- last change of state
    started_at REAL, processed_at REAL, delivered_at REAL,
    pid INTEGER,                                 -- worker of the last start
    processed_path TEXT, delivered_path TEXT,
    uniqname TEXT,                               -- kept from the first attempt
    timings TEXT NOT NULL DEFAULT '{}',          -- JSON {step: seconds}
    warnings INTEGER NOT NULL DEFAULT 0,
    reason TEXT,                                 -- why it last failed or was requeued
{columns}
);
CREATE INDEX frames_by_state ON frames (state, priority, id);
CREATE INDEX frames_by_request_time ON frames (requested_at);
"""
#: Columns of schema version 2: what the frame is and its quality, set when it is processed.
COLUMNS_2 = (
    "roi TEXT",                                  # readout window mode, e.g. full, 1kx1k
    "binning TEXT",                              # e.g. 1x1
    "imagetyp TEXT",                             # IMAGETYP after the fixes (OBJECT, BIAS, ...)
    "exptime REAL",                              # EXPTIME, seconds
    "object_name TEXT",                          # OBJECT
    "qc_status TEXT CHECK (qc_status IN ('OK', 'WARN', 'BAD'))",
    "qc_flags TEXT",                             # QCFLAGS, e.g. 'IM2:dead hdr:DATE-OBS'
    "qc TEXT",                                   # JSON: every finding and amplifier value
)
#: Columns of schema version 3: where a bug is found.
COLUMNS_3 = (
    "detail TEXT",                               # the traceback of an internal error
)
#: Columns of schema version 4: what a power cut may have cut short is checked against it.
COLUMNS_4 = (
    "output_size INTEGER",                       # bytes of the processed file (= the copy)
)
#: Columns of schema version 5: the setup the night's checklist groups by (core/setups.py).
COLUMNS_5 = (
    "gratname TEXT",                             # GRATNAME, e.g. G400L
    "filtname TEXT",                             # FILTNAME, e.g. Clear
    "maskname TEXT",                             # MASKNAME, e.g. LS5x60x1.0
)
#: Columns of schema version 6: when the exposure started and how cold the CCD was.
COLUMNS_6 = (
    "date_obs TEXT",                             # exposure start, ISO UTC (DATE-OBS, UTC-OBS)
    "ccd_temp REAL",                             # CCDTEMP, degC
    "base_temp REAL",                            # BASETEMP, degC
)
SCHEMA = SCHEMA.replace("{columns}", ",\n".join(
    f"    {column}" for column in COLUMNS_2 + COLUMNS_3 + COLUMNS_4 + COLUMNS_5 + COLUMNS_6))
#: Version n -> the SQL that brings a journal of version n to n + 1 (run in one transaction).
MIGRATIONS = {
    version: "".join(f"ALTER TABLE frames ADD COLUMN {column};" for column in columns)
    for version, columns in ((1, COLUMNS_2), (2, COLUMNS_3), (3, COLUMNS_4), (4, COLUMNS_5),
                             (5, COLUMNS_6))
}


class JournalError(DataManError):
    """The journal cannot be opened or written; the message gives its path and the reason."""


class IllegalTransition(DataManError):
    """A frame was asked to move along an edge the state machine does not have."""


class UnknownFrame(DataManError):
    """No frame with that id or name is in the journal."""


class Transition(Enum):
    """Every legal change of state, named; the value is (from, to)."""

    START = (FrameState.QUEUED, FrameState.RUNNING)
    PROCESS = (FrameState.RUNNING, FrameState.PROCESSED)
    DELIVER = (FrameState.PROCESSED, FrameState.DELIVERED)
    FAIL = (FrameState.RUNNING, FrameState.FAILED)
    REQUEUE = (FrameState.RUNNING, FrameState.QUEUED)  # the worker or the supervisor died
    # Same edge as REQUEUE but no attempt is counted: the raw file is not (completely)
    # there yet. The third item only keeps the two members distinct (no Enum alias).
    POSTPONE = (FrameState.RUNNING, FrameState.QUEUED, "postpone")
    REDELIVER = (FrameState.PROCESSED, FrameState.PROCESSED)  # delivery failed, try later
    RETRY = (FrameState.FAILED, FrameState.QUEUED)  # operator, or a new request
    EXPIRE = (FrameState.QUEUED, FrameState.FAILED)  # its raw file never came (waitForWrite)

    def __init__(self, source: FrameState, target: FrameState, *_: str) -> None:
        self.source = source
        self.target = target


@dataclass(frozen=True)
class Request:
    """Answer to :meth:`Journal.request`: ``is_new`` False means it is already known."""

    is_new: bool
    record: FrameRecord  # as it stands after the request

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def state(self) -> FrameState:
        return self.record.state


@dataclass(frozen=True)
class FrameRecord:
    """One frame as the journal knows it; field names are the column names."""

    id: int
    name: str
    path: Path
    channel: str
    source: Source
    priority: int
    state: FrameState
    attempts: int
    delivery_retries: int
    requested_at: float
    changed_at: float
    started_at: float | None
    processed_at: float | None
    delivered_at: float | None
    pid: int | None
    processed_path: Path | None
    delivered_path: Path | None
    uniqname: str | None
    timings: dict[str, float]
    warnings: int
    reason: str | None
    # Schema version 2: set when the frame is processed (core.facts.FrameFacts, by
    # column name: ``facts``, and the quality).
    roi: str | None = None
    binning: str | None = None
    imagetyp: str | None = None
    exptime: float | None = None
    object_name: str | None = None
    qc_status: str | None = None
    qc_flags: str | None = None
    qc: dict[str, Any] | None = None
    detail: str | None = None
    output_size: int | None = None
    # Schema version 5: the setup.
    gratname: str | None = None
    filtname: str | None = None
    maskname: str | None = None
    # Schema version 6.
    date_obs: str | None = None
    ccd_temp: float | None = None
    base_temp: float | None = None

    @property
    def facts(self) -> FrameFacts:
        """What the frame is, as its columns say (defaults where they are NULL)."""
        return from_columns(vars(self))

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> FrameRecord:
        values = dict(row)
        return cls(**values | {
            "path": Path(values["path"]), "source": Source(values["source"]),
            "state": FrameState(values["state"]), "timings": json.loads(values["timings"]),
            "processed_path": _path_or_none(values["processed_path"]),
            "delivered_path": _path_or_none(values["delivered_path"]),
            "qc": json.loads(values["qc"]) if values.get("qc") else None})


def processed_columns(facts: FrameFacts, quality: QualityReport | None,
                      output_size: int | None) -> dict[str, Any]:
    """The columns a processed frame fills: what it is (its facts, by column name), what
    the checks found (NULL when they are off) and the bytes written (version 4)."""
    return {**columns(facts),
            "qc_status": str(quality.status) if quality is not None else None,
            "qc_flags": quality.flags if quality is not None else None,
            "qc": json.dumps(quality.to_dict()) if quality is not None else None,
            "output_size": output_size}


#: The setup checklist's view of a night's processed frames (journal.setup_frames).
SETUP_QUERY = ("SELECT channel, gratname, filtname, maskname, binning, roi, imagetyp, qc_flags"
               " FROM frames WHERE requested_at >= ? AND requested_at < ?"
               " AND state IN ('processed', 'delivered') ORDER BY id")


def setup_frames_of(rows: Iterable[Sequence[Any]]) -> list[SetupFrame]:
    """Rows of :data:`SETUP_QUERY` (or a record's same fields) as checklist frames."""
    return [SetupFrame(Setup(str(channel).upper(), grating or "", filter_name or "",
                             mask or "", binning or "", roi or ""), imagetyp or "", flags or "")
            for channel, grating, filter_name, mask, binning, roi, imagetyp, flags in rows]


@dataclass(frozen=True)
class NightSummary:
    """What became of the frames requested in a time window; latency = delivered − requested."""

    requested: int
    delivered: int
    failed: list[tuple[str, str]]
    latency_median: float | None
    latency_max: float | None
    #: Delivered frames the quality checks flagged BAD, WARN.
    bad: int = 0
    warn: int = 0

    @property
    def pending(self) -> int:
        """Frames neither delivered nor failed (queued, running, awaiting delivery)."""
        return self.requested - self.delivered - len(self.failed)


def _path_or_none(text: str | None) -> Path | None:
    return Path(text) if text is not None else None
