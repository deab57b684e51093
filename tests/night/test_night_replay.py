"""The whole night against the real service, then the archive's invariants (see replay.py)."""

from __future__ import annotations

import re

import pytest

from tests.night.consoles import tmux_available
from tests.night.replay import NightPlan, NightReplay, table
from tests.reliability.mounts import Mounts

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not tmux_available(), reason="tmux is not installed")]


@pytest.fixture
def night(service_factory):
    service = service_factory(workers={"count": 2, "slots": 3, "slotSize": "full"},
                              service={"scanInterval": 1, "deliveryRetryMax": 1,
                                       "waitForWrite": 3})
    mounts = Mounts(strict=True)  # once it can mount, a refused mount fails the night
    probe = service.folder / "probe"
    probe.mkdir()
    replay = NightReplay(service, NightPlan(), mounts if mounts.try_read_only(probe) else None)
    try:
        yield replay
    finally:
        replay.close()
        mounts.release_all()


def test_a_whole_night_keeps_the_archive_invariants(night):
    night.run()
    health, journal = night.health_against_journal()
    console_problems = night.console_problems()
    assert night.service.stop() == 0

    plain = night.morning()
    forced = night.morning("--force")
    account = night.account()
    print("\n" + "\n".join(f"{e.what}: {e.detail}" for e in night.events))
    print(table(account, len(night.consoles.sessions), len(console_problems)))

    assert account.problems() == []
    assert sorted(account.failed) == night.corrupt
    assert len(account.delivered) == len(account.requested) - len(night.corrupt)
    assert console_problems == []
    shown = dict(re.findall(r"(queue|done|failed) (\d+)", health))
    assert {key: int(value) for key, value in shown.items()} == {
        "queue": journal["queued"], "done": journal["delivered"], "failed": journal["failed"]}, \
        health

    skipped = [line for line in plain.stdout.splitlines() if line.startswith("skip")]
    assert plain.returncode == 1 and len(skipped) == len(account.delivered), plain.stdout
    redone = [line for line in forced.stdout.splitlines() if line.startswith("redone")]
    assert forced.returncode == 1 and len(redone) == len(account.delivered), forced.stdout
