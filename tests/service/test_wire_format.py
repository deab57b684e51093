"""The snapshot's JSON is what protocol 1 has always carried: enums as their words, the
frame's facts flat in its ``recent`` entry, and no field a client has not seen before.

The expected JSON is written out by hand, not produced by the classes under test."""

from __future__ import annotations

import json
from pathlib import Path

from dataman.core.facts import FrameFacts
from dataman.core.quality.report import AmpQuality, Finding, QualityReport
from dataman.ipc.control import encode
from dataman.ipc.jobs import JobDone
from dataman.ipc.protocol_snapshot import (
    Counts,
    HealthInfo,
    LastDelivered,
    LogEntry,
    QueueEntry,
    ServiceInfo,
    SetupEntry,
    Snapshot,
    Transfers,
    WorkerEntry,
)
from dataman.ipc.states import Result, ServiceState, Source, WorkerState
from dataman.service.journal import Journal
from dataman.service.outcomes import frame_item

NAME = "mods1b.20251230.0143.fits"
T0 = 1767064366.0
QUALITY = QualityReport((Finding("IM2:noise", "IM2 read noise 10.5 DN above 8"),),
                        (AmpQuality("IM1", 3, 1010.5, 3.25, 0.0),
                         AmpQuality("IM2", 4, 1012.0, 10.5, 0.001)))
FACTS = FrameFacts(roi="1kx1k", binning="2x2", imagetyp="OBJECT", exptime=300.0,
                   object_name="NGC 1976", grating="G400L", filter_name="Clear",
                   mask="LS5x60x1.0", date_obs="2025-12-31T03:12:40.5", ccd_temp=-110.5,
                   base_temp=-80.25)


def delivered_entry(folder: Path):
    """The ``recent`` entry the service makes of a frame a worker processed and delivered."""
    done = JobDone(1, f"/proc/20251230/{NAME}", "mods1b.20251230.031245.fits",
                   delivered=f"/newdata/{NAME}", instrument="MODS1B",
                   timings={"read": 0.25, "write": 0.5}, warnings=[], facts=FACTS,
                   quality=QUALITY, output_size=148_000_000)
    with Journal.open(folder) as journal:
        frame_id = journal.request(NAME, f"/data/mods1b/{NAME}", "mods1b", "datagram",
                                   T0).id
        journal.start(frame_id, pid=4250, now=T0 + 0.5)
        record = journal.processed(frame_id, done.processed, done.uniqname, done.timings, 0,
                                   T0 + 1.5, delivered_path=done.delivered, facts=done.facts,
                                   quality=done.quality, output_size=done.output_size)
    return frame_item(record, done, Result.OK)


