"""A worker process: takes jobs from the supervisor and runs the pipeline in a slot.

Started by the supervisor as ``python -m dataman.service.worker --fd N -c FILE``
with one end of a Unix socket pair as fd N. It reads :mod:`dataman.ipc.jobs`
lines, attaches the job's shared-memory slot, processes the frame with
:mod:`dataman.core.pipeline` and answers with ``JobDone`` or ``JobFailed``.
Its log records go to the supervisor (one writer for the night log), and it
reports each step as it starts, so the console can show where a frame is.

Before it says hello it maps every slot (``--slot``, page tables filled) and
warms up on a synthetic frame (:mod:`dataman.service.warmup`), so the first
frame it is given runs as fast as any other. A catch-up frame runs at a lower CPU and
I/O priority than a live one (:mod:`dataman.service.job_priority`).

A worker holds no state between jobs that matters: the supervisor may kill it
at any moment (time limit, stop) and start another. The one thing it carries
from job to job is the night's bias trend for the bias-jump check
(:mod:`dataman.core.quality.trend`); it is the trend of this worker's frames,
and a new worker starts it afresh.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from dataman.core.config import Config, load_config, with_synced_writes
from dataman.core.diskfaults import passing_disk_error
from dataman.core.errors import DataManError, DeliveryFailed, FrameIncomplete
from dataman.core.holds import hold_point
from dataman.core.pipeline import FrameResult, deliver, log_quality, prepare, write_and_deliver
from dataman.core.publish import describe_os_error
from dataman.core.quality import BiasTrend
from dataman.ipc.datagram import resolves_outside
from dataman.ipc.jobs import (
    Cause,
    DeliverJob,
    Hello,
    Job,
    JobDone,
    JobFailed,
    LogLine,
    Message,
    StepStarted,
    Stop,
    UniqnameReserved,
    decode,
    encode,
)
from dataman.ipc.mappings import SlotMappings
from dataman.ipc.slots import SlotRef
from dataman.service.heap import keep_heap
from dataman.service.job_priority import JobPriority
from dataman.service.warmup import warm_up

log = logging.getLogger("dataman")


class Channel:
    """The worker's end of the socket pair; ``send`` is safe from the delivery thread."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()
        self.lines: BinaryIO = sock.makefile("rb")

    def send(self, message: Message) -> None:
        with self._lock:
            self._sock.sendall(encode(message))


class SupervisorLogHandler(logging.Handler):
    """Forward log records to the supervisor instead of writing files."""

    def __init__(self, channel: Channel) -> None:
        super().__init__()
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        with suppress(OSError):  # the supervisor is gone; no result reaches it either
            self._channel.send(LogLine(record.levelno, record.getMessage()))


def run_job(job: Job, config: Config, channel: Channel, slots: SlotMappings,
            trend: BiasTrend | None = None) -> tuple[Message, BiasTrend | None]:
    """Process one frame; every failure becomes a ``JobFailed`` with its cause.

    Returns the answer and the bias trend to pass to the next job: with this
    frame's levels once it is processed, unchanged when it failed (it is tried
    again, and counts once).
    """
    result = FrameResult(Path(job.path).name, observer=_observer(job.frame_id, channel))
    answer = _run_job(job, config, channel, slots, trend, result)
    if not isinstance(answer, JobDone):
        return answer, trend
    log_quality(result)
    return answer, result.trend or trend


def _run_job(job: Job, config: Config, channel: Channel, slots: SlotMappings,
             trend: BiasTrend | None, result: FrameResult) -> Message:
    path = Path(job.path)
    outside = resolves_outside(path, config.paths.data_dir)
    if outside is not None:  # a symlink made after the request was accepted
        return JobFailed(job.frame_id, outside, Cause.BAD, {})
    try:
        size = path.stat().st_size
        with slots.use(SlotRef.from_dict(job.slot)) as buffers:
            prepared = prepare(path, config, result, buffers, trend)
            if path.stat().st_size != size:
                raise FrameIncomplete(f"{path.name}: still growing while it was read")
            if job.uniqname:
                prepared.frame.primary["UNIQNAME"] = job.uniqname
            try:
                write_and_deliver(prepared, config, result, datetime.now(UTC),
                                  deliver=job.deliver, retry=job.retry)
            finally:
                del prepared  # its arrays view the slot; they must go before detaching
    except FileNotFoundError as error:
        return JobFailed(job.frame_id, f"{path.name}: not found ({error.filename})",
                         Cause.MISSING, result.timings)
    except FrameIncomplete as error:
        return JobFailed(job.frame_id, str(error), Cause.INCOMPLETE, result.timings)
    except DeliveryFailed as error:
        if result.processed is None:
            cause = Cause.STALLED if passing_disk_error(error) else Cause.OUTPUT
            return JobFailed(job.frame_id, f"{path.name}: cannot write: {error}", cause,
                             result.timings)
        return _done(job.frame_id, result, str(error))
    except DataManError as error:
        return JobFailed(job.frame_id, str(error), Cause.BAD, result.timings)
    except Exception as error:  # a bug must cost one frame, not the worker
        disk = passing_disk_error(error)
        if disk is not None:  # a full, stale or failing disk (procDir, stateDir, dataDir)
            return JobFailed(job.frame_id, f"{path.name}: cannot write: "
                             f"{describe_os_error(disk)}", Cause.STALLED, result.timings)
        # The traceback, to find the bug: to the supervisor's log at DEBUG (sent as is,
        # whatever this process's own logging level).
        details = traceback.format_exc().rstrip()
        channel.send(LogLine(logging.DEBUG, f"{path.name}: internal error in worker pid "
                             f"{os.getpid()}:\n{details}"))
        return JobFailed(job.frame_id, f"{path.name}: internal error: {error!r}", Cause.INTERNAL,
                         result.timings, detail=details[-16000:])
    _log_warnings(result)
    return _done(job.frame_id, result, None)


