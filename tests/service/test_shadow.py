"""A shadow night: a real service with systemd/shadow.ini's switches, beside another data
manager that owns the UDP port and repoDir."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
from configobj import ConfigObj

from dataman.core.nightlog import observing_date
from dataman.ipc.protocol_requests import StopRequest
from tests.compare_fixtures import NEW_OBJECT, STEP, copy_tree, inject_differences, section
from tests.service_harness import dataman_health, frames

pytestmark = pytest.mark.slow

SHADOW_INI = Path(__file__).parents[2] / "systemd" / "shadow.ini"


def shadow_switches() -> dict[str, dict[str, object]]:
    """The [server] and [service] keys of the documented shadow configuration (its paths
    are an instrument server's; the test's own folders take their place)."""
    shipped = ConfigObj(str(SHADOW_INI))
    assert set(shipped) == {"server", "paths", "service"}
    return {"server": dict(shipped["server"]), "service": dict(shipped["service"])}


def the_old_ones_repo(repo: Path) -> dict[str, tuple[bytes, int]]:
    """repoDir as the data manager in service left it: a delivered frame and MODS1B.new."""
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "mods1b.20251229.0001.fits").write_bytes(b"delivered by the other one")
    (repo / "MODS1B.new").write_text("mods1b.20251229.0001.fits\n")
    return listing(repo)


def listing(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every entry of ``folder``, hidden ones too, with its content and mtime; the folder's
    own mtime under the key ``.``."""
    found = {entry.name: (entry.read_bytes(), entry.stat().st_mtime_ns)
             for entry in folder.iterdir()}
    return found | {".": (b"", folder.stat().st_mtime_ns)}


def test_a_shadow_service_processes_what_the_scan_finds_and_touches_nothing_in_repo_dir(
        service_factory):
    switches = shadow_switches()
    assert switches == {"server": {"port": "0"},
                        "service": {"deliver": "False", "scanInterval": "10"}}
    # The shipped interval, 10 s, would be most of this test's time: a scan a second.
    service = service_factory(server=switches["server"],
                              service=switches["service"] | {"scanInterval": "1"})
    paths = service.config.paths
    before = the_old_ones_repo(paths.repo_dir)
    tonight = observing_date(datetime.now(UTC), service.config.site.utc_offset)
    early = frames(service, 2, night=tonight, instrument="MODS1B")
    service.start()
    assert not psutil.Process(service.process.pid).net_connections(kind="udp")
    service.wait_states([raw.name for raw in early], "processed")
    late = frames(service, 1, start=3, night=tonight, instrument="MODS1R")  # the next scan
    service.wait_states([raw.name for raw in late], "processed")

    for raw in early + late:
        record = service.record(raw.name)
        assert (record["state"], record["delivered_path"]) == ("processed", None)
        assert record["source"] == "scan"
        assert (paths.proc_dir / tonight / raw.name).is_file()
    run, _ = dataman_health(service.config_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("dataMan OK SHADOW (no delivery, no UDP) pid ")
    assert " done 3 failed 0" in run.stdout
    log = service.log_text()
    assert "no UDP port, frames found by the scan every 1 s" in log
    assert "SHADOW: nothing is delivered to repoDir" in log
    assert f"{late[0].name}: processed {paths.proc_dir / tonight / late[0].name}, " \
           "not delivered (shadow)" in log

    service.control(StopRequest())
    assert service.process.wait(30) == 0
    assert listing(paths.repo_dir) == before

    # The next morning: the other one's outputs (a copy, one file changed) against ours.
    old = copy_tree(paths.proc_dir / tonight, service.folder / "old")
    before_object, _ = inject_differences(old / early[1].name)
    run = subprocess.run([sys.executable, "-m", "dataman", "compare", str(old),
                          str(paths.proc_dir), "--night", tonight],
                         capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert section(run.stdout, "Unexpected header differences") == [
        "frame extension keyword old new",
        f"{early[1].name} PRIMARY OBJECT '{NEW_OBJECT}' '{before_object}'"]
    assert section(run.stdout, "Pixel differences") == [
        "frame extension pixels max |diff|", f"{early[1].name} IM2 1 {STEP}"]
    assert section(run.stdout, "Frames only in one folder") == ["(none)"]
    assert f"night {tonight}: 3 frames compared," in run.stdout


def test_a_shadow_service_started_again_does_not_deliver_what_it_processed(service_factory):
    service = service_factory(**shadow_switches())
    repo = service.config.paths.repo_dir
    assert not repo.exists()  # makeDirs made the other folders, not this one
    tonight = observing_date(datetime.now(UTC), service.config.site.utc_offset)
    raw = frames(service, 1, night=tonight)[0]
    service.start()
    service.wait_states([raw.name], "processed")
    service.control(StopRequest())
    assert service.process.wait(30) == 0
    service.start()  # the journal holds a processed frame: in shadow mode, that is the end
    assert service.states() == {raw.name: "processed"}
    service.control(StopRequest())
    assert service.process.wait(30) == 0
    assert not repo.exists()


def test_dataman_send_to_a_configuration_without_udp_port_says_so(tmp_path):
    from tests.conftest import write_config

    path = write_config(tmp_path, server={"port": 0}, service={"scanInterval": 10})
    run = subprocess.run([sys.executable, "-m", "dataman", "send", "quit", "-c", str(path)],
                         capture_output=True, text=True, check=False, timeout=30)
    assert run.returncode == 2
    assert run.stderr == (f"dataman send: {path}: [server] port = 0: that dataMan listens on "
                          "no UDP port (give --port to send elsewhere)\n")
