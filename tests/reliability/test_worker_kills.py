"""kill -9 of a worker during read, OTM, write and delivery: retried, delivered once.

Each kill is aimed: the worker holds itself (a test hold, dataman/core/holds.py)
at the start of the step -- or, for write and delivery, once its hidden
temporary file exists -- the step the service shows it in is read back, and
only then is it killed. Nothing races the worker, however fast the step.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from dataman.core.publish import TEMPORARY
from tests.reliability.conftest import send_held_at_step
from tests.service_harness import frames

pytestmark = pytest.mark.slow
EXPECTED = "retried once, delivered exactly once; no partial, copy or temporary left"


def temporaries(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.is_dir() for p in folder.iterdir()
            if TEMPORARY.match(p.name)]


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
    raw = frames(service, 1)[0]  # small: the hold, not the size, gives time to act
    pid, shown = send_held_at_step(service, raw, step)
    assert shown == step
    os.kill(pid, signal.SIGKILL)
    record = conclude_kill(service, campaign, [raw.name], raw.name, f"stopped in {step}",
                           f"held at the start of {step}")
    assert record["attempts"] == 1


def test_kill_9_of_a_worker_during_write(service_factory, campaign):
    service = service_factory(workers={"count": 1}).start()
    raw = frames(service, 1)[0]  # small: the hold, not the size, gives time to act
    night = service.config.paths.proc_dir / "20251230"
    repo = service.config.paths.repo_dir
    service.hold(raw.name, f"temporary.{night.name}")
    service.send(raw)
    pid = service.wait_held(raw.name, f"temporary.{night.name}")
    left = temporaries(night, repo)  # procDir's, and repoDir's if its thread got that far
    assert any(path.parent == night for path in left), left
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
    raw = frames(service, 1)[0]  # small: the hold, not the size, gives time to act
    service.hold(raw.name, f"temporary.{repo.name}")
    service.send(raw)
    service.wait_states([raw.name], "processed")
    unmounted.rename(repo)  # the staging disk is back: the deferred copy starts
    pid = service.wait_held(raw.name, f"temporary.{repo.name}")
    evidence = f"{len(temporaries(repo))} hidden temporary in repoDir"
    os.kill(pid, signal.SIGKILL)
    record = conclude_kill(service, campaign, [raw.name], raw.name,
                           "stopped mid-copy in deferred delivery", evidence)
    assert record["delivery_retries"] >= 2  # the missing disk, then the kill
