"""Faults the service must ride out without losing a frame."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime

import pytest

from dataman.core.nightlog import observing_date
from dataman.ipc.control import request
from dataman.ipc.protocol_requests import PauseRequest, ResumeRequest, RetryRequest
from tests.reliability.mounts import Mounts
from tests.service_harness import frames, wait_until

pytestmark = pytest.mark.slow


def test_frames_wait_while_the_staging_disk_is_missing_and_go_in_order_when_it_returns(
        service_factory):
    service = service_factory(service={"deliveryRetryMax": 1}).start()
    repo = service.config.paths.repo_dir
    hidden = repo.with_name("newdata-unmounted")
    repo.rename(hidden)
    raws = frames(service, 4)
    for raw in raws:
        service.send(raw)
    service.wait_states([raw.name for raw in raws], "processed")
    assert all((service.config.paths.proc_dir / "20251230" / r.name).is_file() for r in raws)
    snapshot = service.snapshot()
    assert snapshot.transfers.awaiting_delivery == tuple(raw.name for raw in raws)
    assert snapshot.transfers.repo_reachable is False
    hidden.rename(repo)
    service.wait_states([raw.name for raw in raws])
    records = [service.record(raw.name) for raw in raws]
    delivered_at = [record["delivered_at"] for record in records]
    assert delivered_at == sorted(delivered_at), "delivered out of order"
    assert sorted(p.name for p in repo.glob("*.fits")) == [raw.name for raw in raws]
    assert "but not delivered" in service.log_text()


def test_a_read_only_staging_disk_delays_delivery_until_it_is_writable(service_factory):
    service = service_factory(service={"deliveryRetryMax": 1}).start()
    repo = service.config.paths.repo_dir
    mounts = Mounts()
    if os.geteuid() == 0:  # root writes through a mode of 555: a read-only mount stops it
        mounts.read_only(repo)
    else:
        repo.chmod(0o555)
    try:
        raw = frames(service, 1)[0]
        service.send(raw)
        service.wait_states([raw.name], "processed")
        assert not (repo / raw.name).exists()
    finally:
        mounts.release_all()
        repo.chmod(0o755)
    service.wait_states([raw.name])


def test_a_frame_still_being_written_is_waited_for_then_processed(service_factory):
    service = service_factory().start()
    raw = frames(service, 1)[0]
    content = raw.read_bytes()
    raw.write_bytes(content[: len(content) // 2])  # azcam is still writing
    service.send(raw)
    wait_until(lambda: "waiting for the raw file" in service.log_text(), 10, what="wait")
    assert service.states()[raw.name] == "queued"
    with open(raw, "ab") as stream:
        stream.write(content[len(content) // 2:])
    service.wait_states([raw.name])
    assert service.record(raw.name)["attempts"] == 0


def test_a_raw_file_that_appears_after_its_datagram_is_processed(service_factory):
    service = service_factory().start()
    raw = frames(service, 1)[0]
    hidden = raw.with_name("later")
    raw.rename(hidden)  # delayed NFS: the datagram arrives first
    service.send(raw)
    wait_until(lambda: "waiting for the raw file" in service.log_text(), 10, what="wait")
    hidden.rename(raw)
    service.wait_states([raw.name])


def test_a_frame_whose_start_the_locked_journal_refuses_is_delivered_once_it_is_free(
        service_factory):
    service = service_factory().start()
    service.control(PauseRequest())
    raw = frames(service, 1)[0]
    service.send(raw)
    wait_until(lambda: service.states().get(raw.name) == "queued", 10, what="request journaled")
    journal = service.config.paths.state_dir / "journal.sqlite3"
    refused = f"{raw.name}: cannot start: {journal}: database is locked"
    with closing(sqlite3.connect(journal, isolation_level=None)) as locker:
        locker.execute("BEGIN EXCLUSIVE")  # another program holds the journal's write lock
        # the start waits sqlite's 5 s for the lock before it is refused
        assert request(service.socket_path, ResumeRequest(), timeout=20) == {"state": "running"}
        wait_until(lambda: refused in service.log_text(), 10, what="refusal logged")
        assert service.states()[raw.name] == "queued"
        locker.execute("ROLLBACK")
    service.wait_states([raw.name], timeout=30)
    assert service.record(raw.name)["attempts"] == 0
    snapshot = service.snapshot()
    assert snapshot is not None and all(w.state == "idle" for w in snapshot.workers)
    assert service.stop() == 0


def test_a_frame_never_completed_fails_after_wait_for_write(service_factory):
    service = service_factory(service={"waitForWrite": 2}).start()
    raw = frames(service, 1)[0]
    raw.write_bytes(raw.read_bytes()[:100_000])
    started = time.monotonic()
    service.send(raw)
    service.wait_states([raw.name], "failed", timeout=30)
    assert time.monotonic() - started >= 2
    reason = service.record(raw.name)["reason"]
    assert raw.name in reason and "waited" in reason
    assert not list(service.config.paths.repo_dir.glob("*.fits"))


def test_a_corrupt_frame_fails_with_its_reason_and_the_service_goes_on(service_factory):
    service = service_factory().start()
    bad, good = frames(service, 2)
    bad.write_bytes(b"this is not a FITS file\n" * 1000)
    service.send(bad)
    service.send(good)
    service.wait_states([good.name])
    service.wait_states([bad.name], "failed")
    assert bad.name in service.record(bad.name)["reason"]
    assert f"{bad.name}: failed:" in service.log_text()
    assert [p.name for p in service.config.paths.repo_dir.glob("*.fits")] == [good.name]


def tonight(service) -> str:
    """The observing night in progress, the first of the two nights the scan looks at."""
    return observing_date(datetime.now(UTC), service.config.site.utc_offset)


def test_the_scan_queues_frames_whose_datagram_never_came(service_factory):
    service = service_factory(service={"scanInterval": 1})
    before = frames(service, 2, night=tonight(service))  # written while the service was down
    old = frames(service, 1, start=9, night="20200101")[0]  # not this night or the last
    service.start()
    service.wait_states([raw.name for raw in before])
    later = frames(service, 1, start=3, night=tonight(service))  # a datagram lost on the way
    service.wait_states([raw.name for raw in later], timeout=30)
    assert all(service.record(raw.name)["source"] == "scan" for raw in before + later)
    assert "scan:" in service.log_text()
    assert old.name not in service.states()


def test_a_scan_does_not_requeue_a_delivered_frame(service_factory):
    service = service_factory(service={"scanInterval": 1})
    service.start()
    raw = frames(service, 1, night=tonight(service))[0]
    service.send(raw)
    service.wait_states([raw.name])
    delivered = service.record(raw.name)
    assert service.stop() == 0
    service.start()
    # The canary gets no datagram: once it is delivered, a scan has run since the restart.
    canary = frames(service, 1, start=2, night=tonight(service))[0]
    service.wait_states([canary.name], timeout=30)
    assert service.record(canary.name)["source"] == "scan"
    assert service.stop() == 0
    assert service.record(raw.name) == delivered
    assert delivered["source"] == "datagram" and json.loads(delivered["timings"])
    repo = service.config.paths.repo_dir
    assert sorted(p.name for p in repo.iterdir()) == ["MODS1B.new", raw.name, canary.name]
    assert (repo / "MODS1B.new").read_text() == f"{canary.name}\n"


def test_a_scan_does_not_queue_a_frame_dataman_process_delivered(service_factory):
    service = service_factory(service={"scanInterval": 1})
    raw = frames(service, 1, night=tonight(service))[0]
    run = subprocess.run([sys.executable, "-m", "dataman", "process", str(raw), "-c",
                          str(service.config_path)], capture_output=True, text=True,
                         check=False, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    delivered = service.config.paths.repo_dir / raw.name
    first = delivered.stat().st_ino
    service.start()
    canary = frames(service, 1, start=2, night=tonight(service))[0]
    service.wait_states([canary.name], timeout=30)  # a scan has run since the start
    assert raw.name not in service.states()
    assert delivered.stat().st_ino == first
    assert f"already delivered by another run, not queued: {raw.name}" in service.log_text()


def recent_outcomes(service) -> list[tuple[str, str]]:
    """(name, result) of the snapshot's ``recent`` list, newest first."""
    return [(item.name, item.result) for item in service.snapshot().recent]


