"""The service end to end: real ``dataman run``, real datagrams, real worker processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits

from dataman.ipc.protocol_requests import PauseRequest
from tests.service_harness import dataman_shm, frames, wait_until

pytestmark = pytest.mark.slow


def test_a_requested_frame_is_processed_delivered_and_logged(service_factory):
    service = service_factory(workers={"slotSize": "full"}).start()  # a full frame, end to end
    raw = frames(service, 1, roi="full", binning=1)[0]
    service.send(raw)
    service.wait_states([raw.name])
    paths = service.config.paths
    processed = paths.proc_dir / "20251230" / raw.name
    delivered = paths.repo_dir / raw.name
    assert processed.read_bytes() == delivered.read_bytes()
    assert (paths.repo_dir / "MODS1B.new").read_text() == f"{raw.name}\n"
    with fits.open(delivered) as hdus:
        merged = hdus["MERGED"].data
        assert merged.shape == (3088, 8292) and np.isfinite(merged).all()
        assert hdus[0].header["UNIQNAME"].startswith("mods1b.")
    record = service.record(raw.name)
    assert record["delivered_at"] >= record["requested_at"]
    assert set(json.loads(record["timings"])) == {"read", "fixes", "otm", "checks", "write",
                                                  "deliver", "thumbnail"}
    log = service.log_text()
    assert f"{raw.name}: requested by 127.0.0.1" in log
    assert f"{raw.name}: delivered {delivered}" in log
    assert service.stop() == 0


def test_a_frame_s_quality_reaches_the_journal_the_night_log_and_the_thumbnails(
        service_factory):
    service = service_factory().start()
    clean, saturated = frames(service, 1)[0], frames(service, 1, start=2,
                                                      saturated={"IM3": 0.05})[0]
    for raw in (clean, saturated):
        service.send(raw)
    service.wait_states([clean.name, saturated.name])
    good, bad = service.record(clean.name), service.record(saturated.name)
    assert (good["qc_status"], good["qc_flags"]) == ("OK", "")
    assert (bad["qc_status"], bad["qc_flags"]) == ("WARN", "IM3:sat")
    assert (bad["roi"], bad["binning"], bad["imagetyp"], bad["exptime"], bad["object_name"]) == (
        "1kx1k", "2x2", "OBJECT", 300.0, "NGC 1976")
    # The exposure start and the temperatures fixTemps set from the CONPARS table.
    assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?", bad["date_obs"])
    assert isinstance(bad["ccd_temp"], float) and isinstance(bad["base_temp"], float)
    assert json.loads(bad["qc"])["findings"] == [
        ["IM3:sat", "IM3 5.00% of pixels at 65535 (limit 1.00%)"]]
    log = service.log_text()
    assert f"| WARNING | {saturated.name}: quality WARN IM3:sat (IM3 5.00%" in log
    assert f"{clean.name}: quality" not in log
    thumbnails = service.config.paths.state_dir / "thumbnails" / "20251230"
    assert sorted(p.name for p in thumbnails.iterdir()) == [
        "mods1b.20251230.0001.png", "mods1b.20251230.0002.png"]
    assert service.stop() == 0


def test_a_burst_of_50_datagrams_delivers_each_frame_exactly_once(service_factory):
    service = service_factory(workers={"count": 2}).start()  # two frames at once, as at night
    raws = frames(service, 25) + frames(service, 25, instrument="MODS1R")
    for raw in raws:
        service.send(raw)
    service.wait_states([raw.name for raw in raws], timeout=120)
    delivered = sorted(p.name for p in service.config.paths.repo_dir.glob("*.fits"))
    assert delivered == sorted(raw.name for raw in raws)
    assert service.stop() == 0
    assert "50 requested, 50 delivered, 0 failed" in service.log_text()


def test_the_same_datagram_twice_processes_the_frame_once(service_factory):
    service = service_factory().start()
    raw = frames(service, 1)[0]
    service.send(raw)
    service.wait_states([raw.name])
    service.send(raw)
    wait_until(lambda: "not processed again" in service.log_text(), 10, what="log line")
    assert [p.name for p in service.config.paths.repo_dir.glob("*.fits")] == [raw.name]


def test_a_second_service_on_the_same_configuration_refuses_to_start(service_factory):
    service = service_factory().start()
    second = subprocess.run(
        [sys.executable, "-m", "dataman.cli", "run", "-c", str(service.config_path)],
        capture_output=True, text=True, timeout=30)
    assert second.returncode == 1
    assert f"another dataman is running with this configuration (pid {service.process.pid}" \
        in second.stderr
    service.check_alive()


def test_after_kill_9_of_the_supervisor_a_restart_clears_lock_and_slots_and_finishes_work(
        service_factory):
    service = service_factory().start()
    slots = service.slots()
    assert len(slots) == service.config.workers.slots
    service.control(PauseRequest())
    raws = frames(service, 3)
    for raw in raws:
        service.send(raw)
    wait_until(lambda: len(service.states()) == 3, 30, what="requests journaled")
    service.kill()
    assert slots <= dataman_shm()  # the killed supervisor could not unlink them
    service.start()
    service.wait_states([raw.name for raw in raws])
    assert "shared-memory slots left by a killed run" in service.log_text()
    assert sorted(p.name for p in service.config.paths.repo_dir.glob("*.fits")) == \
        sorted(raw.name for raw in raws)
    assert service.stop() == 0


def test_frames_left_queued_by_a_quit_are_processed_after_the_restart(service_factory):
    service = service_factory().start()
    service.control(PauseRequest())
    raws = frames(service, 3)
    for raw in raws:
        service.send(raw)
    wait_until(lambda: len(service.states()) == 3, 30, what="requests journaled")
    assert service.stop() == 0
    assert set(service.states().values()) == {"queued"}
    service.start()
    service.wait_states([raw.name for raw in raws])


def test_a_worker_killed_mid_frame_is_replaced_and_its_frame_retried_once(service_factory):
    service = service_factory(workers={"count": 1}).start()
    raw = frames(service, 1)[0]
    first_pid = service.snapshot().workers[0].pid
    service.hold(raw.name, "otm")
    service.send(raw)
    assert service.wait_held(raw.name, "otm") == first_pid
    os.kill(first_pid, signal.SIGKILL)
    service.wait_states([raw.name])
    assert service.record(raw.name)["attempts"] == 1
    assert f"{raw.name}: worker 0 (pid {first_pid}) killed by SIGKILL" in service.log_text()
    assert service.snapshot().workers[0].pid != first_pid
    assert [p.name for p in service.config.paths.repo_dir.glob("*.fits")] == [raw.name]
    assert service.stop() == 0


def test_workers_are_recycled_after_recycle_after_frames(service_factory):
    service = service_factory(workers={"count": 1, "recycleAfter": 2}).start()
    first_pid = service.snapshot().workers[0].pid
    raws = frames(service, 5)
    for raw in raws:
        service.send(raw)
    service.wait_states([raw.name for raw in raws])
    # The old worker works on while its successor warms up, and hands over when idle.
    took_over = re.compile(rf"worker 0 \(pid {first_pid}\): recycled after \d+ frames; "
                           r"pid (\d+) took over")
    match = wait_until(lambda: took_over.search(service.log_text()), 30, what="the handover")
    successor = int(match[1])
    assert f"worker 0 (pid {first_pid}): 2 frames done; starting its successor" in \
        service.log_text()
    wait_until(lambda: [w.pid for w in service.snapshot().workers] == [successor], 30,
               what="only the successor left")
    after = frames(service, 1, start=6)[0]
    service.send(after)
    service.wait_states([after.name])
    assert service.record(after.name)["pid"] == successor


def test_sigterm_stops_cleanly_with_exit_0(service_factory):
    service = service_factory().start()
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(30) == 0
    assert "stopping: SIGTERM" in service.log_text()


def test_a_stop_lets_the_frame_in_progress_finish(service_factory):
    service = service_factory(workers={"count": 1}).start()
    raw = frames(service, 1)[0]
    service.hold(raw.name, "otm")
    service.send(raw)
    pid = service.wait_held(raw.name, "otm")
    service.process.send_signal(signal.SIGTERM)
    wait_until(lambda: "stopping: SIGTERM" in service.log_text(), 30, what="the stop to begin")
    service.release(pid)  # the frame is still in progress when the stop begins
    assert service.process.wait(30) == 0
    assert service.states() == {raw.name: "delivered"}


def test_a_stop_timeout_keeps_the_unfinished_frame_for_the_next_start(service_factory):
    service = service_factory(workers={"count": 1}, service={"stopTimeout": 0}).start()
    raw = frames(service, 1)[0]
    worker = service.snapshot().workers[0].pid
    os.kill(worker, signal.SIGSTOP)  # the frame cannot finish in time
    service.send(raw)
    wait_until(lambda: service.states().get(raw.name) == "running", 10, what="running")
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(30) == 0
    assert service.states() == {raw.name: "queued"}
    assert service.record(raw.name)["attempts"] == 0
    assert "kept for the next start" in service.log_text()
    service.start()
    service.wait_states([raw.name])
