"""``dataman-console`` in a real terminal (tmux), driven by keys, read from the screen."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.service_harness import frames, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

CONSOLE = Path(sys.executable).with_name("dataman-console")
#: The budget for an idle console, percent of one CPU.
IDLE_CPU_PERCENT = 3.0


class Terminal:
    """One tmux session on a private server socket, running ``command``."""

    def __init__(self, socket: Path, command: str, size: tuple[int, int]) -> None:
        self.base = ["tmux", "-S", str(socket)]
        self._tmux("new-session", "-d", "-s", "console", "-x", str(size[0]),
                   "-y", str(size[1]), command)

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.base, *args], capture_output=True, text=True,
                              check=check, timeout=10)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "console").stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "console", *keys)

    def wait_for(self, *texts: str, timeout: float = 30.0) -> str:
        return self.wait_screen(lambda shown: all(text in shown for text in texts),
                                f"{texts} on the screen", timeout)

    def wait_screen(self, holds: Callable[[str], bool], what: str,
                    timeout: float = 30.0) -> str:
        """The first screen for which ``holds(screen)``; fail after ``timeout``, showing it."""
        try:
            return wait_until(lambda: (lambda shown: shown if holds(shown) else "")(
                self.screen()), timeout, what=what, interval=0.1)
        except AssertionError as error:
            raise AssertionError(f"{error}; the screen:\n{self.screen()}") from None

    @property
    def alive(self) -> bool:
        return self._tmux("has-session", "-t", "console", check=False).returncode == 0

    def pane_processes(self) -> list[psutil.Process]:
        pid = int(self._tmux("display-message", "-p", "-t", "console", "#{pane_pid}").stdout)
        pane = psutil.Process(pid)
        return [pane, *pane.children(recursive=True)]

    def close(self) -> None:
        self._tmux("kill-server", check=False)


def console_process(terminal: Terminal) -> psutil.Process:
    return next(process for process in terminal.pane_processes()
                if any("dataman-console" in part for part in process.cmdline()))


def result_on_screen(shown: str, frame: str) -> tuple[str, str] | None:
    """The result and quality cells of ``frame``'s one row in the recent frames table,
    the two after the name (``None``: no single row). Log lines name the frame too, but
    always with its ``.fits``."""
    rows = [line for line in shown.splitlines() if f" {frame} " in line]
    if len(rows) != 1:
        return None
    cells = rows[0].strip(" │").split()
    quality, result = cells[cells.index(frame) + 1: cells.index(frame) + 3]
    return result, quality


def idle_cpu_percent(process: psutil.Process, seconds: float = 5.0) -> float:
    """Average CPU use over a measuring window (a duration, not a wait for something)."""
    start = process.cpu_times()
    time.sleep(seconds)
    end = process.cpu_times()
    return 100 * ((end.user - start.user) + (end.system - start.system)) / seconds


def test_console_in_tmux_shows_frames_obeys_keys_and_quits_leaving_the_service(
        service_factory):
    service = service_factory().start()
    terminal = Terminal(service.folder / "tmux.sock",
                        f"{CONSOLE} -c {service.config_path}", (100, 30))
    try:
        terminal.wait_for("RUNNING", "Workers", "Quit")
        raws = frames(service, 3)
        for raw in raws:
            service.send(raw)
        stems = [raw.name.removesuffix(".fits") for raw in raws]
        terminal.wait_screen(lambda shown: "3 delivered" in shown and all(
            result_on_screen(shown, stem) == ("ok", "OK") for stem in stems),
            "3 delivered, each frame's own row with quality OK and result ok")

        cpu = idle_cpu_percent(console_process(terminal))
        print(f"idle console CPU: {cpu:.2f}%")
        assert cpu < IDLE_CPU_PERCENT, f"idle console used {cpu:.1f}% CPU"

        terminal.keys("p")
        terminal.wait_for("PAUSED")
        terminal.keys("p")
        terminal.wait_for("RUNNING")
        terminal.keys("l")
        terminal.wait_for("WARNING and above")

        terminal.keys("q")
        wait_until(lambda: not terminal.alive, 10, what="the console to quit")
        assert service.snapshot().service.state == "running"
    finally:
        terminal.close()
    assert service.stop() == 0
