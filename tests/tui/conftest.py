"""The console tests' helper: let a Pilot run until a condition holds (deadline included)."""

from __future__ import annotations

import time
from collections.abc import Callable


async def until(pilot, condition: Callable[[], object], timeout: float = 5.0,
                what: str = "condition") -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.02)
