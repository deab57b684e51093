"""How fast the supervisor's queue picks the next frame with 10,000 queued.

    .venv/bin/python benchmarks/bench_queue.py [--queued 10000] [--picks 1000] [--runs 5]

The supervisor picks a frame for every free worker and after every datagram, so a pick
must not cost a scan of the whole queue. Each run queues ``--queued`` frames (a seventh
of them postponed, as raw files not there yet), then ``--picks`` times takes the next
ready frame, removes it and queues it again postponed. The baseline, measured in the same
run, is what the pick would cost as a scan: the earliest requested of the ready frames
of a list (the queue's order among frames of one source), one pass over it per pick.
Prints the medians and their ratio; the suite asserts no timing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dataman.ipc.states import Source  # noqa: E402
from dataman.service.queue import FrameQueue, QueuedFrame  # noqa: E402


def frame(frame_id: int, not_before: float) -> QueuedFrame:
    name = f"mods1b.20251230.{frame_id:05d}.fits"
    return QueuedFrame(frame_id, name, "mods1b", Path("/nowhere") / name, Source.DATAGRAM,
                       0.0, not_before=not_before)


def time_queue(queued: int, picks: int) -> float:
    queue = FrameQueue()
    for frame_id in range(1, queued + 1):
        queue.add(frame(frame_id, float(frame_id % 7)))
    started = time.perf_counter()
    for step in range(picks):
        picked = queue.next_ready(now=step / 100)  # a clock that moves on
        assert picked is not None
        queue.remove(picked.id)
        queue.add(frame(picked.id, 10.0 + step))
    return time.perf_counter() - started


def time_scan(queued: int, picks: int) -> float:
    frames = [frame(frame_id, float(frame_id % 7)) for frame_id in range(1, queued + 1)]
    started = time.perf_counter()
    for step in range(picks):
        now = step / 100
        picked = min((f for f in frames if f.not_before <= now), key=lambda f: f.id)
        frames.remove(picked)
        frames.append(frame(picked.id, 10.0 + step))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--picks", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    queue_times, scan_times = [], []
    for _ in range(args.runs):  # alternated, so both see the same machine
        queue_times.append(time_queue(args.queued, args.picks))
        scan_times.append(time_scan(args.queued, args.picks))
    queue, scan = statistics.median(queue_times), statistics.median(scan_times)
    print(f"{args.picks} picks with {args.queued} queued, median of {args.runs}:")
    print(f"  FrameQueue  {queue * 1e3:8.1f} ms  ({queue / args.picks * 1e6:.1f} us a pick)")
    print(f"  list scan   {scan * 1e3:8.1f} ms  ({scan / args.picks * 1e6:.1f} us a pick)")
    print(f"  FrameQueue / scan: {queue / scan:.2f}x")


if __name__ == "__main__":
    main()
