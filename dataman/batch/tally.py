"""Counting a run's outcomes, and the summary table it ends with.

The table answers what an operator asks after reprocessing a night: how many
frames were processed, redone, skipped as already done, how many failed and
why, what was never started (ctrl+c), and how fast it went. The same rows
are drawn as a rich table on a terminal and as aligned text otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from dataman.batch.task import DONE, FAILED, REDONE, REFUSED, SKIPPED, Outcome
from dataman.core.errors import EXIT_INTERRUPTED as EXIT_INTERRUPTED  # re-exported

#: Exit status: every frame fine; some frame failed or was refused; interrupted by ctrl+c.
EXIT_OK, EXIT_FAILED = 0, 1


@dataclass
class Tally:
    """Outcomes as they come, the frames never started, and the run's wall time."""

    total: int
    workers: str = ""
    outcomes: list[Outcome] = field(default_factory=list)
    not_started: int = 0
    interrupted: bool = False
    stopped_because: str = ""  # why the run ended early other than ctrl+c (a pool broke)
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    def restart_clock(self) -> None:
        """Count time from now: the workers are up, the first frame is about to go."""
        self.started = time.monotonic()

    def finish(self, not_started: int) -> None:
        self.not_started = not_started
        self.ended = time.monotonic()

    @property
    def elapsed(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    @property
    def processed(self) -> int:
        """Frames written this run (new and redone): what the rate counts."""
        return self.count(DONE) + self.count(REDONE)

    @property
    def rate(self) -> float:
        return self.processed / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def problems(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status in (FAILED, REFUSED)]

    @property
    def exit_status(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILED if self.problems or self.stopped_because else EXIT_OK

    def rows(self) -> list[tuple[str, int, str]]:
        """(what, how many, remark) for the summary table; remarks only where there are frames."""
        rows = [("processed", self.count(DONE), "new outputs"),
                ("redone", self.count(REDONE), "--force: replaced under the same names"),
                ("skipped", self.count(SKIPPED), "done before; --force redoes them"),
                ("failed", self.count(FAILED), "reasons below"),
                ("refused", self.count(REFUSED), "bad input, reasons below")]
        if self.not_started or self.interrupted or self.stopped_because:
            why = self.stopped_because or "interrupted"
            rows.append(("not started", self.not_started,
                         f"{why}; run the same command again to finish"))
        return [(what, count, remark if count else "") for what, count, remark in rows]

    def speed(self) -> str:
        """``12 frames written in 3.1 s: 3.87 frames/s (2 worker processes on this machine)``"""
        where = f" ({self.workers})" if self.workers else ""
        return (f"{self.processed} frames written in {self.elapsed:.1f} s: "
                f"{self.rate:.2f} frames/s{where}")

    def closing_line(self) -> str:
        """One line for logs and scripts: ``12 of 12 frames processed in 3.1 s (3.87 frames/s)``."""
        return (f"{self.processed} of {self.total} frames processed in {self.elapsed:.1f} s "
                f"({self.rate:.2f} frames/s), {self.count(SKIPPED)} skipped, "
                f"{len(self.problems)} failed or refused, {self.not_started} not started")


def plain_table(tally: Tally) -> list[str]:
    """The summary as aligned text lines, the speed, then one line per problem."""
    rows = tally.rows()
    width = max(len(str(count)) for _, count, _ in rows)
    lines = ["summary:"]
    lines += [f"  {what:<12}{count:>{width}}  {remark}".rstrip() for what, count, remark in rows]
    lines.append(f"  {tally.speed()}")
    lines += [f"  {outcome.status}: {outcome.path}: {outcome.reason}"
              for outcome in tally.problems]
    return lines
