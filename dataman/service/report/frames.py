"""The frames of one observing night as the report shows them: the journal's and those
``dataman process`` recorded (:mod:`dataman.core.reprocessed`).

The journal is opened read-only, so a report can be written while the service
runs (sqlite's WAL lets a reader in beside the one writer); a journal of an
older dataMan (schema 1, no quality columns) is read as it is, its frames
shown without type or quality. A frame both in the journal and reprocessed is
shown as it was last processed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dataman.core import reprocessed
from dataman.core.names import night_of, without_name
from dataman.core.quality import AmpQuality, QualityReport
from dataman.ipc.states import FrameState, Source
from dataman.service.records import FILE_NAME, FrameRecord, JournalError


@dataclass(frozen=True)
class NightFrame:
    """One row of the report: what the frame is, how long it took, what was found."""

    record: FrameRecord
    quality: QualityReport | None

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def exposed(self) -> float | None:
        """When the exposure started (DATE-OBS, UTC epoch seconds); for the service's
        frames without it (a journal of an older dataMan, a failed frame) the request,
        which followed the readout within seconds; None for a frame ``dataman process``
        could not read (it was processed long after the night)."""
        exposed = exposure_start(self.record.date_obs)
        if exposed is None and not self.batch:
            return self.record.requested_at
        return exposed

    @property
    def time(self) -> float:
        """:attr:`exposed`, else when it was processed: what the frames are sorted by."""
        exposed = self.exposed
        return self.record.requested_at if exposed is None else exposed

    @property
    def batch(self) -> bool:
        """Processed by ``dataman process``, not live by the service."""
        return self.record.source is Source.BATCH

    @property
    def latency(self) -> float | None:
        """From the request to the copy in repoDir; none for a reprocessed frame."""
        if self.record.delivered_at is None or self.batch:
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
            return without_name(self.record.reason or "", self.name)
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


def exposure_start(text: str | None) -> float | None:
    """ISO UTC text (``2025-12-31T03:12:40.5``) as epoch seconds; None when not one.

    >>> exposure_start("2025-12-31T03:12:40.5"), exposure_start("[/]2025[bold")
    (1767150760.5, None)
    """
    try:
        moment = datetime.fromisoformat(text or "")
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def night_frames(state_dir: Path, start: float, end: float,
                 night: str | None = None) -> list[NightFrame]:
    """Frames requested in ``[start, end)`` and those ``dataman process`` did of ``night``,
    in order of exposure; none when there is neither."""
    frames = {frame.name: frame for frame in _journal_frames(state_dir, start, end)}
    for values in reprocessed.read(state_dir, night) if night else []:
        try:
            frame = _frame(batch_record(values))
        except (ValueError, TypeError, KeyError):
            continue  # written by a newer dataMan, or damaged: not shown
        known = frames.get(frame.name)
        if known is None or known.record.changed_at <= frame.record.changed_at:
            frames[frame.name] = frame
    # In order of exposure; a frame whose exposure time is unknown after them.
    return sorted(frames.values(), key=lambda frame: (frame.exposed is None, frame.time))


def batch_record(values: dict[str, Any]) -> FrameRecord:
    """A line of :mod:`dataman.core.reprocessed` as a journal record."""
    name = str(values["name"])
    done = float(values.get("processed_at") or 0.0)
    state = FrameState(values.get("state", "processed"))

    def path(key: str) -> Path | None:
        return Path(values[key]) if values.get(key) else None

    return FrameRecord(
        id=0, name=name, path=Path(values.get("path") or name), channel=name.split(".")[0],
        source=Source.BATCH, priority=1, state=state, attempts=0, delivery_retries=0,
        requested_at=float(values.get("started_at") or done), changed_at=done,
        started_at=values.get("started_at"), processed_at=done,
        delivered_at=done if state is FrameState.DELIVERED else None, pid=None,
        processed_path=path("processed_path"), delivered_path=path("delivered_path"),
        uniqname=values.get("uniqname"), timings=dict(values.get("timings") or {}),
        warnings=int(values.get("warnings") or 0), reason=values.get("reason"),
        **{key: values.get(key) for key in (
            "roi", "binning", "imagetyp", "exptime", "object_name", "qc_status", "qc_flags",
            "qc", "date_obs", "ccd_temp", "base_temp")})


def _journal_frames(state_dir: Path, start: float, end: float) -> list[NightFrame]:
    """Frames of the journal requested in ``[start, end)``; none without a journal."""
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
