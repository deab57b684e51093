"""The running service: its lifetime, signals, periodic duties and the control protocol.

:func:`serve` acquires what only one service may hold (lock, journal, slots),
then :class:`Service` binds the UDP command socket and the control socket,
starts the supervisor and runs the loop until ``quit``, SIGTERM or a console's
``stop``. Signal handlers only record the reason and wake the loop. The parts
with a job of their own live in their own modules: the jobs themselves
(``supervisor.py``), datagrams to requests (``datagrams.py``), the periodic scan
of dataDir (``scanner.py``), the control socket's requests (``control_requests.py``)
and the log lines sent to consoles (``log_events.py``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from contextlib import suppress
from datetime import UTC, datetime

from dataman.core.config import Config
from dataman.ipc.control_server import ControlServer
from dataman.ipc.datagram import SenderPolicy
from dataman.ipc.protocol_events import FrameFinished
from dataman.ipc.protocol_snapshot import FrameEntry
from dataman.ipc.slots import FrameBudget, SlotPool, instance_id, sweep_stale
from dataman.ipc.udp import bind_command_socket
from dataman.service.control_requests import ControlRequests
from dataman.service.datagrams import DatagramIntake
from dataman.service.journal import Journal
from dataman.service.lock import InstanceLock
from dataman.service.log_events import EventLogHandler
from dataman.service.powercut import (
    REDO_TIMEOUT,
    record_clean_stop,
    stopped_cleanly,
    verify_after_unclean_stop,
)
from dataman.service.salvage import check_registry, open_journal
from dataman.service.scan import nights_to_scan
from dataman.service.scanner import Scanner
from dataman.service.sdnotify import Notifier, status_text, watchdog_loop
from dataman.service.snapshot import Gauges, LogRing, section, section_event, snapshot
from dataman.service.supervisor import Supervisor

log = logging.getLogger("dataman")
TICK = 0.5  # seconds between checks of time limits and postponed frames
#: Longest wait for the workers to be ready before the command socket is bound anyway
#: (well within the unit's TimeoutStartSec of 60 s).
READY_TIMEOUT = 30.0
GAUGE_PERIOD = 1.0


async def serve(config: Config, notifier: Notifier | None = None) -> None:
    """Run the service until it is told to stop; raises named errors if it cannot start."""
    state_dir = config.paths.state_dir
    notifier = notifier or Notifier()
    lock = InstanceLock.acquire(state_dir)
    try:
        clean = stopped_cleanly(state_dir)  # used up: a crash from now on leaves none
        journal, notices = open_journal(state_dir, time.time())
        notices += check_registry(state_dir, nights_to_scan(datetime.now(UTC),
                                                            config.site.utc_offset),
                                  time.time(), journal)
        try:
            instance = instance_id(state_dir)
            stale = sweep_stale(instance)
            if stale:
                log.warning("removed %d shared-memory slots left by a killed run: %s",
                            len(stale), " ".join(stale))
            workers = config.workers
            if workers.slots != workers.count:  # a job holds one slot while it runs
                log.warning("[workers] slots = %d with count = %d: %s", workers.slots,
                            workers.count, "the extra slots are never used" if workers.slots
                            > workers.count else "some workers will wait for a slot")
            if not clean:  # before any work: outputs a power cut may have cut short
                notifier.send(f"EXTEND_TIMEOUT_USEC={int((REDO_TIMEOUT + 60) * 1e6)}")
                notifier.status("checking the newest outputs after an unclean stop")
                verify_after_unclean_stop(config, journal)
            budget = FrameBudget.of_window(workers.slot_size)
            with SlotPool.create(instance, workers.slots, budget) as slots:
                service = Service(config, journal, slots, notifier)
                service.sup.notices += notices  # a damaged journal or registry set aside
                service.scanner.adopt = any(n.startswith("journal") for n in notices)
                await service.run()
            record_clean_stop(state_dir, time.time())
        finally:
            journal.close()
    finally:
        lock.release()


def intake_text(config: Config) -> str:
    """Where frames come from, for the start line: the UDP port, or the scan alone."""
    if config.server.port:
        return f"commands on udp {config.server.host}:{config.server.port}"
    return f"no UDP port, frames found by the scan every {config.service.scan_interval:g} s"


class Service:
    """Runs a supervisor behind the two sockets until asked to stop; answers the
    control socket and publishes what changed to its subscribers."""

    def __init__(self, config: Config, journal: Journal, slots: SlotPool,
                 notifier: Notifier) -> None:
        self.notifier = notifier
        self.policy = SenderPolicy.from_config(config.server.allowed_senders)
        self.control = ControlServer(config.server.control_socket,
                                     lambda request: self.requests(request))
        self.gauges, self.log_ring = Gauges(), LogRing()
        self.stop_reason: str | None = None
        self.stop_event = asyncio.Event()
        self._dirty: set[str] = set()
        self.sup = Supervisor(config, journal, slots, changed=self.mark_changed,
                              frame_finished=self._publish_frame,
                              frame_refused=self.control.publish_event)
        self.datagrams = DatagramIntake(self.policy, config.paths.data_dir,
                                        request_frames=self.sup.request_frames,
                                        quit=self.request_stop, now=self.sup.now)
        self.scanner = Scanner(config, journal, request_frames=self.sup.request_frames,
                               now=self.sup.now)
        self.requests = ControlRequests(self.sup, self.gauges, self.log_ring, self.request_stop)

    def _publish_frame(self, item: FrameEntry) -> None:
        self.control.publish_event(FrameFinished(item))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.request_stop, signal.Signals(signum).name)
        handler = EventLogHandler(self.log_ring, self.control.publish_event)
        log.addHandler(handler)
        config, tasks, udp = self.sup.config, [], None
        begun = loop.time()
        try:
            await self.control.start()
            try:
                await self.sup.start()
                await self.until_workers_ready()
                if self.stop_reason is None:
                    if config.server.port:  # 0: no UDP at all, the scan finds the frames
                        udp = await bind_command_socket(config.server.host, config.server.port,
                                                        self.datagrams.on_datagrams)
                    self.sup.begin()
                    self.notifier.ready()
                    log.info("dataMan started: pid %d, %s, control %s, %d workers ready in "
                             "%.2f s, %d slots%s", os.getpid(), intake_text(config),
                             config.server.control_socket, config.workers.count,
                             loop.time() - begun, config.workers.slots,
                             "" if config.service.deliver else
                             "; SHADOW: nothing is delivered to repoDir")
                    tasks = [asyncio.create_task(coroutine) for coroutine in (
                        watchdog_loop(self.notifier, self.status), self.measure(),
                        self.scanner.run())]
                    await self.loop()
                log.info("stopping: %s", self.stop_reason)
                self.notifier.stopping()
            finally:
                if udp is not None:
                    udp.close()  # intake stops first
                await self.sup.stop()  # whatever ended the loop, workers are stopped
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.control.close()
            log.removeHandler(handler)
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
        log.info("dataMan stopped")

    async def until_workers_ready(self) -> None:
        """Wait until every worker is warm (``WorkerPool.ready``), a stop is asked
        or ``READY_TIMEOUT`` passes.

        Only then is the UDP port bound and systemd told READY=1: a datagram the port
        accepts is processed at full speed, and one sent earlier is refused by the kernel
        (azcam does not wait for an answer), as when the service is down: the start-up
        scan finds its frame (unless ``scanInterval = 0``).
        """
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
        while not self.sup.pool.ready() and self.stop_reason is None:
            if asyncio.get_running_loop().time() > deadline:
                log.warning("workers not ready after %.0f s; serving anyway", READY_TIMEOUT)
                return
            self.sup.wake.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self.sup.wake.wait(), TICK)

    async def loop(self) -> None:
        while self.stop_reason is None:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), TICK)
            try:
                self.sup.tick()
            except Exception as error:  # a failed tick must not end the service
                log.error("periodic duties failed: %r", error,
                          exc_info=log.isEnabledFor(logging.DEBUG))

    def request_stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            self.stop_event.set()
            self.sup.wake.set()

    def status(self) -> str:
        """Tonight's numbers, as the health line and the console count them."""
        counts = section(self.sup, "counts", self.gauges, self.log_ring, self.sup.now())
        if not self.sup.config.service.deliver:  # processed is where a shadow frame ends
            return "SHADOW " + status_text(counts.queue_total, counts.processed, counts.failed)
        return status_text(counts.queue_total, counts.delivered, counts.failed)

    def mark_changed(self, *sections: str) -> None:
        """Publish these sections once, after the current event has been handled."""
        if not self._dirty:
            asyncio.get_running_loop().call_soon(self._flush)
        self._dirty.update(sections)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        if not self.control.subscriber_count:
            return  # nobody to tell: building a section of 10,000 queued frames costs
        now = self.sup.now()
        if "health" in dirty:  # health needs every section: build them all, once
            whole = snapshot(self.sup, self.gauges, self.log_ring, now)
            built = {name: getattr(whole, name) for name in dirty}
        else:
            built = {name: section(self.sup, name, self.gauges, self.log_ring, now)
                     for name in dirty}
        for name in sorted(dirty):
            self.control.publish_event(section_event(name, built[name]))

    async def measure(self) -> None:
        """Refresh disk space and worker CPU/memory, off the loop, once a second."""
        paths = self.sup.config.paths
        while True:
            pids = [worker.pid for worker in self.sup.pool.workers]
            try:
                await asyncio.to_thread(self.gauges.refresh, paths.proc_dir, paths.repo_dir,
                                        pids)
            except Exception as error:  # gauges are informative: never fatal
                log.error("measuring disks and workers failed: %r", error)
            self.mark_changed("workers", "transfers", "health", "counts")
            await asyncio.sleep(GAUGE_PERIOD)
