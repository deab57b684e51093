"""Is dataMan well? The verdict and the one status line of ``dataman health``.

Pure functions of a control-socket snapshot (``dataman.ipc.protocol_snapshot``)
and the time ``now``: no I/O, so every rule is tested with snapshots built in the test.
The verdict follows monitoring-plugin custom (0 OK, 1 WARNING, 2 DOWN), and
each problem is a short phrase an operator can act on, because the line ends
up on the instrument status display, not in a log file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataman.ipc.protocol_snapshot import Counts, ServiceInfo, Snapshot


from dataman.core.names import without_name
from dataman.core.quality.report import is_image_type_flag
from dataman.core.timings import duration
from dataman.ipc.states import Result, WorkerState

VERDICTS = ("OK", "WARNING", "DOWN")
#: A frame free to run that has waited longer than this, seconds, means the queue backs up.
QUEUE_WAIT_WARNING = 60.0
#: A failure keeps the verdict at WARNING for this long, seconds.
FAILURE_WINDOW = 15 * 60.0
#: A processed frame waiting this long for repoDir, seconds, means delivery is stalled.
DELIVERY_WAIT_WARNING = 60.0
#: This many most recent frames of a channel failing the same quality check: WARNING.
QUALITY_REPEATS = 3
#: Longest failure reason quoted on the status line.
REASON_WIDTH = 60


@dataclass(frozen=True)
class Health:
    level: int  # 0 OK, 1 WARNING, 2 DOWN
    verdict: str
    problems: list[str]

    @classmethod
    def of(cls, problems: list[str], *, level: int | None = None) -> Health:
        """WARNING when there is a problem, OK otherwise, unless ``level`` says more."""
        level = (1 if problems else 0) if level is None else level
        return cls(level, VERDICTS[level], problems)


@dataclass(frozen=True)
class ProcessInfo:
    """CPU and memory of the supervisor and its children, summed: measured by the service
    itself (``process_in``), or by ``dataman health`` with psutil when it does not answer."""
    pid: int
    started_at: float  # epoch seconds
    cpu_percent: float
    rss: int  # bytes
    children: int


def process_in(snapshot: Snapshot) -> ProcessInfo | None:
    """The service's own figures (supervisor + workers, measured once a second), or None
    before its first measurement."""
    service = snapshot.service
    if service.cpu_percent is None or service.rss is None:
        return None
    return ProcessInfo(service.pid, service.started_at, service.cpu_percent, service.rss,
                       len(snapshot.workers))


def assess(snapshot: Snapshot, now: float) -> Health:
    """The verdict on a service that answers: OK, or WARNING with its problems
    (its own ``health`` section is not read: this is what makes it)."""
    return Health.of([*_service_problems(snapshot), *_worker_problems(snapshot),
                      *_queue_problems(snapshot, now), *_failure_problems(snapshot, now),
                      *_delivery_problems(snapshot, now), *_quality_problems(snapshot)])


def health_reply(snapshot: Snapshot, now: float) -> dict[str, int | str]:
    """The control socket's answer to ``health``: the verdict's level and the whole line.

    Made in the service, from the snapshot it has at hand, so that ``dataman health``
    (run every few seconds by the status display) decodes two fields instead of the
    snapshot and its classes. The line is the one it would make itself.
    """
    health = assess(snapshot, now)
    return {"level": health.level, "line": health_line(health, snapshot, process_in(snapshot), now)}


def health_line(health: Health, snapshot: Snapshot | None,
                process: ProcessInfo | None, now: float) -> str:
    """``dataMan OK pid 4242 up 3h12m ... : problem; problem`` — always one line.

    Fields come from the snapshot when the service answered; pid, uptime, CPU and
    memory from ``process`` when given (``process_in`` the snapshot, or psutil
    when the service does not answer); a field nobody knows is left out.
    """
    service = snapshot.service if snapshot is not None else None
    parts = [f"dataMan {health.verdict}", *shadow_words(service)]
    pid = process.pid if process else service.pid if service else None
    if pid:
        parts.append(f"pid {pid}")
    started = process.started_at if process else service.started_at if service else None
    if started:
        parts.append(f"up {duration(now - started)}")
    if process:
        parts += [f"cpu {process.cpu_percent:.0f}%", f"rss {process.rss / 2**20:.0f}MB"]
    if snapshot is not None:
        parts += _snapshot_fields(snapshot, now)
    elif process:
        parts.append(f"workers {process.children}")
    line = " ".join(parts)
    if health.problems:
        line += " : " + "; ".join(health.problems)
    return " ".join(line.split())  # a newline in a name or reason must not split the line


def shadow_words(service: ServiceInfo | None) -> list[str]:
    """``SHADOW (no delivery, no UDP)`` right after the verdict for a shadow run, so
    that nobody takes it for the data manager that feeds the archive."""
    if service is None or not service.shadow:
        return []
    return [f"SHADOW (no delivery{', no UDP' if not service.udp_port else ''})"]


def down_line(state_dir: Path) -> str:
    """The line when no service holds the lock of ``state_dir``."""
    return f"dataMan DOWN: not running (state {state_dir})"


def _snapshot_fields(snapshot: Snapshot, now: float) -> list[str]:
    counts = snapshot.counts
    alive, expected = _workers_alive(snapshot)
    done = counts.processed if snapshot.service.shadow else counts.delivered
    fields = [f"workers {alive}/{expected}", f"queue {counts.queue_total}",
              f"done {done}", *flagged_fields(counts), f"failed {counts.failed}"]
    last = snapshot.last
    if last:
        fields.append(f"last {last.name} {last.latency or 0:.2f}s "
                      f"{duration(now - (last.delivered_at or now))} ago")
    return fields


def flagged_fields(counts: Counts) -> list[str]:
    """``['BAD 1', 'WARN 2']``: tonight's frames the quality checks flagged, when any."""
    return [f"{word} {count}" for word, count in (("BAD", counts.bad), ("WARN", counts.warn))
            if count]