def run_delivery(job: DeliverJob, config: Config) -> Message:
    """Deliver a file processed earlier; a failure leaves it waiting for the next try."""
    result = FrameResult(job.raw_name, instrument=job.instrument, uniqname=job.uniqname,
                         processed=Path(job.processed))
    try:
        result.delivered = deliver(Path(job.processed), job.raw_name, job.uniqname,
                                   job.instrument, config, result)
    except (DeliveryFailed, OSError) as error:
        return _done(job.frame_id, result, str(error))
    _log_warnings(result)
    return _done(job.frame_id, result, None)


def _done(frame_id: int, result: FrameResult, delivery_error: str | None) -> JobDone:
    return JobDone(
        frame_id, str(result.processed), result.uniqname or "",
        str(result.delivered) if result.delivered else None, delivery_error,
        result.instrument, dict(result.timings), list(result.warnings), result.facts,
        result.quality, output_size=result.size)


def _observer(frame_id: int, channel: Channel):
    def observe(event: str, value: str) -> None:
        if event == "step":
            channel.send(StepStarted(frame_id, value))
        elif event == "uniqname":
            channel.send(UniqnameReserved(frame_id, value))
    return observe


def _log_warnings(result: FrameResult) -> None:
    for warning in result.warnings:
        log.warning("%s: %s", result.name, warning)


def get_ready(config: Config, slots: SlotMappings, names: list[str]) -> float:
    """Map every slot, then warm up; seconds taken. Only a slot that cannot be mapped is
    fatal (``SlotError``): a failed warm-up costs the first frame some speed, no more."""
    begun = time.perf_counter()
    slots.map_all(names)
    keep_heap()
    try:
        warm_up(config)
    except Exception as error:  # a bug or a full /tmp must not keep the worker from serving
        log.warning("worker pid %d: warm-up failed, its first frame will be slower: %s",
                    os.getpid(), error)
    return time.perf_counter() - begun


def serve(channel: Channel, config: Config, slot_names: list[str] | None = None) -> None:
    """Get ready, say hello, then answer jobs until ``Stop`` or until the supervisor
    closes the socket."""
    slots = SlotMappings()
    trend: BiasTrend | None = None
    priority = JobPriority.at_start()  # catch-up frames run lower (job_priority.py)
    try:
        ready_in = get_ready(config, slots, slot_names or [])
        hold_point("worker", "hello")  # tests only (core/holds.py): a worker still starting
        channel.send(Hello(os.getpid(), ready_in))
        for line in channel.lines:
            message = decode(line)
            if isinstance(message, Stop):
                return
            if isinstance(message, Job):
                priority.set_for(message.catch_up)
                job_config = with_synced_writes(config) if message.catch_up else config
                answer, trend = run_job(message, job_config, channel, slots, trend)
                channel.send(answer)
            elif isinstance(message, DeliverJob):
                priority.set_for(False)  # a delivery that waited: as a live frame
                channel.send(run_delivery(message, config))
    finally:
        slots.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dataman-worker")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--slot", action="append", default=[], metavar="NAME",
                        help="a shared-memory slot to map at start (repeated)")
    args = parser.parse_args(argv)
    # Ctrl-C in a terminal reaches the whole process group: stopping is the supervisor's call.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    channel = Channel(socket.socket(fileno=args.fd))
    logger = logging.getLogger("dataman")
    logger.handlers[:] = [SupervisorLogHandler(channel)]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        config = load_config(args.config, check_dirs=False, create_dirs=False)
        serve(channel, config, args.slot)
    except (DataManError, OSError) as error:
        print(f"dataman worker {os.getpid()}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
