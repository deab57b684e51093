"""The service as the control protocol shows it: the snapshot sections (ipc/protocol_snapshot.py).

Each section is built from the supervisor's state on demand: the console gets
the whole snapshot when it subscribes, then a section again whenever it changes.
Free space and worker CPU/memory are sampled by :class:`Gauges` once a second
in a thread, so a hung NFS mount cannot stall the event loop.
"""

from __future__ import annotations

import os
import shutil
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import psutil

from dataman import __version__
from dataman.core.config import QualityConfig
from dataman.core.nightlog import default_hostid, night_log_path
from dataman.core.setups import SetupStatus, checklist
from dataman.ipc.protocol_events import (
    CountsChanged,
    Event,
    HealthChanged,
    QueueChanged,
    ServiceChanged,
    SetupsChanged,
    TransfersChanged,
    WorkersChanged,
)
from dataman.ipc.protocol_snapshot import (
    Counts,
    FrameEntry,
    HealthInfo,
    LastDelivered,
    LogEntry,
    QualityBand,
    QueueEntry,
    ServiceInfo,
    SetupEntry,
    Snapshot,
    Transfers,
    WorkerEntry,
)
from dataman.ipc.states import FrameState
from dataman.service.health import assess
from dataman.service.standing import standing_problems
from dataman.service.summary import night_window

if TYPE_CHECKING:
    from dataman.service.supervisor import Supervisor

QUEUE_LIMIT = 200
SECTIONS = ("service", "counts", "queue", "workers", "recent", "transfers", "log", "last",
            "setups", "health")


@dataclass
class Gauges:
    """Slow measurements, refreshed off the loop: disk space and per-worker CPU/memory."""

    proc_free: int | None = None
    repo_free: int | None = None
    processes: dict[int, psutil.Process] = field(default_factory=dict)
    #: (CPU percent over the last interval, RSS bytes) of each worker and the supervisor.
    usage: dict[int, tuple[float, int]] = field(default_factory=dict)

    def refresh(self, proc_dir: os.PathLike[str], repo_dir: os.PathLike[str],
                pids: list[int]) -> None:
        """Measure the disks and the processes ``pids`` (workers) and this one."""
        self.proc_free = _free(proc_dir)
        self.repo_free = _free(repo_dir)
        pids = [os.getpid(), *pids]
        for pid in [pid for pid in self.processes if pid not in pids]:
            del self.processes[pid]
        usage = {}
        for pid in pids:
            try:
                process = self.processes.setdefault(pid, psutil.Process(pid))
                usage[pid] = (process.cpu_percent(None), process.memory_info().rss)
            except psutil.Error:
                continue
        self.usage = usage

    def total(self) -> tuple[float | None, int | None]:
        """CPU percent and RSS of supervisor + workers; None before the first measurement."""
        if not self.usage:
            return None, None
        return (sum(cpu for cpu, _ in self.usage.values()),
                sum(rss for _, rss in self.usage.values()))


def _free(directory: os.PathLike[str]) -> int | None:
    try:
        return shutil.disk_usage(directory).free
    except OSError:
        return None


class LogRing(deque[LogEntry]):
    """The last log lines, for a console that attaches late."""

    def __init__(self) -> None:
        super().__init__(maxlen=200)


def section(supervisor: Supervisor, name: str, gauges: Gauges, log_ring: LogRing,
            now: float) -> Any:
    """The section ``name`` of the snapshot (a protocol object, or a tuple of them)."""
    return _BUILDERS[name](supervisor, gauges, log_ring, now)


def snapshot(supervisor: Supervisor, gauges: Gauges, log_ring: LogRing,
             now: float) -> Snapshot:
    """The whole snapshot, its health judged on the other sections."""
    body = {name: section(supervisor, name, gauges, log_ring, now)
            for name in SECTIONS if name != "health"}
    unjudged = Snapshot(**body, health=HealthInfo(0, "OK", ()),
                        quality_bands=quality_bands(supervisor.config.quality))
    return replace(unjudged, health=health_section(unjudged, now))


def quality_bands(settings: QualityConfig) -> dict[str, QualityBand]:
    """The bands the checks apply, by instrument (a band None when its check is off)."""
    if not settings.checks:
        return {}
    bias, noise = settings.check_bias, settings.check_noise
    return {name: QualityBand(bands.bias_min if bias else None, bands.bias_max if bias else None,
                              bands.noise_min if noise else None,
                              bands.noise_max if noise else None)
            for name, bands in settings.bands.items()}


def health_section(body: Snapshot, now: float) -> HealthInfo:
    verdict = assess(body, now)
    return HealthInfo(verdict.level, verdict.verdict, tuple(verdict.problems))


