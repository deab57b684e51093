"""kill -9 of a worker during read, OTM, write and delivery: retried, delivered once.

Each kill is aimed: the worker is stopped (SIGSTOP) when the service shows it at
the step -- or, for write and delivery, when its hidden temporary file is on
disk -- the step it is really in is read back, and only then is it killed. A
stop that landed elsewhere is let go and the next frame is tried, so the row
says which step was hit.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from dataman.core.publish import TEMPORARY
from tests.reliability.conftest import stop_at_step, stopped
from tests.service_harness import frames, wait_until

pytestmark = pytest.mark.slow
FULL = {"roi": "full", "binning": 1}
EXPECTED = "retried once, delivered exactly once; no partial, copy or temporary left"


def temporaries(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.is_dir() for p in folder.iterdir()
            if TEMPORARY.match(p.name)]


def busy_pid(service, name: str) -> int | None:
    for worker in (service.snapshot() or {}).get("workers", []):
        if worker["frame"] == name:
            return worker["pid"]
    return None


def conclude_kill(service, campaign, names, victim, what, evidence):
    campaign.settle(service, names)
    tally = campaign.count(service, names)
    record = service.record(victim)
    log = service.log_text()
    observed = (f"{what} ({evidence}); SIGKILL; {record['state']} after "
                f"{record['attempts']} retry, {record['delivery_retries']} delivery retries")
    ok = record["state"] == "delivered" and "killed by SIGKILL" in log
    campaign.conclude(f"kill -9 worker during {what.split()[-1]}", EXPECTED, observed, tally, ok)
    return record


@pytest.mark.parametrize("step", ["read", "otm"])
def test_kill_9_of_a_worker_during_a_step(service_factory, campaign, step):
    service = service_factory(workers={"count": 1}).start()
    names, hit = [], None
    for number in range(1, 6):
        raw = frames(service, 1, start=number, **FULL)[0]
        names.append(raw.name)
        service.send(raw)
        pid, actual = stop_at_step(service, raw.name, step)
        if actual == step:
            os.kill(pid, signal.SIGKILL)
            hit = raw.name
            break
        os.kill(pid, signal.SIGCONT)  # landed in the next step: let it go, try another
        service.wait_states([raw.name])
    assert hit is not None, f"no stop landed in {step} in {len(names)} tries"
    record = conclude_kill(service, campaign, names, hit, f"stopped in {step}",
                           f"hit at try {len(names)}")
    assert record["attempts"] == 1


def test_kill_9_of_a_worker_during_write(service_factory, campaign):
    service = service_factory(workers={"count": 1}).start()
    raw = frames(service, 1, **FULL)[0]
    night = service.config.paths.proc_dir / "20251230"
    repo = service.config.paths.repo_dir
    service.send(raw)
    wait_until(lambda: temporaries(night), 30, what="the write to start", interval=0.001)
    pid = busy_pid(service, raw.name)
    os.kill(pid, signal.SIGSTOP)
    wait_until(lambda: stopped(pid), 5, what=f"worker {pid} stopped")
    left = temporaries(night, repo)  # procDir and repoDir are written at once
    evidence = f"{len(left)} hidden temporaries being written"
    os.kill(pid, signal.SIGKILL)
    record = conclude_kill(service, campaign, [raw.name], raw.name, "stopped mid-file in write",
                           evidence)
    assert record["attempts"] == 1
    removed = [line for line in service.log_text().splitlines()
               if f"temporary files left by worker pid {pid}: " in line]
    assert len(removed) == 1, removed
    assert f"removed {len(left)} temporary files" in removed[0], (removed[0], left)
    assert sorted(removed[0].rsplit(": ", 1)[1].split()) == sorted(map(str, left))


def test_kill_9_of_a_worker_during_delivery(service_factory, campaign):
    service = service_factory(workers={"count": 1}, service={"deliveryRetryMax": 1}).start()
    repo = service.config.paths.repo_dir
    unmounted = repo.with_name("newdata-unmounted")
    repo.rename(unmounted)
    raw = frames(service, 1, **FULL)[0]
    service.send(raw)
    service.wait_states([raw.name], "processed")
    unmounted.rename(repo)  # the staging disk is back: the deferred copy starts
    wait_until(lambda: temporaries(repo), 30, what="the delivery copy to start",
               interval=0.001)
    pid = busy_pid(service, raw.name)
    os.kill(pid, signal.SIGSTOP)
    evidence = f"{len(temporaries(repo))} hidden temporary in repoDir"
    os.kill(pid, signal.SIGKILL)
    record = conclude_kill(service, campaign, [raw.name], raw.name,
                           "stopped mid-copy in deferred delivery", evidence)
    assert record["delivery_retries"] >= 2  # the missing disk, then the kill
