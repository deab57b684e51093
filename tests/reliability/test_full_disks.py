"""Full disks during a burst: procDir, stateDir and the thumbnails folder.

Small tmpfs file systems stand in for full disks (each small frame's outputs
are about 1.7 MB); everything else is real. A frame that finds no space waits,
health says why while it lasts, and every frame is delivered exactly once when
space returns, with no temporary left behind.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dataman.ipc.protocol_requests import HealthRequest
from dataman.service.scan import nights_to_scan
from tests.reliability.test_disks import fill
from tests.service_harness import ServiceProcess, frames, wait_until

pytestmark = pytest.mark.slow
BURST = 6


def health_line(service: ServiceProcess) -> str:
    return str(service.control(HealthRequest())["line"])


def delivered_once(service: ServiceProcess, names: list[str]) -> bool:
    """Every frame has exactly one copy in repoDir (raw name or UNIQNAME), none more."""
    repo = service.config.paths.repo_dir
    copies = [path for path in repo.iterdir() if path.suffix == ".fits"]
    return len(copies) == len(names) and all(
        service.states().get(name) == "delivered" for name in names)


def burst_into_a_full_folder(service: ServiceProcess, mounts, folder: Path,
                             stalled: str) -> tuple[list[str], str]:
    """``folder`` a 5 MB tmpfs (room for two frames' files of the burst), the burst sent:
    its frame names, and the health line once it says ``stalled``."""
    mounts.tmpfs(folder, "5m")
    raws = frames(service, BURST)
    for raw in raws:
        service.send(raw)
    line = wait_until(lambda: (text := health_line(service)) and stalled in text and text,
                      60, what=f"health to say {stalled}", interval=0.2)
    return [raw.name for raw in raws], line


def test_a_full_proc_dir_stalls_processing_until_space_returns(service_factory, mounts,
                                                                campaign):
    service = service_factory(service={"deliveryRetryMax": 1}).start()
    names, line = burst_into_a_full_folder(service, mounts, service.config.paths.proc_dir,
                                           "processing stalled")
    states_while_full = service.states()
    mounts.resize(service.config.paths.proc_dir, "64m")
    campaign.settle(service, names)
    wait_until(lambda: "processing stalled" not in health_line(service), 30,
               what="health to stop saying processing stalled", interval=0.2)
    tally = campaign.count(service, names)
    log = service.log_text()
    observed = (f"health while full: {line.split(' : ', 1)[-1][:90]!r}; failed while full "
                f"{list(states_while_full.values()).count('failed')}; after space returned "
                f"delivered {tally.delivered}, failed {tally.failed}")
    ok = (line.startswith("dataMan WARNING") and "No space left on device" in line
          and "failed" not in states_while_full.values() and tally.delivered == BURST
          and tally.failed == 0 and delivered_once(service, names)
          and "processing resumed" in log)
    campaign.conclude("procDir full during a burst, then space again",
                      "frames wait in the queue, health says why, all delivered once",
                      observed, tally, ok)


def test_a_full_repo_dir_during_a_burst_waits_and_says_so(service_factory, mounts, campaign):
    service = service_factory(service={"deliveryRetryMax": 1}).start()
    names, line = burst_into_a_full_folder(service, mounts, service.config.paths.repo_dir,
                                           "delivery stalled")
    mounts.resize(service.config.paths.repo_dir, "64m")
    campaign.settle(service, names)
    tally = campaign.count(service, names)
    observed = (f"health while full: {line.split(' : ', 1)[-1][:90]!r}; after space returned "
                f"delivered {tally.delivered}, failed {tally.failed}")
    ok = (line.startswith("dataMan WARNING") and "No space left on device" in line
          and tally.delivered == BURST and delivered_once(service, names))
    campaign.conclude("repoDir full during a burst, then space again",
                      "frames wait in procDir, health says why, all delivered once",
                      observed, tally, ok)


def test_an_unwritable_thumbnail_folder_never_fails_a_frame(service_factory, campaign):
    service = service_factory().start()
    thumbnails = service.config.paths.state_dir / "thumbnails"
    thumbnails.mkdir(exist_ok=True)
    (thumbnails / "20251230").write_text("not a folder\n")  # the night's folder cannot be made
    raws = frames(service, 2)
    names = [raw.name for raw in raws]
    for raw in raws:
        service.send(raw)
    campaign.settle(service, names)
    tally = campaign.count(service, names)
    said = service.log_text().count("thumbnail not kept")
    ok = tally.delivered == 2 and said == 2
    campaign.conclude("thumbnail folder unwritable", "frames delivered, warning logged",
                      f"delivered {tally.delivered}, 'thumbnail not kept' logged {said}x",
                      tally, ok)


def test_a_full_state_dir_says_requests_are_not_recorded_until_it_recovers(
        service_factory, mounts, campaign):
    service = service_factory(service={"scanInterval": 1, "deliveryRetryMax": 1})
    state = service.config.paths.state_dir
    mounts.tmpfs(state, "8m")
    service.start()
    night = nights_to_scan(datetime.now(UTC), service.config.site.utc_offset)[0]
    filler = state / "filler"
    assert fill(filler)
    raws = frames(service, BURST, night=night)
    names = [raw.name for raw in raws]

    def refused() -> str | None:
        for raw in raws:
            service.send(raw)
        line = health_line(service)
        return line if "requests not recorded" in line else None
    line = wait_until(refused, 60, what="health to say requests are not recorded",
                      interval=0.5)
    filler.unlink()
    campaign.settle(service, names, timeout=120)
    wait_until(lambda: "requests not recorded" not in health_line(service), 30,
               what="health to stop saying requests are not recorded", interval=0.2)
    service.stop()
    tally = campaign.count(service, names)
    log = service.log_text()
    summary = [text for text in log.splitlines() if "requests not recorded from" in text]
    observed = (f"health while full: {line.split(' : ', 1)[-1][:80]!r}; summary line "
                f"{'present' if summary else 'MISSING'}; delivered {tally.delivered}")
    ok = ("database or disk is full" in line and tally.delivered == BURST
          and tally.failed == 0 and delivered_once(service, names) and bool(summary)
          and "requests are NOT being recorded" in log)
    campaign.conclude("stateDir full during a burst, then space again",
                      "health/console/summary say requests not recorded; scan recovers all",
                      observed, tally, ok)
