"""Snapshot sections for tests, built from the protocol's own classes.

Each function returns a complete object of :mod:`dataman.ipc.protocol_snapshot`
with plain defaults, changed by keyword (``dataclasses.replace``, so a field
the class does not have is an error): a fixture cannot drift from what the
service sends. ``wire(obj)`` is its JSON form, for a stand-in service.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from dataman.ipc.protocol import to_json
from dataman.ipc.protocol_snapshot import (
    Counts,
    FrameEntry,
    HealthInfo,
    LastDelivered,
    LogEntry,
    QueueEntry,
    ServiceInfo,
    Snapshot,
    Transfers,
    WorkerEntry,
)
from dataman.ipc.states import Result, ServiceState, Source, WorkerState

T0 = 1767064366.0

_SERVICE = ServiceInfo(state=ServiceState.RUNNING, pid=4242, started_at=T0, hostid="mods1",
                       config="/home/dts/dataman.ini", version="0.1.0",
                       log_file="/home/dts/Logs/dataMan/mods1.20251229.log",
                       workers_expected=2, cpu_percent=None, rss=None)
_COUNTS = Counts(queued=0, running=0, processed=0, delivered=0, failed=0, queue_total=0)
_QUEUE = QueueEntry(name="mods1b.20251230.0001.fits", channel="mods1b", source=Source.DATAGRAM,
                    requested_at=T0, not_before=None, reason=None)
_WORKER = WorkerEntry(index=1, pid=4243, state=WorkerState.IDLE, frame=None, step=None,
                      step_started=None, job_started=None, frames_done=0, cpu_percent=None,
                      rss=None)
_FRAME = FrameEntry(name="mods1b.20251230.0001.fits", instrument="MODS1B", roi="full",
                    binning="1x1", timings={}, latency=None, processed=None, delivered=None,
                    result=Result.OK, reason=None, warnings=(), finished_at=T0)
_TRANSFERS = Transfers(repo_dir="/newdata", repo_reachable=True, repo_reason=None,
                       proc_free=None, repo_free=None, last={}, awaiting_delivery=(),
                       next_retry_at=None)
_HEALTH = HealthInfo(level=0, verdict="OK", problems=())


def service_info(**changes: Any) -> ServiceInfo:
    return replace(_SERVICE, **changes)


def counts(**changes: Any) -> Counts:
    return replace(_COUNTS, **changes)


def queue_entry(**changes: Any) -> QueueEntry:
    return replace(_QUEUE, **changes)


def worker(**changes: Any) -> WorkerEntry:
    return replace(_WORKER, **changes)


def frame(**changes: Any) -> FrameEntry:
    return replace(_FRAME, **changes)


def transfers(**changes: Any) -> Transfers:
    return replace(_TRANSFERS, **changes)


def log_entry(time: float, level: str, message: str) -> LogEntry:
    return LogEntry(time, level, message)


def last_delivered(name: str, latency: float | None, delivered_at: float | None
                   ) -> LastDelivered:
    return LastDelivered(name, latency, delivered_at)


def health_info(**changes: Any) -> HealthInfo:
    return replace(_HEALTH, **changes)


def snapshot(**sections: Any) -> Snapshot:
    """A snapshot of an idle service with two idle workers, ``sections`` replaced."""
    base = Snapshot(service=_SERVICE, counts=_COUNTS, queue=(),
                    workers=(_WORKER, worker(index=2, pid=4244)), recent=(),
                    transfers=_TRANSFERS, log=(), last=None, health=_HEALTH)
    return replace(base, **{name: tuple(value) if isinstance(value, list) else value
                            for name, value in sections.items()})


def wire(obj: Any) -> Any:
    """The JSON form of a protocol object (what the service sends), a fresh copy."""
    return json.loads(json.dumps(to_json(obj)))


@contextlib.contextmanager
def service_speaking(path: Path, version: int) -> Iterator[None]:
    """A stand-in service on a real Unix socket that answers every request in protocol
    ``version``, with an otherwise well-formed reply."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(os.fspath(path))
    server.listen()
    server.settimeout(0.1)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            with client:
                client.settimeout(5)
                with contextlib.suppress(OSError):
                    request = json.loads(client.makefile("rb").readline())
                    client.sendall(json.dumps({"v": version, "type": "reply",
                                               "id": request["id"], "ok": True,
                                               "result": {}}).encode() + b"\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(5)
        server.close()
