"""The per-frame function of ``dataman process``: one frame in, a small ``Outcome`` out.

:func:`run_frame` is what every worker runs, a process of the local pool or a
Dask worker on another machine; there is no second path for the processing.
It decides for itself whether the frame was done before (so a rerun costs a
look at two headers per finished frame), processes it with
:func:`dataman.core.pipeline.process_frame` into buffers it keeps from frame to
frame, and returns a summary a few hundred bytes long: pixels never travel
back.

The worker's state (configuration and buffers) is made once per worker, by
the pool's initializer or on the first frame a Dask worker gets, and kept per
thread, since a Dask worker may run several tasks at once in threads.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from dataman.core.config import Config, load_config, with_synced_writes
from dataman.core.earlier import EarlierOutputs, earlier_outputs
from dataman.core.errors import DataManError
from dataman.core.facts import FrameFacts
from dataman.core.names import RAW_NAME
from dataman.core.pipeline import Buffers, process_frame
from dataman.core.quality import BiasTrend, QualityReport
from dataman.ipc.slots import FrameBudget

RAW_FORM = "<chan>.<YYYYMMDD>.<NNNN>.fits, e.g. mods1b.20251230.0012.fits"
REFUSED_NAME = f"not a raw frame name ({RAW_FORM})"

#: What became of a frame: processed now, processed again (forced), left as it
#: was, failed (unreadable, unwritable), or not taken at all (bad input, said why).
DONE, REDONE, SKIPPED, FAILED, REFUSED = "done", "redone", "skipped", "failed", "refused"


@dataclass(frozen=True)
class FrameJob:
    """One frame to process, and how; small and picklable (it travels to Dask workers)."""

    path: str
    config_source: str
    force: bool = False
    deliver: bool = True
    #: Outputs synced to disk before they are named (beside the running service).
    synced: bool = False

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass
class Outcome:
    """What a worker reports for one frame: never pixels, only names, times and reasons."""

    path: str
    status: str
    reason: str = ""
    uniqname: str | None = None
    processed: str | None = None
    delivered: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0  # wall time in the worker, skip checks included
    #: What a processed frame is and what its checks found (None: not processed, or the
    #: checks are off), for the run's log and the night report (``core.reprocessed``).
    instrument: str | None = None
    facts: FrameFacts | None = None
    quality: QualityReport | None = None

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def verdict(self) -> str:
        """The quality verdict (``OK``, ``WARN IM2:noise``, ...); empty when not checked."""
        quality = self.quality
        return f"{quality.status} {quality.flags}".strip() if quality is not None else ""

    @property
    def findings(self) -> list[str]:
        """One line per failed check."""
        quality = self.quality
        return [f"{f.flag}: {f.reason}" for f in quality.findings] if quality is not None else []

    @property
    def quality_log(self) -> str:
        """The night log's line for a flagged frame (empty when nothing was flagged)."""
        quality = self.quality
        return quality.summary() if quality is not None and quality.findings else ""


class _WorkerState(threading.local):
    config_source: str | None = None
    config: Config | None = None
    buffers: Buffers | None = None
    #: The night's bias trend as this worker has seen it (each worker keeps its own: the
    #: bias-jump check compares a frame with the frames this worker processed before it).
    trend: BiasTrend | None = None


_state = _WorkerState()


def init_worker(config_source: str) -> None:
    """The local pool's initializer: ignore ctrl+c, load the configuration, allocate buffers.

    ctrl+c in a terminal reaches every process of the group; stopping is the
    parent's call, which lets a frame being written finish instead of
    leaving it half done.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_state(config_source)


def _worker_state(config_source: str) -> tuple[Config, Buffers]:
    """This worker thread's configuration and buffers, made on first use and then kept."""
    if _state.config is None or _state.config_source != config_source:
        _quiet_logging()
        _state.config = load_config(config_source, check_dirs=False, create_dirs=False)
        _state.config_source = config_source
    if _state.buffers is None:
        budget = FrameBudget.largest()  # the same size as a service slot: any MODS frame fits
        _state.buffers = Buffers(raw=memoryview(bytearray(budget.raw_size)),
                                 merged=memoryview(bytearray(budget.merged_size)))
    return _state.config, _state.buffers


def _quiet_logging() -> None:
    """Workers do not log: the parent writes the night log from the outcomes, one writer."""
    logger = logging.getLogger("dataman")
    logger.handlers[:] = [logging.NullHandler()]
    logger.propagate = False


def run_frame(job: FrameJob) -> Outcome:
    """Process one frame, or say why not; never raises for anything a frame can cause."""
    start = time.perf_counter()
    outcome = _run(job)
    outcome.seconds = time.perf_counter() - start
    return outcome


def _run(job: FrameJob) -> Outcome:
    path = Path(job.path)
    if not RAW_NAME.match(path.name):
        return Outcome(job.path, REFUSED, REFUSED_NAME)
    try:
        config, buffers = _worker_state(job.config_source)
        config = with_synced_writes(config) if job.synced else config
        earlier = earlier_outputs(config, path.name)
        if not job.force:
            skip = _already_done(earlier, deliver=job.deliver)
            if skip:
                return Outcome(job.path, SKIPPED, skip, earlier.uniqname,
                               _text(earlier.processed), _text(earlier.delivered))
        result = process_frame(path, config, buffers=buffers, redo=earlier.uniqname is not None,
                               deliver=job.deliver, trend=_state.trend)
        _state.trend = result.trend or _state.trend
    except (DataManError, OSError) as error:
        return Outcome(job.path, FAILED, _reason(error))
    except Exception as error:  # a bug must cost one frame, not the whole run
        return Outcome(job.path, FAILED, f"internal error: {error!r}")
    return Outcome(job.path, REDONE if earlier.uniqname else DONE, "", result.uniqname,
                   _text(result.processed), _text(result.delivered), dict(result.timings),
                   list(result.warnings), instrument=result.instrument, facts=result.facts,
                   quality=result.quality)


def _already_done(earlier: EarlierOutputs, *, deliver: bool) -> str:
    """Why the frame needs nothing (empty when it does)."""
    if deliver and earlier.complete:
        return (f"already delivered as {earlier.delivered} (UNIQNAME {earlier.uniqname}); "
                "--force redoes it")
    if not deliver and earlier.processed is not None:
        return (f"already processed as {earlier.processed} (UNIQNAME {earlier.uniqname}); "
                "--force redoes it")
    return ""


def _reason(error: Exception) -> str:
    if isinstance(error, FileNotFoundError):
        return f"not found ({error.filename})" if error.filename else "not found"
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror} ({error.filename})" if error.filename else error.strerror
    return str(error)


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


def worker_pid() -> int:
    """For a pool's warm-up call: proves a worker is up and initialized."""
    return os.getpid()
