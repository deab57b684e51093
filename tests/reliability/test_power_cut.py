"""A power cut: the service and its workers killed at once, the newest outputs left empty.

The kill is real (SIGKILL to the whole process group, as a power cut stops
everything at once); the power cut's effect on files not yet written back is
made by hand, as ext4 leaves new files after a crash: zero bytes. The restart
must notice the unclean stop, check the recent outputs and redo exactly the
empty ones, under the same names and UNIQNAMEs, before it reports ready.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from astropy.io import fits

from dataman.core.fitscheck import fits_problem
from tests.service_harness import ServiceProcess, frames

pytestmark = pytest.mark.slow


def outputs(service: ServiceProcess, name: str) -> list[Path]:
    record = service.record(name)
    return [Path(record["processed_path"]), Path(record["delivered_path"])]


def power_cut(service: ServiceProcess) -> None:
    assert service.process is not None
    os.killpg(service.process.pid, signal.SIGKILL)  # the supervisor and every worker
    service.process.wait(10)


def test_a_power_cut_empties_the_newest_outputs_and_the_restart_redoes_exactly_those(
        service_factory, campaign):
    service = service_factory().start()
    raws = frames(service, 4)
    names = [raw.name for raw in raws]
    for raw in raws:
        service.send(raw)
    service.wait_states(names)
    before = {name: {path: (fits.getval(path, "UNIQNAME", ext=0), path.stat().st_mtime_ns)
                     for path in outputs(service, name)} for name in names}
    sizes = {name: service.record(name)["output_size"] for name in names}
    power_cut(service)
    cut = names[2:]
    for name in cut:
        for path in outputs(service, name):
            os.truncate(path, 0)
    service.start()  # returns once it reports ready
    log = service.log_text()
    restart = log.index("1 damaged" if len(cut) == 1 else f"{len(cut)} damaged")
    ready_at = log.index("dataMan started", restart)
    redone = [name for name in names if f"{name}: redone under the same names" in log]
    whole = all(fits_problem(path, sizes[name]) is None
                for name in names for path in outputs(service, name))
    same_names = all(
        path.exists() and fits.getval(path, "UNIQNAME", ext=0) == uniqname
        for name in names for path, (uniqname, _) in before[name].items())
    untouched = all(path.stat().st_mtime_ns == mtime
                    for name in names[:2] for path, (_, mtime) in before[name].items())
    repo = sorted(path.name for path in service.config.paths.repo_dir.glob("*.fits"))
    tally = campaign.count(service, names)
    observed = (f"redone {redone}; all outputs whole: {whole}; same names and UNIQNAMEs: "
                f"{same_names}; older ones untouched: {untouched}; repoDir {len(repo)} files")
    ok = (redone == cut and whole and same_names and untouched and repo == sorted(names)
          and all(restart < log.index(f"{name}: redone") < ready_at for name in cut)
          and tally.delivered == 4)
    campaign.conclude("power cut: newest outputs left empty", "restart redoes exactly those, "
                      "same names, before ready", observed, tally, ok)


def test_after_a_clean_stop_nothing_is_checked(service_factory, campaign):
    service = service_factory().start()
    raws = frames(service, 1)
    service.send(raws[0])
    service.wait_states([raws[0].name])
    assert service.stop() == 0
    assert (service.config.paths.state_dir / "clean-stop").exists()
    service.start()
    log = service.log_text()
    tally = campaign.count(service, [raws[0].name])
    ok = "no clean stop recorded" not in log.split("dataMan stopped")[-1]  # first start: yes
    assert not (service.config.paths.state_dir / "clean-stop").exists()  # used up
    campaign.conclude("clean stop, then start", "no check at start",
                      f"checked at start: {not ok}", tally, ok)