#: The event that carries each replaceable section.
SECTION_EVENTS: dict[str, Callable[[Any], Event]] = {
    "service": ServiceChanged, "counts": CountsChanged, "queue": QueueChanged,
    "workers": WorkersChanged, "transfers": TransfersChanged, "health": HealthChanged,
    "setups": SetupsChanged}


def section_event(name: str, value: Any) -> Event:
    """The replaceable event that publishes section ``name``."""
    return SECTION_EVENTS[name](value)


def _service(sup: Supervisor, gauges: Gauges, log_ring: LogRing, now: float) -> ServiceInfo:
    config = sup.config
    hostid = config.server.hostid or default_hostid()
    cpu, rss = gauges.total()
    return ServiceInfo(
        state=sup.state, pid=os.getpid(), started_at=sup.started_at, hostid=hostid,
        config=str(config.source), version=__version__,
        log_file=str(night_log_path(config.paths.log_dir, hostid, sup.night.date)),
        workers_expected=config.workers.count, cpu_percent=cpu, rss=rss,
        alerts=standing_problems(sup),
        shadow=not config.service.deliver, udp_port=config.server.port)


def _counts(sup: Supervisor, gauges: Gauges, log_ring: LogRing, now: float) -> Counts:
    start, end = night_window(sup.night.date, sup.config.site.utc_offset)
    counts = sup.journal.counts(start, end)
    flagged = sup.journal.flagged(start, end)
    # The queue section lists the first QUEUE_LIMIT frames; this is how many there are.
    return Counts(**{str(state): counts[state] for state in FrameState},
                  queue_total=len(sup.queue), bad=flagged["BAD"], warn=flagged["WARN"])


def _queue(sup: Supervisor, gauges: Gauges, log_ring: LogRing,
           now: float) -> tuple[QueueEntry, ...]:
    return tuple(QueueEntry(name=f.name, channel=f.channel, source=f.source,
                            requested_at=f.requested_at,
                            not_before=f.not_before if f.not_before > now else None,
                            reason=f.reason)
                 for f in sup.queue.ordered(QUEUE_LIMIT))


def _workers(sup: Supervisor, gauges: Gauges, log_ring: LogRing,
             now: float) -> tuple[WorkerEntry, ...]:
    items = []
    for worker in sorted(sup.pool.workers, key=lambda w: (w.index, w.started)):
        job = worker.assignment
        cpu, rss = gauges.usage.get(worker.pid, (None, None))
        items.append(WorkerEntry(
            index=worker.index, pid=worker.pid, state=worker.state,
            frame=job.name if job else None, step=job.step if job else None,
            step_started=job.step_started if job else None,
            job_started=job.started if job else None, frames_done=worker.frames_done,
            cpu_percent=cpu, rss=rss))
    return tuple(items)


def _recent(sup: Supervisor, gauges: Gauges, log_ring: LogRing,
            now: float) -> tuple[FrameEntry, ...]:
    return tuple(sup.outcomes.recent)


def _transfers(sup: Supervisor, gauges: Gauges, log_ring: LogRing, now: float) -> Transfers:
    backlog = sup.backlog
    return Transfers(repo_dir=str(sup.config.paths.repo_dir),
                     repo_reachable=backlog.reason is None, repo_reason=backlog.reason,
                     proc_free=gauges.proc_free, repo_free=gauges.repo_free,
                     last=dict(sup.outcomes.last_by_channel),
                     awaiting_delivery=tuple(backlog.names),
                     next_retry_at=backlog.next_attempt if len(backlog) else None)


def _log(sup: Supervisor, gauges: Gauges, log_ring: LogRing,
         now: float) -> tuple[LogEntry, ...]:
    return tuple(log_ring)


def _last(sup: Supervisor, gauges: Gauges, log_ring: LogRing,
          now: float) -> LastDelivered | None:
    return sup.outcomes.last_delivered


def _setups(sup: Supervisor, gauges: Gauges, log_ring: LogRing,
            now: float) -> tuple[SetupEntry, ...]:
    start, end = night_window(sup.night.date, sup.config.site.utc_offset)
    return setup_entries(checklist(sup.journal.setup_frames(start, end)))


def setup_entries(statuses: list[SetupStatus]) -> tuple[SetupEntry, ...]:
    """The checklist as the control protocol carries it."""
    return tuple(SetupEntry(
        instrument=s.setup.instrument, grating=s.setup.grating, filter=s.setup.filter,
        mask=s.setup.mask, binning=s.setup.binning, roi=s.setup.roi, objects=s.objects,
        biases=s.biases, flats=s.flats, comps=s.comps, missing=s.missing, line=s.line())
        for s in statuses)


_BUILDERS = {"service": _service, "counts": _counts, "queue": _queue, "workers": _workers,
             "recent": _recent, "transfers": _transfers, "log": _log, "last": _last,
             "setups": _setups}
