"""One run of ``dataman process``: select the frames, run them, show and log every outcome.

The command line (:mod:`dataman.commands.process`) builds :class:`Options`
and calls :func:`reprocess`; everything it prints and the exit status come
from here. The night log gets one line per frame, written by this process
alone (workers report, they do not log), as the service's supervisor does.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Self

from dataman.batch.display import Display, open_display, show_summary
from dataman.batch.runners import DaskRunner, LocalRunner, Report, RunEnd, StopFlag
from dataman.batch.tally import Tally
from dataman.batch.task import DONE, FAILED, REDONE, REFUSED, SKIPPED, FrameJob, Outcome
from dataman.batch.walk import select_frames
from dataman.core import reprocessed
from dataman.core.config import Config
from dataman.core.facts import columns
from dataman.core.names import without_name
from dataman.core.timings import format_step_timings

log = logging.getLogger("dataman")


@dataclass
class Options:
    paths: Sequence[Path]
    nights: Sequence[str] = ()
    jobs: int = 1
    scheduler: str | None = None
    force: bool = False
    deliver: bool = True
    terminal: bool | None = None  # None: a progress bar when stdout is a terminal
    #: Outputs synced to disk before they are named (``[processing] fsync``), beside the
    #: running service: the run's writes never make its live frames wait for the disk.
    synced: bool = False
    #: ``connect_timeout`` and ``worker_timeout`` of :class:`DaskRunner`, in seconds.
    cluster_timeouts: dict[str, float] = field(default_factory=dict)


class Runner(Protocol):
    @property
    def description(self) -> str: ...

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc_info: object) -> None: ...
    def run(self, jobs: Sequence[FrameJob], report: Report, stop: StopFlag,
            note: Callable[[str], None]) -> RunEnd: ...


def reprocess(config: Config, options: Options) -> Tally:
    """Process every frame ``options`` selects; returns the tally (its ``exit_status``)."""
    selection = select_frames(options.paths, set(options.nights),
                              outputs=(config.paths.proc_dir, config.paths.repo_dir))
    jobs = [FrameJob(str(path), str(config.source), options.force, options.deliver,
                     options.synced) for path in selection.frames]
    tally = Tally(len(jobs) + len(selection.refusals) + len(selection.other_nights))
    early = [Outcome(refusal.path, REFUSED, refusal.reason) for refusal in selection.refusals]
    early += [Outcome(str(path), SKIPPED, f"not of night {', '.join(options.nights)} (--night)")
              for path in selection.other_nights]
    with StopFlag() as stop:
        if not jobs:
            return _without_frames(config, tally, early, options)
        with _runner(config, options, len(jobs)) as runner:
            tally.workers = runner.description
            with open_display(terminal=options.terminal) as display:
                report = _reporter(tally, display, options.deliver, config.paths.state_dir)
                for outcome in early:
                    report(outcome)
                display.started(tally)
                tally.restart_clock()
                end = runner.run(jobs, report, stop, display.note)
    # ctrl+c during the last frames, with nothing left undone, interrupted nothing.
    tally.interrupted = stop.requested and end.not_started > 0
    tally.stopped_because = end.broken
    tally.finish(end.not_started)
    _close(tally, options)
    return tally


def _runner(config: Config, options: Options, frames: int) -> Runner:
    if options.scheduler:
        return DaskRunner(options.scheduler, **options.cluster_timeouts)
    return LocalRunner(max(1, min(options.jobs, frames)), str(config.source))


def _without_frames(config: Config, tally: Tally, early: list[Outcome],
                    options: Options) -> Tally:
    with open_display(terminal=options.terminal) as display:
        report = _reporter(tally, display, options.deliver, config.paths.state_dir)
        for outcome in early:
            report(outcome)
    tally.finish(0)
    _close(tally, options)
    return tally


def _reporter(tally: Tally, display: Display, deliver: bool, state_dir: Path) -> Report:
    def report(outcome: Outcome) -> None:
        tally.add(outcome)  # first: a line cut short by ctrl+c still counts
        _log(outcome, deliver)
        _record(state_dir, outcome)
        display.finished(outcome, tally)
    return report


def _record(state_dir: Path, outcome: Outcome) -> None:
    """Keep a processed or failed frame for the night report (a skipped one was kept
    when it was done; a refused one is no frame)."""
    if outcome.status not in (DONE, REDONE, FAILED):
        return
    now = time.time()
    state = ("failed" if outcome.status == FAILED
             else "delivered" if outcome.delivered else "processed")
    record = {"name": outcome.name, "path": outcome.path, "state": state,
              "processed_at": now, "started_at": now - outcome.seconds,
              "processed_path": outcome.processed, "delivered_path": outcome.delivered,
              "uniqname": outcome.uniqname, "timings": outcome.timings,
              "warnings": len(outcome.warnings),
              "reason": outcome.reason or None, **_facts(outcome)}
    try:
        reprocessed.append(state_dir, record)
    except OSError as error:  # the frame is done: the report misses it, the run goes on
        log.warning("%s: not recorded for the night report: %s", outcome.name, error)


def _facts(outcome: Outcome) -> dict[str, Any]:
    """What a processed frame is and its quality, named as the journal's columns are (the
    report reads both alike); nothing for a frame that failed."""
    if outcome.facts is None:
        return {}
    quality = outcome.quality
    return {**columns(outcome.facts), "instrument": outcome.instrument,
            "qc_status": str(quality.status) if quality is not None else None,
            "qc_flags": quality.flags if quality is not None else None,
            "qc": quality.to_dict() if quality is not None else None}


def _log(outcome: Outcome, deliver: bool) -> None:
    name = outcome.name
    if outcome.status in (DONE, REDONE):
        timings = format_step_timings(outcome.timings, total=True)
        verb = "delivered" if deliver else "written, not delivered:"
        redone = " (redone)" if outcome.status == REDONE else ""
        log.info("%s: %s %s%s (%s)", name, verb, outcome.delivered or outcome.processed,
                 redone, timings)
        for warning in outcome.warnings:
            log.warning("%s: %s", name, warning)
        if outcome.quality_log:
            log.warning("%s: quality %s", name, outcome.quality_log)
    elif outcome.status == SKIPPED:
        log.info("%s: skipped: %s", name, outcome.reason)
    elif outcome.status == FAILED:
        log.error("%s: failed: %s", name, without_name(outcome.reason, name))
    else:
        log.error("%s: refused: %s", outcome.path, outcome.reason)


def _close(tally: Tally, options: Options) -> None:
    """The summary on stdout; on stderr what went wrong, so a cron mail says it."""
    show_summary(tally, terminal=options.terminal)
    log.info("dataman process: %s", tally.closing_line())
    if tally.problems:
        print(f"{len(tally.problems)} of {tally.total} frames failed", file=sys.stderr)
    if tally.not_started:
        why = tally.stopped_because or "interrupted"
        print(f"{why}: {tally.not_started} frames not started; run the same command again "
              "to finish them", file=sys.stderr)
