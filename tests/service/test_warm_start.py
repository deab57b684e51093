"""Every frame as fast as the core: a worker maps every slot and warms up before it is
ready, and the command port opens only once every worker is. Structural facts only
(what is mapped, in which order things happen): the timings are bench_service.py's."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest

from dataman.ipc.protocol_requests import HealthRequest
from tests.service_harness import frames, slot_residency, wait_until

pytestmark = pytest.mark.slow
#: The test services' slots ([workers] slotSize = 1kx1k): 546 pages of raw blocks, then the
#: 1024 x 1024 float32 merged image (1024 pages), all resident.
MAPPED = (546 + 1024) * 4096
READY = re.compile(r"worker (\d) started \(pid (\d+)\) in [\d.]+ s "
                   r"\(slots mapped and warm-up [\d.]+ s\)")


def udp_bound(port: int) -> bool:
    """Whether a socket of this host is bound to UDP ``port`` (``/proc/net/udp[6]``)."""
    suffix = f":{port:04X}"
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with open(table) as lines:
            if any(line.split()[1].endswith(suffix) for line in list(lines)[1:]):
                return True
    return False


def test_the_command_port_opens_only_once_every_worker_is_warm(service_factory):
    service = service_factory(workers={"count": 2, "slots": 2}).start(wait=False)
    wait_until(lambda: service.check_alive() or udp_bound(service.config.server.port), 60,
               what="the UDP port", interval=0.002)
    snapshot = service.snapshot()
    assert snapshot is not None
    assert snapshot.service.state == "running"
    assert [worker.state for worker in snapshot.workers] == ["idle", "idle"]
    lines = service.log_text().splitlines()
    started = next(i for i, line in enumerate(lines) if "dataMan started" in line)
    ready = {(m[1], int(m[2])) for m in map(READY.search, lines[:started]) if m}
    assert ready == {(str(w.index), w.pid) for w in snapshot.workers}


def test_each_worker_has_every_slot_mapped_in_full_before_it_is_ready(service_factory):
    service = service_factory(workers={"count": 2, "slots": 3}).start()
    slots = service.slots()
    assert len(slots) == 3
    for worker in service.snapshot().workers:
        assert slot_residency(worker.pid) == dict.fromkeys(slots, MAPPED)
    for slot in slots:  # every page allocated by the owner at creation (tmpfs blocks)
        assert os.stat(f"/dev/shm/{slot}").st_blocks * 512 >= MAPPED


def test_a_replacement_worker_is_warm_before_it_takes_a_frame(service_factory):
    service = service_factory(workers={"count": 1, "slots": 1}).start()
    old = service.snapshot().workers[0].pid
    os.kill(old, signal.SIGKILL)

    def replacement() -> int | None:
        snapshot = service.snapshot()
        workers = snapshot.workers if snapshot else ()
        fresh = [w.pid for w in workers if w.state == "idle" and w.pid != old]
        return fresh[0] if fresh else None
    new = wait_until(replacement, 60, what="a replacement worker", interval=0.005)
    assert slot_residency(new) == dict.fromkeys(service.slots(), MAPPED)
    assert any(m and int(m[2]) == new for m in map(READY.search, service.log_text().splitlines()))
    raw = frames(service, 1)[0]
    service.send(raw)
    service.wait_states([raw.name])
    assert service.record(raw.name)["pid"] == new


def test_the_warm_up_leaves_no_trace(service_factory, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the workers' temporary folder
    service = service_factory().start()
    paths = service.config.paths
    for folder in (paths.data_dir, paths.proc_dir, paths.repo_dir, tmp_path):
        assert list(folder.iterdir()) == [], folder
    assert service.states() == {}
    assert ".fits" not in service.log_text()
    assert service.stop() == 0


def heavy_libraries_loaded(pid: int) -> set[str]:
    """Which of astropy and numpy have their compiled parts mapped in process ``pid``."""
    with open(f"/proc/{pid}/maps") as maps:
        paths = {line.split()[-1] for line in maps if "/" in line}
    return {name for name in ("astropy", "numpy")
            if any(f"/{name}/" in path for path in paths)}


def test_the_supervisor_loads_neither_astropy_nor_numpy(service_factory):
    """Only workers touch pixels and headers: a supervisor without them starts sooner
    (every worker is launched after its imports) and keeps 50 MB less. Checked on a
    running service that has delivered a frame, answered a snapshot and a health line."""
    service = service_factory(workers={"count": 1}).start()
    raw = frames(service, 1)[0]
    service.send(raw)
    service.wait_states([raw.name])
    assert service.snapshot() is not None
    assert service.control(HealthRequest())["line"].startswith("dataMan OK")
    supervisor = service.process.pid
    worker = service.snapshot().workers[0].pid
    assert heavy_libraries_loaded(worker) == {"astropy", "numpy"}  # the probe sees them
    assert heavy_libraries_loaded(supervisor) == set()
