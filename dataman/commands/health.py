"""``dataman health``: one status line and an exit status, for ``modsStatus.pl``.

Exit status 0 OK, 1 WARNING, 2 DOWN, as monitoring plugins do. The service
is asked for a snapshot on its control socket; when it does not answer, the
lock file still says whether it runs and psutil what it costs, so a hung
service is reported as such instead of as down. The whole check returns
within a second even then: the status display must never wait on dataMan.

    $ dataman health
    dataMan OK pid 4242 up 3h12m cpu 2% rss 310MB workers 2/2 queue 0 done 143 ...
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import psutil

from dataman.commands.common import add_config_option, config_or_exit
from dataman.ipc.control import ControlError, ControlUnavailable, request
from dataman.service import lock
from dataman.service.health import Health, ProcessInfo, assess, down_line, health_line

#: How long the service gets to answer, seconds: the rest of the second is for
#: starting Python and for psutil.
SOCKET_TIMEOUT = 0.6
#: The CPU usage interval, seconds; it overlaps the socket request.
CPU_SAMPLE = 0.15


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``health``; ``args.func(args)`` prints the line and returns the exit status."""
    parser = subparsers.add_parser(
        "health", help="one status line; exit 0 OK, 1 warning, 2 down",
        description="Print one line on the state of the running dataMan (for the "
                    "instrument status display). Exit status 0 OK, 1 WARNING, 2 DOWN.")
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Lock holder first (it is instant), then the socket while the CPU sample runs."""
    config = config_or_exit(args, create_dirs=False, check_dirs=False)
    state_dir = config.paths.state_dir
    holder = lock.holder(state_dir)
    sample = _start_sample(holder)
    snapshot, trouble = _ask(config.server.control_socket)
    if snapshot is None and holder is None:
        print(down_line(state_dir))
        return 2
    process = _finish_sample(sample)
    now = time.time()
    health, line = _verdict(snapshot, trouble, process, now)
    print(line)
    return health.level


def _ask(socket_path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The snapshot, or None and why there is none."""
    try:
        return request(socket_path, "snapshot", timeout=SOCKET_TIMEOUT), None
    except ControlUnavailable as error:
        return None, f"control socket not answering ({error})"
    except ControlError as error:
        return None, f"control socket refused the snapshot ({error})"


def _verdict(snapshot: dict[str, Any] | None, trouble: str | None,
             process: ProcessInfo | None, now: float) -> tuple[Health, str]:
    if snapshot is not None:
        try:
            health = assess(snapshot, now)
            return health, health_line(health, snapshot, process, now)
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            trouble = f"unreadable snapshot ({type(error).__name__}: {error})"
    health = Health.of([trouble or "no snapshot"])
    return health, health_line(health, None, process, now)


def _start_sample(pid: int | None) -> tuple[float, list[psutil.Process]]:
    """Start one CPU measurement of the supervisor and all its descendants."""
    begun = time.monotonic()
    if pid is None or pid <= 0:
        return begun, []
    try:
        main = psutil.Process(pid)
        processes = [main, *main.children(recursive=True)]
        for process in processes:
            process.cpu_percent(None)
    except psutil.Error:
        return begun, []
    return begun, processes


def _finish_sample(sample: tuple[float, list[psutil.Process]]) -> ProcessInfo | None:
    """Sum CPU and memory over the sample; None if the supervisor is not visible."""
    begun, processes = sample
    if not processes:
        return None
    time.sleep(max(0.0, CPU_SAMPLE - (time.monotonic() - begun)))
    main, cpu, rss, children = processes[0], 0.0, 0, 0
    try:
        started = main.create_time()
    except psutil.Error:
        return None
    for process in processes:
        try:
            cpu += process.cpu_percent(None)
            rss += process.memory_info().rss
            children += process is not main and process.ppid() == main.pid
        except psutil.Error:
            continue  # a child that just exited
    return ProcessInfo(main.pid, started, cpu, rss, children)
