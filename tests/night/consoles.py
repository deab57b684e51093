"""Real ``dataman-console`` processes in tmux, started one after another through a night.

Each console runs in its own tmux session on a private server, with
``remain-on-exit`` so that a console that dies keeps its last screen (the
traceback) for the report instead of vanishing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

CONSOLE = Path(sys.executable).with_name("dataman-console")
#: What an attached console shows in its header, whatever the service's state.
ATTACHED = ("RUNNING", "PAUSED", "STOPPING")


def tmux_available() -> bool:
    return shutil.which("tmux") is not None and CONSOLE.exists()


class Consoles:
    """Consoles attached to one service's configuration, each in a 120x40 terminal."""

    def __init__(self, socket: Path, config_path: Path) -> None:
        self.base = ["tmux", "-S", str(socket)]
        self.command = f"{CONSOLE} -c {config_path}"
        self.sessions: list[str] = []

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.base, *args], capture_output=True, text=True,
                              check=check, timeout=10)

    def start(self) -> str:
        """One more console; returns its session name."""
        name = f"console{len(self.sessions) + 1}"
        self._tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", self.command)
        self._tmux("set-option", "-t", name, "remain-on-exit", "on")
        self.sessions.append(name)
        return name

    def screen(self, name: str) -> str:
        return self._tmux("capture-pane", "-p", "-t", name).stdout

    def dead(self) -> list[str]:
        """The consoles whose process has exited (each with its last screen)."""
        found = []
        for name in self.sessions:
            shown = self._tmux("display-message", "-p", "-t", name, "#{pane_dead}",
                               check=False).stdout.strip()
            if shown != "0":
                found.append(f"{name} exited:\n{self.screen(name)}")
        return found

    def attached(self, name: str) -> bool:
        shown = self.screen(name)
        return any(word in shown for word in ATTACHED) and "Traceback" not in shown

    def close(self) -> None:
        self._tmux("kill-server", check=False)
