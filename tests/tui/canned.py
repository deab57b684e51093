"""Canned control-protocol snapshots and a real ControlServer that serves them.

The snapshots are built from the protocol's classes (``dataman.ipc.protocol_snapshot``),
so a field the service does not send, or one missing, cannot creep in; their values
are written as the service writes them (``dataman/service/snapshot.py``,
``dataman/ipc/control.py``): queue channels in lower case as in the raw file names,
worker indexes from 0, the night log ``<logDir>/<hostid>dm.<night>.txt``, products in
``<procDir>/<night>/``, ``counts`` of states (``processed``: waiting for delivery) with
``queue_total``, and health problems as ``dataman.service.health`` words them.
``test_console_live.py`` compares their shape with a real service's snapshot.

:class:`CannedService` runs ``dataman.ipc.control_server.ControlServer`` in a thread
of its own (so it serves an app running in any event loop, snap_compare's
included), answers ``snapshot``/``subscribe`` from a Snapshot, records every other
request, and publishes events on demand.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from dataman.ipc.control_server import ControlServer
from dataman.ipc.protocol_events import Event
from dataman.ipc.protocol_requests import Request, SnapshotRequest
from dataman.ipc.protocol_snapshot import (
    Counts,
    FrameEntry,
    HealthInfo,
    LastDelivered,
    LogEntry,
    QualityBand,
    QualityFinding,
    QueueEntry,
    ServiceInfo,
    Snapshot,
    Transfers,
    WorkerEntry,
)
from dataman.ipc.states import Result, ServiceState, Source, WorkerState

#: 2025-12-30 03:12:46 UTC, the frozen "now" of the fixed-state tests.
NOW = 1767064366.0


def frame(number: int, *, result: Result = Result.OK, roi: str = "full", binning: str = "1x1",
          instrument: str = "MODS1B", finished: float = 0.0, **extra: Any) -> FrameEntry:
    name = f"{instrument.lower()}.20251230.{number:04d}.fits"
    timings = {"read": 0.21, "fixes": 0.02, "otm": 0.11, "checks": 0.04, "write": 0.09,
               "deliver": 0.03, "thumbnail": 0.02}  # the seven steps, adding up to 0.52
    item = FrameEntry(name=name, instrument=instrument, roi=roi, binning=binning,
                      timings=timings, latency=0.52, processed=f"/data/proc/20251230/{name}",
                      delivered=f"/newdata/{name}", result=result, reason=None, warnings=(),
                      finished_at=NOW - finished)
    return replace(item, **extra)


AMPS = ("IM1", "IM2", "IM3", "IM4")


def checked(frame: FrameEntry, index: int, *, status: str = "OK",
            findings: tuple[tuple[str, str], ...] = (),
            noise: dict[str, float] | None = None) -> FrameEntry:
    """``frame`` with a quality verdict and amplifier values that drift a little with
    ``index`` (so the trend panel has a shape): bias 1000 + 10 n + index DN, noise 3 DN."""
    bias = {amp: 1000.0 + 10 * number + (index % 5) for number, amp in enumerate(AMPS)}
    return replace(frame, qc_status=status, qc_flags=" ".join(flag for flag, _ in findings),
                   qc_findings=tuple(QualityFinding(flag, why) for flag, why in findings),
                   qc_bias=bias, qc_noise=noise or dict.fromkeys(AMPS, 3.0 + index % 3 / 4),
                   qc_saturated=dict.fromkeys(AMPS, 0.0))


def busy_snapshot() -> Snapshot:
    """A service in the middle of a night: a queue, busy workers, a failure, a slow repo."""
    recent = (checked(frame(143, finished=3, latency=0.61), 0, status="BAD",
                      findings=(("IM2:dead", "IM2 data columns constant at 1012 DN"),
                                ("IM3:noise", "IM3 read noise 9.80 DN outside 2.00..8.00")),
                      noise={"IM1": 3.0, "IM2": 0.0, "IM3": 9.8, "IM4": 3.1}),
              checked(frame(142, instrument="MODS1R", roi="3kx3k", finished=40, latency=0.47,
                            result=Result.WAITING, delivered=None, reason="repoDir unreachable"),
                      1),
              frame(141, result=Result.FAILED, finished=95, latency=0.08, delivered=None,
                    processed=None, reason="FrameIncomplete: IM3 has 1544 of 3088 rows",
                    timings={"read": 0.08}),
              checked(frame(140, instrument="MODS1R", roi="1kx1k", binning="2x2",
                            finished=160, latency=0.35, result=Result.WARNING,
                            warnings=("CCD temperature missing",)), 3, status="WARN",
                      findings=(("IM1:sat", "IM1 5.20% of pixels at 65535, above 1.00%"),)),
              *(checked(frame(139 - index, finished=200 + 60 * index,
                              latency=0.4 + 0.03 * index), 4 + index)
                for index in range(8)))
    return Snapshot(
        service=ServiceInfo(state=ServiceState.RUNNING, pid=4242, started_at=NOW - 3 * 3600 - 725,
                            hostid="mods1", config="/etc/dataman/dataman.ini",
                            version="0.1.0", log_file="/var/log/dataman/mods1dm.20251230.txt",
                            workers_expected=3, cpu_percent=None, rss=None),
        counts=Counts(queued=2, running=2, processed=1, delivered=140, failed=1,
                      queue_total=2, bad=1, warn=1),
        queue=(QueueEntry(name="mods1b.20251230.0145.fits", channel="mods1b",
                          source=Source.DATAGRAM, requested_at=NOW - 4.2, not_before=None,
                          reason=None),
               QueueEntry(name="mods1r.20251230.0143.fits", channel="mods1r", source=Source.SCAN,
                          requested_at=NOW - 75, not_before=NOW + 20,
                          reason="mods1r.20251230.0143.fits: still growing while it was read")),
        workers=(
            WorkerEntry(index=0, pid=4250, state=WorkerState.BUSY,
                        frame="mods1b.20251230.0144.fits", step="otm", step_started=NOW - 0.4,
                        job_started=NOW - 0.7,
                        frames_done=72, cpu_percent=98.0, rss=412_000_000),
            WorkerEntry(index=1, pid=4251, state=WorkerState.BUSY,
                        frame="mods1r.20251230.0142.fits", step="deliver", step_started=NOW - 12.5,
                        job_started=NOW - 13.0,
                        frames_done=70, cpu_percent=1.0, rss=398_000_000),
            WorkerEntry(index=2, pid=4252, state=WorkerState.IDLE, frame=None, step=None,
                        step_started=None, job_started=None, frames_done=1,
                        cpu_percent=0.0, rss=120_000_000)),
        recent=recent,
        transfers=Transfers(repo_dir="/newdata", repo_reachable=False,
                            repo_reason="stat timed out after 2 s", proc_free=1_200_000_000_000,
                            repo_free=None, last={"MODS1B": "mods1b.20251230.0143.fits",
                                                  "MODS1R": "mods1r.20251230.0140.fits"},
                            awaiting_delivery=("mods1r.20251230.0142.fits",),
                            next_retry_at=NOW + 8),
        log=tuple(LogEntry(time=NOW - 100 + index * 10, level=level, message=message)
                  for index, (level, message) in enumerate(LOG)),
        last=LastDelivered(name="mods1b.20251230.0143.fits", latency=0.61,
                           delivered_at=NOW - 3),
        health=HealthInfo(level=1, verdict="WARNING",
                          problems=("1 failed tonight, last mods1b.20251230.0141.fits "
                                    "(FrameIncomplete: IM3 has 1544 of 3088 rows)",
                                    "delivery stalled: 1 frame waiting "
                                    "(stat timed out after 2 s)")),
        quality_bands={name: QualityBand(bias_min=200.0, bias_max=5000.0, noise_min=2.0,
                                         noise_max=8.0) for name in ("MODS1B", "MODS1R")},
    )


LOG = [("INFO", "mods1b.20251230.0140.fits delivered in 0.45 s"),
       ("DEBUG", "worker 3 idle"),
       ("ERROR", "mods1b.20251230.0141.fits failed: FrameIncomplete: IM3 has 1544 of 3088 rows"),
       ("INFO", "mods1r.20251230.0140.fits delivered in 0.35 s (1 warning)"),
       ("WARNING", "staging disk /newdata unreachable: stat timed out after 2 s"),
       ("INFO", "mods1r.20251230.0142.fits processed, waiting for delivery"),
       ("INFO", "mods1b.20251230.0143.fits delivered in 0.61 s")]


def quiet_snapshot() -> Snapshot:
    """A service that has just started: nothing queued, nothing done."""
    busy = busy_snapshot()
    return replace(
        busy, counts=Counts(0, 0, 0, 0, 0, queue_total=0), queue=(), recent=(), log=(),
        last=None, health=HealthInfo(level=0, verdict="OK", problems=()),
        service=replace(busy.service, started_at=NOW - 42),
        transfers=replace(busy.transfers, repo_reachable=True, repo_reason=None,
                          repo_free=850_000_000_000, awaiting_delivery=(), next_retry_at=None,
                          last={}),
        workers=tuple(replace(worker, state=WorkerState.IDLE, frame=None, step=None,
                              step_started=None, frames_done=0) for worker in busy.workers))


class CannedService:
    """A real control server answering from ``snapshot``; a context manager."""

    def __init__(self, path: Path, snapshot: Snapshot, *, serving: bool = True) -> None:
        self.path = Path(path)
        self.serving = serving
        self.snapshot = snapshot
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: ControlServer | None = None

    def __enter__(self) -> CannedService:
        self._thread.start()
        if self.serving:
            self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def start(self) -> None:
        """Serve (again): the service appears or comes back."""
        self._server = ControlServer(self.path, self._handle)
        self._run(self._server.start())

    def stop(self) -> None:
        """The service goes away: every client is disconnected, the socket removed."""
        if self._server is not None:
            self._run(self._server.close())
            self._server = None

    def publish(self, event: Event) -> None:
        assert self._server is not None
        self._loop.call_soon_threadsafe(self._server.publish_event, event)

    def _run(self, coroutine) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _handle(self, request: Request) -> dict[str, Any] | Snapshot:
        if isinstance(request, SnapshotRequest):
            return self.snapshot
        self.requests.append((request.op, request.to_dict()))  # as the wire had them
        return {}
