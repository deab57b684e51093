"""kill -9 of the supervisor, then a restart: every frame delivered exactly once.

Two ways to die: with frames queued and in flight, and -- the hard one -- after
a worker reserved a UNIQNAME and delivered the frame but before the supervisor
journaled either (it is stopped first, so the worker's messages stay unread).
The retry must find the reservation and replace its own outputs: no duplicate
in repoDir and no ``<uniqname>.fits`` copy made by the retry itself.
"""

from __future__ import annotations

import os
import signal

import pytest
from astropy.io import fits

from tests.service_harness import frames, wait_until

pytestmark = pytest.mark.slow
EXPECTED = "after restart every frame delivered exactly once, no UNIQNAME copy"


def test_kill_9_of_the_supervisor_with_frames_queued_and_in_flight(service_factory, campaign):
    service = service_factory(workers={"count": 2}).start()
    raws = frames(service, 6)
    for raw in raws[:2]:  # one in each of the two workers, held in its OTM
        service.hold(raw.name, "otm")
    for raw in raws:
        service.send(raw)
    names = [raw.name for raw in raws]
    held = [service.wait_held(raw.name, "otm") for raw in raws[:2]]
    states = service.states()
    service.kill()
    for pid in held:  # orphans now: let them notice their supervisor is gone
        service.release(pid)
    service.start()
    campaign.settle(service, names, timeout=120)
    tally = campaign.count(service, names)
    running = sorted(n for n, s in states.items() if s == "running")
    observed = (f"killed with {len(running)} running, "
                f"{sum(s == 'queued' for s in states.values())} queued; restart swept the "
                f"slots and delivered {tally.delivered}/{len(names)}")
    ok = tally.delivered == len(names) and all(
        service.record(name)["attempts"] == 1 for name in running)
    campaign.conclude("kill -9 supervisor, frames queued + in flight", EXPECTED, observed,
                      tally, ok)
    assert "shared-memory slots left by a killed run" in service.log_text()


def test_kill_9_of_the_supervisor_after_delivery_before_the_journal(service_factory,
                                                                     campaign):
    service = service_factory(workers={"count": 1}).start()
    raw = frames(service, 1)[0]
    paths = service.config.paths
    service.hold(raw.name, "otm")
    service.send(raw)
    worker = service.wait_held(raw.name, "otm")
    os.kill(service.process.pid, signal.SIGSTOP)  # from here nothing the worker says is read
    service.release(worker)
    last_data = paths.repo_dir / "MODS1B.new"
    wait_until(lambda: last_data.exists() and last_data.read_text() == f"{raw.name}\n", 30,
               what="the worker to deliver")
    first_uniqname = fits.getval(paths.repo_dir / raw.name, "UNIQNAME")
    before = service.record(raw.name)
    service.kill()  # SIGKILL reaches a stopped process
    service.start()
    campaign.settle(service, [raw.name])
    tally = campaign.count(service, [raw.name])
    after = service.record(raw.name)
    uniqname = fits.getval(paths.repo_dir / raw.name, "UNIQNAME")
    markers = list((paths.state_dir / "uniqnames" / "names").rglob("*.fits"))
    observed = (f"journal had {before['state']}, uniqname {before['uniqname']}, while "
                f"repoDir had it as {first_uniqname}; retry reused {uniqname}, "
                f"{len(markers)} reservation, replaced its own outputs")
    ok = (before["state"] == "running" and before["uniqname"] is None
          and uniqname == first_uniqname == after["uniqname"] and len(markers) == 1
          and after["attempts"] == 1)
    campaign.conclude("kill -9 supervisor after delivery, before journaling", EXPECTED,
                      observed, tally, ok)