def test_a_snapshot_encodes_to_the_json_of_protocol_1(tmp_path: Path):
    snapshot = Snapshot(
        service=ServiceInfo(ServiceState.PAUSED, 4242, T0, "mods1", "/home/dts/dataman.ini",
                            "0.1.0", "/home/dts/Logs/mods1dm.20251229.txt", 2, 2.5, 310),
        counts=Counts(1, 1, 0, 1, 0, 1),
        queue=(QueueEntry("mods1b.20251230.0144.fits", "mods1b", Source.SCAN, T0 + 2, None,
                          None),),
        workers=(WorkerEntry(0, 4250, WorkerState.BUSY, "mods1b.20251230.0145.fits", "otm",
                             T0 + 3, T0 + 2.5, 7, 98.0, 412),),
        recent=(delivered_entry(tmp_path),),
        transfers=Transfers("/newdata", True, None, 10, 20, {"MODS1B": NAME}, (), None),
        log=(LogEntry(T0, "INFO", "dataMan started"),),
        last=LastDelivered(NAME, 1.5, T0 + 1.5),
        health=HealthInfo(0, "OK", ()),
        setups=(SetupEntry("MODS1B", "G400L", "Clear", "LS5x60x1.0", "2x2", "1kx1k", 1, 0, 0,
                           0, ("biases", "flats", "arcs"), "no calibrations yet"),))
    reply = json.loads(encode({"type": "reply", "id": 1, "ok": True,
                               "result": snapshot.to_dict()}))
    assert reply["result"] == {
        "service": {"state": "paused", "pid": 4242, "started_at": T0, "hostid": "mods1",
                    "config": "/home/dts/dataman.ini", "version": "0.1.0",
                    "log_file": "/home/dts/Logs/mods1dm.20251229.txt", "workers_expected": 2,
                    "cpu_percent": 2.5, "rss": 310, "alerts": [], "shadow": False,
                    "udp_port": 10301},
        "counts": {"queued": 1, "running": 1, "processed": 0, "delivered": 1, "failed": 0,
                   "queue_total": 1, "bad": 0, "warn": 0},
        "queue": [{"name": "mods1b.20251230.0144.fits", "channel": "mods1b", "source": "scan",
                   "requested_at": T0 + 2, "not_before": None, "reason": None}],
        "workers": [{"index": 0, "pid": 4250, "state": "busy",
                     "frame": "mods1b.20251230.0145.fits", "step": "otm",
                     "step_started": T0 + 3, "job_started": T0 + 2.5, "frames_done": 7,
                     "cpu_percent": 98.0, "rss": 412}],
        "recent": [{
            "name": NAME, "instrument": "MODS1B", "roi": "1kx1k", "binning": "2x2",
            "timings": {"read": 0.25, "write": 0.5}, "latency": 1.5,
            "processed": f"/proc/20251230/{NAME}", "delivered": f"/newdata/{NAME}",
            "result": "ok", "reason": None, "warnings": [], "finished_at": T0 + 1.5,
            "qc_status": "WARN", "qc_flags": "IM2:noise",
            "qc_findings": [{"flag": "IM2:noise", "reason": "IM2 read noise 10.5 DN above 8"}],
            "qc_bias": {"IM1": 1010.5, "IM2": 1012.0}, "qc_noise": {"IM1": 3.25, "IM2": 10.5},
            "qc_saturated": {"IM1": 0.0, "IM2": 0.001},
            "imagetyp": "OBJECT", "exptime": 300.0, "object_name": "NGC 1976",
            "ccd_temp": -110.5, "base_temp": -80.25}],
        "transfers": {"repo_dir": "/newdata", "repo_reachable": True, "repo_reason": None,
                      "proc_free": 10, "repo_free": 20, "last": {"MODS1B": NAME},
                      "awaiting_delivery": [], "next_retry_at": None},
        "log": [{"time": T0, "level": "INFO", "message": "dataMan started"}],
        "last": {"name": NAME, "latency": 1.5, "delivered_at": T0 + 1.5},
        "health": {"level": 0, "verdict": "OK", "problems": []},
        "quality_bands": {},
        "setups": [{"instrument": "MODS1B", "grating": "G400L", "filter": "Clear",
                    "mask": "LS5x60x1.0", "binning": "2x2", "roi": "1kx1k", "objects": 1,
                    "biases": 0, "flats": 0, "comps": 0,
                    "missing": ["biases", "flats", "arcs"], "line": "no calibrations yet"}],
    }
    # And a client reads it back as the service built it, enums included.
    decoded = Snapshot.from_dict(reply["result"])
    assert decoded.workers[0].state is WorkerState.BUSY
    assert decoded.queue[0].source is Source.SCAN
    assert decoded.recent[0].result is Result.OK
    assert decoded.recent[0].imagetyp == "OBJECT"
    assert decoded.recent[0].grating == ""  # not sent: the client has its default


def test_the_journal_keeps_every_fact_the_worker_reported(tmp_path: Path):
    """The journal record, the console's entry and the worker's answer hold one FrameFacts."""
    entry = delivered_entry(tmp_path)
    with Journal.open(tmp_path) as journal:
        record = journal.get(1)
    assert record.facts == FACTS
    assert (record.gratname, record.filtname, record.maskname, record.output_size) == (
        "G400L", "Clear", "LS5x60x1.0", 148_000_000)
    assert (record.qc_status, record.qc_flags) == ("WARN", "IM2:noise")
    assert (entry.imagetyp, entry.exptime, entry.object_name, entry.ccd_temp) == (
        "OBJECT", 300.0, "NGC 1976", -110.5)
