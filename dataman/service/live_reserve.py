"""How many idle workers catch-up frames leave to live requests (``liveReserve``).

Catch-up frames (the raw-folder scan's finds, frames queued again at a start)
queue behind live requests, but order alone does not protect a live frame: after
an outage the backlog keeps every worker busy, so a live request waits for a
catch-up frame to finish and then shares the machine with the others. So a
catch-up frame may start only while more than ``liveReserve`` workers are idle:
a live request finds an idle worker at once. One worker always stays available
to catch-up, so with one worker (or one left while another restarts) the
backlog still moves, one frame at a time, and a live frame waits for at most
that one. The reserve counts idle workers, not live frames running: while a
live frame runs, the next live frame (the other channel's) keeps a worker too.
"""

from __future__ import annotations

from collections.abc import Iterable

from dataman.ipc.states import WorkerState
from dataman.service.worker_process import WorkerHandle


def reserve(configured: int, serving: int) -> int:
    """Idle workers kept for live requests among ``serving`` workers: ``liveReserve``,
    but never all of them (the backlog must move).

    >>> reserve(1, 2), reserve(1, 1), reserve(3, 2), reserve(0, 4)
    (1, 0, 1, 0)
    """
    return max(0, min(configured, serving - 1))


def catch_up_may_start(workers: Iterable[WorkerHandle], configured: int) -> bool:
    """Whether a catch-up frame may take one of the idle ``workers`` now.

    Serving workers are counted by index: a recycled worker and its successor
    are one worker during the handover.
    """
    workers = list(workers)
    idle = sum(worker.state is WorkerState.IDLE for worker in workers)
    serving = len({worker.index for worker in workers
                   if worker.state in (WorkerState.IDLE, WorkerState.BUSY)})
    return idle > reserve(configured, serving)
