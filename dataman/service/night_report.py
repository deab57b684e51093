"""The night report, written by the service when an observing night ends, off its loop.

A thread runs ``dataman report --night D`` as a child process and logs what it
said. The child, not the thread, draws: matplotlib never loads into the
supervisor, and seconds of plotting never hold the loop's interpreter lock.
The loop only starts the thread; the page lands beside the night log.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("dataman")
#: Longest a report may take (a night of thousands of frames takes seconds).
REPORT_TIMEOUT = 600.0


class NightReports:
    """Starts one report per ended night; ``threads`` are those started, for a test to join.

    ``then`` is called with the night in the same thread once its report is done (or
    failed): the night's housekeeping, which must not hold the loop either.
    """

    def __init__(self, config_path: Path,
                 then: Callable[[str], object] = lambda night: None) -> None:
        self.config_path = config_path
        self.then = then
        self.threads: list[threading.Thread] = []

    def start(self, night: str) -> threading.Thread:
        thread = threading.Thread(target=self._write, args=(night,), name=f"report-{night}",
                                  daemon=True)
        self.threads = [t for t in self.threads if t.is_alive()] + [thread]
        thread.start()
        return thread

    def _write(self, night: str) -> None:
        try:
            self._report(night)
        finally:
            try:
                self.then(night)
            except Exception as error:  # housekeeping must never take the service down
                log.warning("night %s: housekeeping after the report failed: %r", night, error)

    def _report(self, night: str) -> None:
        command = [sys.executable, "-m", "dataman.cli", "report", "--night", night,
                   "-c", str(self.config_path)]
        try:
            run = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                                 text=True, timeout=REPORT_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            log.error("night %s: report not written: %s", night, error)
            return
        if run.returncode == 0:
            log.info("%s", run.stdout.strip())
        else:
            why = " ".join((run.stderr or run.stdout).split())[-500:]
            log.error("night %s: report not written (exit status %d): %s", night,
                      run.returncode, why)