def test_a_frame_with_two_outcomes_is_listed_once_in_the_snapshot(service_factory):
    """Issue 5: waited for the staging disk then delivered, failed then retried: each frame
    once in ``recent``, with its latest outcome (consoles died on a repeated frame)."""
    service = service_factory(service={"waitForWrite": 0.5, "deliveryRetryMax": 1}).start()
    broken, late = frames(service, 2)
    whole = broken.read_bytes()
    broken.write_bytes(whole[:100_000])  # never completed: fails once waitForWrite is over
    service.send(broken)
    service.wait_states([broken.name], "failed")
    assert recent_outcomes(service) == [(broken.name, "failed")]
    broken.write_bytes(whole)  # the observer fixed it and asks again
    service.control(RetryRequest(broken.name))
    service.wait_states([broken.name])
    wait_until(lambda: recent_outcomes(service) == [(broken.name, "ok")], 10,
               what="the retried frame's outcome")

    repo = service.config.paths.repo_dir
    hidden = repo.with_name("newdata-unmounted")
    repo.rename(hidden)
    service.send(late)
    service.wait_states([late.name], "processed")
    assert recent_outcomes(service) == [(late.name, "waiting"), (broken.name, "ok")]
    hidden.rename(repo)
    service.wait_states([late.name])
    wait_until(lambda: recent_outcomes(service) == [(late.name, "ok"), (broken.name, "ok")],
               10, what="the late frame delivered, listed once")
    assert service.stop() == 0
