"""Is dataMan well? The verdict and the one status line of ``dataman health``.

Pure functions of a control-socket snapshot (format in ``dataman.ipc.control``)
and the time ``now``: no I/O, so every rule is tested with literal snapshots.
The verdict follows monitoring-plugin custom (0 OK, 1 WARNING, 2 DOWN), and
each problem is a short phrase an operator can act on, because the line ends
up on the instrument status display, not in a log file.

>>> snapshot = {"service": {"state": "paused", "pid": 4242, "workers_expected": 1},
...             "workers": [{"state": "idle"}], "counts": {"queued": 0}}
>>> assess(snapshot, now=0.0)
Health(level=1, verdict='WARNING', problems=['intake paused'])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

VERDICTS = ("OK", "WARNING", "DOWN")
#: A frame free to run that has waited longer than this, seconds, means the queue backs up.
QUEUE_WAIT_WARNING = 60.0
#: A failed frame is "recent" for this long, seconds.
FAILURE_WINDOW = 15 * 60.0
#: A processed frame waiting this long for repoDir, seconds, means delivery is stalled.
DELIVERY_WAIT_WARNING = 60.0
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


def process_in(snapshot: dict[str, Any]) -> ProcessInfo | None:
    """The service's own figures (supervisor + workers, measured once a second), or None
    before its first measurement.

    >>> process_in({"service": {"pid": 4242, "started_at": 0.0, "cpu_percent": 2.4,
    ...                         "rss": 3 * 2**20}, "workers": [{}, {}]})
    ProcessInfo(pid=4242, started_at=0.0, cpu_percent=2.4, rss=3145728, children=2)
    """
    service = snapshot.get("service") or {}
    pid, started_at, cpu, rss = (service.get(key) for key in
                                 ("pid", "started_at", "cpu_percent", "rss"))
    if pid is None or started_at is None or cpu is None or rss is None:
        return None
    return ProcessInfo(int(pid), float(started_at), float(cpu), int(rss),
                       len(snapshot.get("workers") or []))


def assess(snapshot: dict[str, Any], now: float) -> Health:
    """The verdict on a service that answers: OK, or WARNING with its problems."""
    return Health.of([*_service_problems(snapshot), *_worker_problems(snapshot),
                      *_queue_problems(snapshot, now), *_failure_problems(snapshot, now),
                      *_delivery_problems(snapshot, now)])


def health_line(health: Health, snapshot: dict[str, Any] | None,
                process: ProcessInfo | None, now: float) -> str:
    """``dataMan OK pid 4242 up 3h12m ... : problem; problem`` — always one line.

    Fields come from the snapshot when the service answered; pid, uptime, CPU and
    memory from ``process`` when given (``process_in`` the snapshot, or psutil
    when the service does not answer); a field nobody knows is left out.
    """
    service = (snapshot or {}).get("service") or {}
    parts = [f"dataMan {health.verdict}"]
    pid = process.pid if process else service.get("pid")
    if pid:
        parts.append(f"pid {pid}")
    started = process.started_at if process else service.get("started_at")
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


def down_line(state_dir: Path) -> str:
    """The line when no service holds the lock of ``state_dir``."""
    return f"dataMan DOWN: not running (state {state_dir})"


def duration(seconds: float) -> str:
    """``14s``, ``12m05s``, ``3h12m``, ``2d03h``: two units at most, for a narrow display.

    >>> duration(14.7), duration(725), duration(11520), duration(183600)
    ('14s', '12m05s', '3h12m', '2d03h')
    """
    total = max(0, int(seconds))
    minutes, secs = divmod(total, 60)
    hours, mins = divmod(minutes, 60)
    days, hrs = divmod(hours, 24)
    if days:
        return f"{days}d{hrs:02d}h"
    if hours:
        return f"{hours}h{mins:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _snapshot_fields(snapshot: dict[str, Any], now: float) -> list[str]:
    counts = snapshot.get("counts") or {}
    alive, expected = _workers_alive(snapshot)
    fields = [f"workers {alive}/{expected}", f"queue {counts.get('queued', 0)}",
              f"done {counts.get('delivered', 0)}", f"failed {counts.get('failed', 0)}"]
    last = snapshot.get("last")
    if last:
        fields.append(f"last {last.get('name')} {last.get('latency') or 0:.2f}s "
                      f"{duration(now - (last.get('delivered_at') or now))} ago")
    return fields


def _workers_alive(snapshot: dict[str, Any]) -> tuple[int, int]:
    workers = snapshot.get("workers") or []
    # A worker counts once it has said hello: one that is still starting (or that
    # keeps failing to start) cannot take a frame yet.
    alive = sum(1 for worker in workers if worker.get("state") in ("idle", "busy", "stopping"))
    expected = (snapshot.get("service") or {}).get("workers_expected", len(workers))
    return alive, expected


def _service_problems(snapshot: dict[str, Any]) -> list[str]:
    state = (snapshot.get("service") or {}).get("state")
    return {"paused": ["intake paused"], "stopping": ["service stopping"]}.get(state, [])


def _worker_problems(snapshot: dict[str, Any]) -> list[str]:
    alive, expected = _workers_alive(snapshot)
    return [f"workers missing: {alive}/{expected} alive"] if alive < expected else []


def _queue_problems(snapshot: dict[str, Any], now: float) -> list[str]:
    """Frames free to run (no ``not_before``) that nobody takes: the pool cannot keep up."""
    waiting = [item["requested_at"] for item in snapshot.get("queue") or []
               if item.get("not_before") is None and item.get("requested_at") is not None]
    if not waiting or now - min(waiting) <= QUEUE_WAIT_WARNING:
        return []
    queued = (snapshot.get("counts") or {}).get("queued", len(snapshot.get("queue") or []))
    return [f"queue backing up: {queued} queued, oldest waiting {duration(now - min(waiting))}"]


def _failure_problems(snapshot: dict[str, Any], now: float) -> list[str]:
    failed = [item for item in snapshot.get("recent") or []
              if item.get("result") == "failed"
              and now - (item.get("finished_at") or 0) <= FAILURE_WINDOW]
    if not failed:
        return []
    newest = max(failed, key=lambda item: item.get("finished_at") or 0)
    reason = _shorten(str(newest.get("reason") or "no reason given"))
    return [f"recent failures: {len(failed)} in {FAILURE_WINDOW / 60:.0f} min, "
            f"last {newest.get('name')} ({reason})"]


def _delivery_problems(snapshot: dict[str, Any], now: float) -> list[str]:
    """Processed frames that do not reach repoDir: unreachable, or waiting too long.

    A frame's wait starts when it finished processing (its ``recent`` item);
    a frame no longer in ``recent`` has no known start and does not count.
    """
    transfers = snapshot.get("transfers") or {}
    awaiting = set(transfers.get("awaiting_delivery") or [])
    if not awaiting:
        return []
    count = f"{len(awaiting)} frame{'s' if len(awaiting) > 1 else ''} waiting"
    if not transfers.get("repo_reachable", True):
        reason = transfers.get("repo_reason") or "repoDir unreachable"
        return [f"delivery stalled: {count} ({_shorten(str(reason))})"]
    since = [item["finished_at"] for item in snapshot.get("recent") or []
             if item.get("name") in awaiting and item.get("finished_at") is not None]
    if since and now - min(since) > DELIVERY_WAIT_WARNING:
        return [f"delivery stalled: {count}, oldest {duration(now - min(since))}"]
    return []


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_WIDTH else text[: REASON_WIDTH - 3] + "..."
