"""The frames of one observing night as the report shows them, read from the journal.

The journal is opened read-only, so a report can be written while the service
runs (sqlite's WAL lets a reader in beside the one writer); a journal of an
older dataMan (schema 1, no quality columns) is read as it is, its frames
shown without type or quality.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from dataman.core.names import night_of
from dataman.core.quality import AmpQuality, QualityReport
from dataman.service.records import FILE_NAME, FrameRecord, FrameState, JournalError


@dataclass(frozen=True)
class NightFrame:
    """One row of the report: what the frame is, how long it took, what was found."""

    record: FrameRecord
    quality: QualityReport | None

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def time(self) -> float:
        """When it was requested (UTC epoch seconds): the readout had just ended."""
        return self.record.requested_at

    @property
    def latency(self) -> float | None:
        if self.record.delivered_at is None:
            return None
        return self.record.delivered_at - self.record.requested_at

    @property
    def verdict(self) -> str:
        """OK, WARN, BAD, or the state of a frame that has none (failed, queued, ...)."""
        if self.record.state is FrameState.FAILED:
            return "FAILED"
        return self.record.qc_status or ("" if self.record.state in (
            FrameState.PROCESSED, FrameState.DELIVERED) else str(self.record.state))

    @property
    def reason(self) -> str:
        if self.record.state is FrameState.FAILED:
            return self.record.reason or ""
        if self.quality is None:
            return ""
        return "; ".join(finding.reason for finding in self.quality.findings)

    @property
    def amps(self) -> tuple[AmpQuality, ...]:
        return self.quality.amps if self.quality is not None else ()

    @property
    def night(self) -> str | None:
        """The night folder its thumbnail is in (the night in its name)."""
        return night_of(self.name)


def night_frames(state_dir: Path, start: float, end: float) -> list[NightFrame]:
    """Frames requested in ``[start, end)``, in request order; none when there is no journal."""
    path = state_dir / FILE_NAME
    if not path.is_file():
        return []
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise JournalError(f"{path}: cannot read the journal: {error}") from error
    try:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM frames WHERE requested_at >= ? AND requested_at < ?"
                          " ORDER BY requested_at, id", (start, end)).fetchall()
        return [_frame(FrameRecord.from_row(row)) for row in rows]
    except (sqlite3.Error, ValueError, TypeError) as error:
        raise JournalError(f"{path}: cannot read the journal: {error}") from error
    finally:
        db.close()


def _frame(record: FrameRecord) -> NightFrame:
    try:
        quality = QualityReport.from_dict(record.qc) if record.qc is not None else None
    except ValueError:
        quality = None  # written by a newer dataMan: shown without details
    return NightFrame(record, quality)
