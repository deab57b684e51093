"""The campaign's fixtures: a recorder of rows and the accounting of a case's frames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability.accounting import Tally, account
from tests.reliability.report import Row, record
from tests.service_harness import ServiceProcess, wait_until

TERMINAL = ("delivered", "failed")


@dataclass
class Campaign:
    """What each case does at its end: let its frames settle, count them, record a row."""

    def settle(self, service: ServiceProcess, names: list[str], timeout: float = 90.0) -> None:
        """Wait until every frame is delivered or failed (the service must stay up)."""
        def settled() -> bool:
            service.check_alive()
            states = service.states()
            return all(states.get(name) in TERMINAL for name in names)
        if names:
            wait_until(settled, timeout, what=f"{len(names)} frames to settle", interval=0.1)

    def count(self, service: ServiceProcess, names: list[str]) -> Tally:
        paths = service.config.paths
        return account(paths.state_dir, paths.proc_dir, paths.repo_dir, names)

    def conclude(self, case: str, expected: str, observed: str, tally: Tally,
                 ok: bool = True, *, check: bool = True) -> bool:
        """Record the row, then fail the test if the case is not as expected or unclean
        (with ``check=False`` only return whether it is, for tests with several rows)."""
        problems = [f"{label}: {items}" for label, items in (
            ("lost", tally.lost), ("partial", tally.partial), ("extra outputs", tally.extra),
            ("leftover temporaries", tally.leftovers)) if items]
        if problems:
            observed += " -- " + "; ".join(problems)
        record(Row(case, expected, observed, tally.requested, tally.delivered, tally.failed,
                   len(tally.lost), ok and not problems))
        if check:
            assert not problems, "; ".join(problems)
            assert ok, observed
        return ok and not problems


@pytest.fixture
def campaign() -> Campaign:
    return Campaign()


def send_held_at_step(service: ServiceProcess, raw: Path, step: str,
                      timeout: float = 60.0) -> tuple[int, str | None]:
    """Send ``raw`` with its worker asked to hold at the start of ``step``; once held,
    its pid and the step the service shows it in (the step was reported before the hold)."""
    service.hold(raw.name, step)
    service.send(raw)
    pid = service.wait_held(raw.name, step, timeout)
    for _ in range(2):  # the second snapshot is answered after the worker's last messages
        snapshot = service.snapshot()
    workers = snapshot.workers if snapshot else ()
    steps = [w.step for w in workers if w.pid == pid]
    return pid, steps[0] if steps else None


@pytest.fixture
def mounts(service_factory):
    """Mounts made by a test, released before its service's folder is removed."""
    from tests.reliability.mounts import Mounts

    made = Mounts()
    yield made
    made.release_all()
