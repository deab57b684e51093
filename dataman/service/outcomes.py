"""What the console and the log are told about a finished frame (``recent`` items)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dataman.ipc.jobs import JobDone
from dataman.service.records import FrameRecord


def latency_of(record: FrameRecord) -> float | None:
    """Seconds from the first request to the verified copy in repoDir."""
    if record.delivered_at is None:
        return None
    return record.delivered_at - record.requested_at


def frame_item(record: FrameRecord, done: JobDone | None, result: str, *,
               timings: dict[str, float] | None = None) -> dict[str, Any]:
    """One ``recent`` entry (control protocol): result is ok, warning, waiting or failed."""
    return {
        "name": record.name,
        "instrument": (done.instrument if done else None) or record.channel.upper(),
        "roi": done.roi if done else "",
        "binning": done.binning if done else "",
        "timings": dict(done.timings if done else timings or record.timings),
        "latency": latency_of(record),
        "processed": _text(record.processed_path) or (done.processed if done else None),
        "delivered": _text(record.delivered_path),
        "result": result,
        "reason": record.reason if result in ("failed", "waiting") else None,
        "warnings": list(done.warnings) if done else [],
        "finished_at": record.changed_at,
    }


def _text(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def step_timings(timings: dict[str, float]) -> str:
    """``read 13ms fixes 2ms otm 19ms write 40ms deliver 5ms`` for the log."""
    return " ".join(f"{step} {seconds * 1e3:.0f}ms" for step, seconds in timings.items())
