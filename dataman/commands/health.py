"""``dataman health``: one status line and an exit status, for ``modsStatus.pl``.

Exit status 0 OK, 1 WARNING, 2 DOWN, as monitoring plugins do. The service
is asked for its ``health`` on the control socket and answers with the line
itself, made from its snapshot (CPU and memory included: the service measures
itself once a second), so the common case decodes two fields, imports neither
psutil nor asyncio nor the snapshot's classes, and costs little more than
starting Python: the status display runs this every few seconds. A service
from before that request is asked for its snapshot and the line is made here.
When the socket does not answer, the lock file still says whether the service
runs and psutil what it costs, so a hung service is reported as such instead of
as down. The whole check returns within a second even then.

    $ dataman health
    dataMan OK pid 4242 up 3h12m cpu 2% rss 310MB workers 2/2 queue 0 done 143 ...
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from dataman.commands.common import add_config_option, config_or_exit
from dataman.ipc.control import (
    ControlError,
    ControlUnavailable,
    ProtocolVersionError,
    request,
    request_snapshot,
)
from dataman.ipc.protocol import ProtocolError
from dataman.ipc.protocol_requests import HealthRequest
from dataman.service import lock

#: How long the service gets to answer, seconds: the rest of the second is for
#: starting Python and, when it does not answer, for psutil.
SOCKET_TIMEOUT = 0.5
#: The CPU usage interval when the service does not answer, seconds.
CPU_SAMPLE = 0.1

if TYPE_CHECKING:
    from dataman.ipc.protocol_snapshot import Snapshot
    from dataman.service.health import Health, ProcessInfo


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``health``; ``args.func(args)`` prints the line and returns the exit status."""
    parser = subparsers.add_parser(
        "health", help="one status line; exit 0 OK, 1 warning, 2 down",
        description="Print one line on the state of the running dataMan (for the "
                    "instrument status display). Exit status 0 OK, 1 WARNING, 2 DOWN.")
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """The socket first (the answer has it all); the lock and psutil only without one."""
    config = config_or_exit(args, create_dirs=False, check_dirs=False)
    socket_path = config.server.control_socket
    answer, trouble, older = _ask_line(socket_path)
    if answer is not None:
        level, line = answer
        print(line)
        return level
    snapshot = None
    if older:  # a service from before the health request: its snapshot, judged here
        snapshot, trouble = _ask(socket_path)
    from dataman.service.health import down_line

    process = None
    if snapshot is None:
        holder = lock.holder(config.paths.state_dir)
        if holder is None:
            print(down_line(config.paths.state_dir))
            return 2
        process = _measure(holder)
    health, line = _verdict(snapshot, trouble, process, time.time())
    print(line)
    return health.level


def _ask_line(socket_path: Path) -> tuple[tuple[int, str] | None, str | None, bool]:
    """(level, line) as the service makes them, or None, why there is none, and whether
    the service is one that answers only the snapshot (it refused the request)."""
    try:
        reply = request(socket_path, HealthRequest(), timeout=SOCKET_TIMEOUT,
                        client="dataman health")
    except ControlUnavailable as error:
        return None, f"control socket not answering ({error})", False
    except ProtocolVersionError as error:
        return None, str(error), False
    except ControlError:
        return None, None, True
    except ProtocolError as error:
        return None, f"unreadable reply ({error})", False
    level, line = reply.get("level"), reply.get("line")
    if type(level) is not int or level not in (0, 1, 2) or not isinstance(line, str):
        return None, f"unreadable reply (health: level {level!r}, line {line!r})", False
    return (level, " ".join(line.split())), None, False


def _ask(socket_path: Path) -> tuple[Snapshot | None, str | None]:
    """The snapshot, or None and why there is none."""
    try:
        return request_snapshot(socket_path, timeout=SOCKET_TIMEOUT,
                                client="dataman health"), None
    except ControlUnavailable as error:
        return None, f"control socket not answering ({error})"
    except ProtocolVersionError as error:
        return None, str(error)
    except ControlError as error:
        return None, f"control socket refused the snapshot ({error})"
    except ProtocolError as error:
        return None, f"unreadable snapshot ({error})"


def _verdict(snapshot: Snapshot | None, trouble: str | None,
             process: ProcessInfo | None, now: float) -> tuple[Health, str]:
    from dataman.service.health import Health, assess, health_line, process_in

    if snapshot is not None:
        health = assess(snapshot, now)
        return health, health_line(health, snapshot, process_in(snapshot), now)
    health = Health.of([trouble or "no snapshot"])
    return health, health_line(health, None, process, now)


def _measure(pid: int) -> ProcessInfo | None:
    """CPU and memory of the supervisor and all its descendants, from the kernel.

    None if the supervisor is not visible (another user's, or just gone).
    """
    import psutil  # only here: a service that answers reports its own figures

    from dataman.service.health import ProcessInfo

    if pid <= 0:
        return None
    try:
        main = psutil.Process(pid)
        processes = [main, *main.children(recursive=True)]
        for process in processes:
            process.cpu_percent(None)
        started = main.create_time()
    except psutil.Error:
        return None
    time.sleep(CPU_SAMPLE)
    cpu, rss, children = 0.0, 0, 0
    for process in processes:
        try:
            cpu += process.cpu_percent(None)
            rss += process.memory_info().rss
            children += process is not main and process.ppid() == main.pid
        except psutil.Error:
            continue  # a child that just exited
    return ProcessInfo(main.pid, started, cpu, rss, children)
