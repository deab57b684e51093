"""Test holds (dataman/core/holds.py): a process stops itself where a test asked, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from dataman.core.holds import HOLDS_ENV, hold_point
from tests.service_harness import process_stopped, wait_until

CHILD = """
import sys
from dataman.core.holds import hold_point
hold_point("a.fits", "otm")
print("passed the hold point", flush=True)
"""


def run_child(holds: str | None) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if key != HOLDS_ENV}
    if holds is not None:
        env[HOLDS_ENV] = holds
    return subprocess.Popen([sys.executable, "-c", CHILD], env=env, text=True,
                            stdout=subprocess.PIPE)


def test_a_requested_hold_stops_the_process_until_it_is_continued(tmp_path):
    (tmp_path / "a.fits@otm").touch()
    child = run_child(str(tmp_path))
    try:
        claim = tmp_path / f"a.fits@otm.{child.pid}"
        wait_until(claim.exists, 30, what="the request claimed")
        wait_until(lambda: process_stopped(child.pid), 10, what="the child stopped")
        assert child.poll() is None
        os.kill(child.pid, signal.SIGCONT)
        out, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert out == "passed the hold point\n"
    assert not (tmp_path / "a.fits@otm").exists()  # claimed once: a retry is not held


def test_another_frames_request_does_not_hold(tmp_path):
    (tmp_path / "b.fits@otm").touch()
    out, _ = run_child(str(tmp_path)).communicate(timeout=30)
    assert out == "passed the hold point\n"
    assert (tmp_path / "b.fits@otm").exists()


def test_the_hold_point_is_a_no_op_without_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv(HOLDS_ENV, raising=False)
    (tmp_path / "c.fits@read").touch()
    hold_point("c.fits", "read")  # would stop this very process if it held
    assert (tmp_path / "c.fits@read").exists()
