"""A worker runs catch-up frames at a lower CPU and I/O priority than live ones, per job.

The supervisor marks each job live or catch-up (``Job.catch_up``); before a
catch-up job the worker raises its nice value to :data:`CATCH_UP_NICE` and puts
itself in the idle I/O class, and before a live job it goes back to what it had
at its start. So a catch-up frame running beside a live one gets the CPU the
live frame leaves (about a tenth of a core at nice 10 against 0 when both want
it) and the disk when the live frame does not read.

Linux keeps both values per thread, and part of a frame runs in thread pools
(the overscan fill, the second copy): every thread of the worker is set, and a
thread started later inherits the values of the thread that starts it.

Going back up needs a permission: an unprivileged process may lower its nice
value only down to ``20 - RLIMIT_NICE`` (``LimitNICE=+0`` in the systemd unit
allows nice 0). A worker that could not go back would run every later live
frame slowly, so it checks at its start, in a throwaway thread, and without that
permission it lowers only the I/O priority (always reversible), saying so once.

:func:`idle_priority` puts a whole process at the lowest priority for good:
``dataman process`` beside the running service, whose workers inherit it.
"""

from __future__ import annotations

import logging
import os
import threading
from contextlib import suppress
from dataclasses import dataclass

import psutil

log = logging.getLogger("dataman")

#: A catch-up job's nice value (unless the worker started nicer than that).
CATCH_UP_NICE = 10
#: A catch-up job's I/O class: the disk only when nobody else wants it (BFQ; the
#: mq-deadline and none schedulers ignore I/O classes).
CATCH_UP_IO = (psutil.IOPRIO_CLASS_IDLE, 0)


def thread_ids() -> list[int]:
    """The ids of this process's threads (``/proc/self/task``)."""
    return [int(name) for name in os.listdir("/proc/self/task")]


def can_lower_nice(nice: int, to: int) -> bool:
    """Whether this process may go from nice ``nice`` back to ``to`` (a thread tries it)."""
    if to >= nice:
        return True
    allowed: list[bool] = []

    def attempt() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, nice)  # this thread alone (Linux)
            os.setpriority(os.PRIO_PROCESS, 0, to)
            allowed.append(True)
        except OSError:
            allowed.append(False)

    thread = threading.Thread(target=attempt, name="nice-check")
    thread.start()
    thread.join()
    return allowed == [True]


@dataclass
class JobPriority:
    """The worker's priority for the job at hand; ``base_*`` are its values at start."""

    base_nice: int
    base_io: tuple[int, int]
    lower_cpu: bool  # False: the nice value could not be restored, only I/O is lowered
    catch_up: bool = False

    @classmethod
    def at_start(cls) -> JobPriority:
        """This process's values now, and whether a lowered nice value can be restored."""
        nice = os.getpriority(os.PRIO_PROCESS, 0)
        io = psutil.Process().ionice()
        lower_cpu = can_lower_nice(max(nice, CATCH_UP_NICE), nice)
        if not lower_cpu:
            log.warning("worker pid %d: catch-up frames run at normal CPU priority (nice %d):"
                        " it could not return to it for live frames (RLIMIT_NICE; the "
                        "systemd unit's LimitNICE=+0 allows it); I/O priority is lowered",
                        os.getpid(), nice)
        return cls(nice, (int(io[0]), int(io[1])), lower_cpu)

    def set_for(self, catch_up: bool) -> None:
        """Every thread at the catch-up priority or back at the start's, before a job."""
        if catch_up == self.catch_up:
            return
        nice = max(self.base_nice, CATCH_UP_NICE) if catch_up else self.base_nice
        set_threads(nice if self.lower_cpu else None,
                    CATCH_UP_IO if catch_up else self.base_io)
        self.catch_up = catch_up


def set_threads(nice: int | None, io: tuple[int, int]) -> None:
    """Every thread of this process at ``nice`` (None: unchanged) and I/O (class, level)."""
    for tid in thread_ids():
        with suppress(ProcessLookupError, psutil.NoSuchProcess):  # a thread that ended
            if nice is not None:
                try:
                    os.setpriority(os.PRIO_PROCESS, tid, nice)
                except PermissionError as error:  # only if RLIMIT_NICE was lowered meanwhile
                    log.warning("pid %d: cannot set nice %d: %s", os.getpid(), nice, error)
            psutil.Process(tid).ionice(io[0], io[1])


def idle_priority() -> None:
    """This process, and every process it starts from now on, at the lowest CPU and I/O
    priority: nice 19 and the idle I/O class (a child inherits both)."""
    set_threads(max(19, os.getpriority(os.PRIO_PROCESS, 0)), (psutil.IOPRIO_CLASS_IDLE, 0))