def _workers_alive(snapshot: Snapshot) -> tuple[int, int]:
    # A worker counts once it has said hello: one that is still starting (or that
    # keeps failing to start) cannot take a frame yet.
    alive = sum(1 for worker in snapshot.workers
                if worker.state in (WorkerState.IDLE, WorkerState.BUSY, WorkerState.STOPPING))
    return alive, snapshot.service.workers_expected


def _service_problems(snapshot: Snapshot) -> list[str]:
    """The service's state, then the conditions it reports itself (``alerts``)."""
    return [*{"paused": ["intake paused"],
              "stopping": ["service stopping"]}.get(snapshot.service.state, []),
            *(_shorten_alert(alert) for alert in snapshot.service.alerts)]


def _shorten_alert(text: str) -> str:
    """An alert is a phrase, then ``: `` and its reason: the reason is shortened."""
    phrase, _, reason = text.partition(": ")
    return f"{phrase}: {_shorten(reason)}" if reason else _shorten(phrase)


def _worker_problems(snapshot: Snapshot) -> list[str]:
    alive, expected = _workers_alive(snapshot)
    return [f"workers missing: {alive}/{expected} alive"] if alive < expected else []


def _queue_problems(snapshot: Snapshot, now: float) -> list[str]:
    """Frames free to run (no ``not_before``) that nobody takes: the pool cannot keep up."""
    waiting = [item.requested_at for item in snapshot.queue if item.not_before is None]
    if not waiting or now - min(waiting) <= QUEUE_WAIT_WARNING:
        return []
    return [f"queue backing up: {snapshot.counts.queue_total} queued, "
            f"oldest waiting {duration(now - min(waiting))}"]


def _failure_problems(snapshot: Snapshot, now: float) -> list[str]:
    """A frame failed in the last :data:`FAILURE_WINDOW`: the newest, and tonight's count.

    The count is the ``failed`` of ``counts`` (tonight), the one the console's
    header and the status line show, so that two numbers of failures never
    stand side by side meaning different things.
    """
    failed = [item for item in snapshot.recent
              if item.result == Result.FAILED and now - item.finished_at <= FAILURE_WINDOW]
    if not failed:
        return []
    newest = max(failed, key=lambda item: item.finished_at)
    reason = _shorten(without_name(newest.reason or "no reason given", newest.name))
    tonight = snapshot.counts.failed
    which = f"{tonight} failed tonight, last" if tonight else "last failure"
    return [f"{which} {newest.name} ({reason})"]


def _delivery_problems(snapshot: Snapshot, now: float) -> list[str]:
    """Processed frames that do not reach repoDir: unreachable, or waiting too long.

    A frame's wait starts when it finished processing (its ``recent`` item);
    a frame no longer in ``recent`` has no known start and does not count.
    """
    transfers = snapshot.transfers
    awaiting = set(transfers.awaiting_delivery)
    if not awaiting:
        return []
    count = f"{len(awaiting)} frame{'s' if len(awaiting) > 1 else ''} waiting"
    if not transfers.repo_reachable:
        reason = transfers.repo_reason or "repoDir unreachable"
        return [f"delivery stalled: {count} ({_shorten(reason)})"]
    since = [item.finished_at for item in snapshot.recent if item.name in awaiting]
    if since and now - min(since) > DELIVERY_WAIT_WARNING:
        return [f"delivery stalled: {count}, oldest {duration(now - min(since))}"]
    return []


def _quality_problems(snapshot: Snapshot) -> list[str]:
    """A channel whose last :data:`QUALITY_REPEATS` checked frames all fail the same check
    (``MODS1B IM2:dead on 3 frames``): an amplifier died, a bias stays off, not one bad frame.

    Frames not checked (failed, checks off) are passed over; the count is how far
    back the run goes in ``recent``. The image-type checks' flags (``COMP:lines``: a
    lamp that did not fire) are for observers, in the console and the report: the
    health line stays about the service and the detector.
    """
    by_channel: dict[str, list[set[str]]] = {}
    for item in snapshot.recent:  # newest first
        if item.qc_status is not None:
            by_channel.setdefault(item.instrument, []).append(
                {flag for flag in item.qc_flags.split() if not is_image_type_flag(flag)})
    problems = []
    for channel, flags in sorted(by_channel.items()):
        for flag in sorted(flags[0]):
            run = next((index for index, found in enumerate(flags) if flag not in found),
                       len(flags))
            if run >= QUALITY_REPEATS:
                problems.append(f"{channel} {flag} on {run} frames")
    return problems


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_WIDTH else text[: REASON_WIDTH - 3] + "..."
