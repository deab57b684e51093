"""A damaged journal or UNIQNAME registry: set aside, a new one started, nothing lost.

The damage is real bytes in the real files between two runs of the service (a
disk error, a half-copied file). The service must start anyway, keep the bad
file beside the new one, say so at CRITICAL and on the health line, and end
with every frame of tonight delivered exactly once under one UNIQNAME each.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from astropy.io import fits

from dataman.ipc.protocol_requests import HealthRequest
from dataman.service.scan import nights_to_scan
from tests.service_harness import ServiceProcess, frames

pytestmark = pytest.mark.slow
GARBAGE = b"\xff\x00 not what was written here \x13" * 64


def copies(service: ServiceProcess) -> dict[str, tuple[str, int]]:
    """repoDir's FITS files: name -> (UNIQNAME, mtime in ns)."""
    return {path.name: (fits.getval(path, "UNIQNAME", ext=0), path.stat().st_mtime_ns)
            for path in service.config.paths.repo_dir.glob("*.fits")}


def first_night(service_factory) -> tuple[ServiceProcess, list[Path], list[Path]]:
    """A service that delivered three frames of tonight and stopped; two more frames
    written while it was down (their datagrams lost)."""
    service = service_factory(service={"scanInterval": 1}).start()
    night = nights_to_scan(datetime.now(UTC), service.config.site.utc_offset)[0]
    delivered = frames(service, 3, night=night)
    for raw in delivered:
        service.send(raw)
    service.wait_states([raw.name for raw in delivered])
    assert service.stop() == 0
    return service, delivered, frames(service, 2, start=4, night=night)


def second_night(service: ServiceProcess, campaign, names: list[str]) -> str:
    """Start again; once every frame is delivered, the health line."""
    service.start()
    campaign.settle(service, names)
    return str(service.control(HealthRequest())["line"])


def test_a_damaged_journal_is_set_aside_and_tonight_is_recovered(service_factory, campaign):
    service, delivered, missed = first_night(service_factory)
    before = copies(service)
    state = service.config.paths.state_dir
    (state / "journal.sqlite3").write_bytes(GARBAGE)  # a half-copied file: no WAL beside it
    for companion in ("journal.sqlite3-wal", "journal.sqlite3-shm"):
        (state / companion).unlink(missing_ok=True)
    names = [raw.name for raw in delivered + missed]
    line = second_night(service, campaign, names)
    after = copies(service)
    tally = campaign.count(service, names)
    kept = sorted(path.name for path in state.glob("journal.sqlite3.damaged-*"))
    log = service.log_text()
    untouched = all(after.get(name) == value for name, value in before.items())
    uniqnames = {uniqname for uniqname, _ in after.values()}
    observed = (f"kept {kept}; health {line.split(' : ', 1)[-1][:70]!r}; {len(after)} copies,"
                f" earlier ones {'untouched' if untouched else 'REWRITTEN'}; "
                f"delivered {tally.delivered}")
    ok = (kept and kept[0].startswith("journal.sqlite3.damaged-")
          and (state / kept[0]).read_bytes() == GARBAGE
          and "| CRITICAL |" in log and "not a database" in log
          and "journal damaged: set aside as" in line and line.startswith("dataMan WARNING")
          and tally.delivered == 5 and tally.failed == 0 and len(after) == 5
          and len(uniqnames) == 5 and untouched)
    campaign.conclude("journal damaged between runs", "set aside, kept, CRITICAL, scan "
                      "recovers: delivered once each", observed, tally, ok)


def test_a_damaged_uniqname_registry_is_set_aside_and_names_stay_unique(service_factory,
                                                                       campaign):
    service, delivered, missed = first_night(service_factory)
    before = copies(service)
    state = service.config.paths.state_dir
    night = delivered[0].name.split(".")[1]
    for marker in (state / "uniqnames" / "frames" / night).iterdir():
        marker.write_bytes(GARBAGE)
    names = [raw.name for raw in delivered + missed]
    line = second_night(service, campaign, names)
    after = copies(service)
    tally = campaign.count(service, names)
    kept = sorted(path.name for path in state.glob("uniqnames.damaged-*"))
    uniqnames = {uniqname for uniqname, _ in after.values()}
    log = service.log_text()
    observed = (f"kept {kept}; health {line.split(' : ', 1)[-1][:70]!r}; {len(after)} copies,"
                f" {len(uniqnames)} UNIQNAMEs; delivered {tally.delivered}")
    ok = (len(kept) == 1 and "| CRITICAL |" in log and "UNIQNAME registry damaged" in line
          and tally.delivered == 5 and tally.failed == 0 and len(after) == 5
          and len(uniqnames) == 5
          and all(after.get(name) == value for name, value in before.items()))
    campaign.conclude("UNIQNAME registry damaged between runs", "set aside, kept, CRITICAL, "
                      "new frames get new unique names", observed, tally, ok)
