"""What ``dataman process`` shows while it works: one line per frame, a bar, a summary.

On a terminal the lines scroll above a progress bar with frames done, rate
and time left; otherwise (a pipe, a log file, cron, a test) the same lines
are printed and flushed one by one, with no escape codes. Either way the run
ends with the summary table of :mod:`dataman.batch.tally`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from dataman.batch.tally import Tally, plain_table
from dataman.batch.task import DONE, REDONE, SKIPPED, Outcome
from dataman.core.timings import format_step_timings

_WORDS = {DONE: "ok    ", REDONE: "redone", SKIPPED: "skip  "}


def frame_lines(outcome: Outcome) -> list[str]:
    """``ok     mods1b.20251230.0012.fits -> /newdata/mods1b.20251230.0012.fits  read 13ms ...``

    then one line per header warning. Failures and refusals name the path as given.
    """
    if outcome.status == SKIPPED:
        return [f"skip   {outcome.name}: {outcome.reason}"]
    if outcome.status not in (DONE, REDONE):
        return [f"{outcome.status.upper()} {outcome.path}: {outcome.reason}"]
    target = outcome.delivered or f"{outcome.processed} (not delivered)"
    flag = f" ({len(outcome.warnings)} warnings)" if outcome.warnings else ""
    timings = format_step_timings(outcome.timings, total=True)
    verdict = f"  quality {outcome.verdict}" if outcome.verdict else ""
    lines = [f"{_WORDS[outcome.status]} {outcome.name} -> {target}  {timings}{flag}{verdict}"]
    lines += [f"       warning: {warning}" for warning in outcome.warnings]
    lines += [f"       quality: {finding}" for finding in outcome.findings]
    return lines


class Display(Protocol):
    def started(self, tally: Tally) -> None: ...
    def finished(self, outcome: Outcome, tally: Tally) -> None: ...
    def note(self, text: str) -> None: ...


class PlainDisplay:
    """Lines on stdout, flushed at once, so a log or a reader of the pipe follows the run."""

    def started(self, tally: Tally) -> None:
        pass

    def finished(self, outcome: Outcome, tally: Tally) -> None:
        for line in frame_lines(outcome):
            print(line, flush=True)

    def note(self, text: str) -> None:
        print(text, flush=True)


class RateColumn(ProgressColumn):
    """Frames per second over the last half minute (rich's own speed estimate)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:.1f} frames/s")


class BarDisplay:
    """The same lines above a live bar: frames finished of all, rate, time left, counts."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("frames", total=None, counts="")

    def started(self, tally: Tally) -> None:
        self.progress.update(self.task, total=tally.total, completed=len(tally.outcomes))

    def finished(self, outcome: Outcome, tally: Tally) -> None:
        for line in frame_lines(outcome):
            self.note(line)
        counts = f"{tally.processed} done, {tally.count(SKIPPED)} skipped, " \
                 f"{len(tally.problems)} failed"
        self.progress.update(self.task, completed=len(tally.outcomes), counts=counts)

    def note(self, text: str) -> None:
        self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def open_display(*, terminal: bool | None = None) -> Iterator[Display]:
    """A bar on a terminal, plain lines otherwise; the bar is gone before the summary prints."""
    if not (sys.stdout.isatty() if terminal is None else terminal):
        yield PlainDisplay()
        return
    columns = (BarColumn(bar_width=24), MofNCompleteColumn(), RateColumn(),
               TimeRemainingColumn(), TextColumn("{task.fields[counts]}", markup=False))
    with Progress(*columns, console=Console(), transient=True) as progress:
        yield BarDisplay(progress)


def show_summary(tally: Tally, *, terminal: bool | None = None) -> None:
    """The summary table, then the failures with their reasons."""
    if not (sys.stdout.isatty() if terminal is None else terminal):
        print("\n".join(plain_table(tally)), flush=True)
        return
    console = Console()
    table = Table(title="dataman process", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_column("remark", style="dim")
    for what, count, remark in tally.rows():
        table.add_row(what, str(count), remark)
    console.print(table)
    console.print(tally.speed(), markup=False, highlight=False)
    for outcome in tally.problems:
        console.print(f"{outcome.status.upper()} {outcome.path}: {outcome.reason}",
                      markup=False, highlight=False, soft_wrap=True)
