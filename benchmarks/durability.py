"""What durability costs: ``[processing] fsync = True`` per frame, and the check at start.

    .venv/bin/python benchmarks/durability.py [--runs 5] [--frames 200] [--dir /on/the/disk]

1. One full MODS frame processed and delivered with ``fsync`` off and on, alternated run
   by run (same buffers, outputs deleted after each run); prints the medians of the
   write+deliver steps and of the whole frame, and the difference: what ``fsync = True``
   adds per frame on this disk.
2. The check after an unclean stop (``dataman.service.powercut``): ``--frames`` outputs of
   the output's size in procDir and repoDir, recorded in a journal; prints how long the
   journal query and the size + FITS-structure check of all of them take (the start-up
   cost of a busy night's last ``VERIFY_WINDOW``), and per frame. The copies are sparse
   (the headers written where they belong, the data a hole: the check reads only
   headers), so their headers are in the page cache; ``--full-copies`` writes every byte
   instead (about 150 MB per file: 200 frames need 60 GB of disk), which pushes the
   headers out of a cache smaller than that, as after a power cut.

Put ``--dir`` on the disk the service uses (procDir/repoDir): ``fsync`` cost is the
disk's, a tmpfs costs nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dataman.core.buffers import Buffers  # noqa: E402
from dataman.core.config import Config, load_config  # noqa: E402
from dataman.core.pipeline import process_frame  # noqa: E402
from dataman.ipc.slots import FrameBudget  # noqa: E402
from dataman.service.journal import Journal  # noqa: E402
from dataman.service.powercut import VERIFY_WINDOW, check_outputs  # noqa: E402
from dataman.sim.frames import FrameSpec, write_raw_frame  # noqa: E402


def write_config(folder: Path, *, fsync: bool) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataman.ini").write_text(
        "[paths]\ndataDir = ../data\nprocDir = ../proc\nrepoDir = ../newdata\nlogDir = log\n"
        "stateDir = state\nmakeDirs = True\n[server]\nhostid = bench\n"
        f"[processing]\nfsync = {fsync}\n[quality]\nthumbnails = False\n")
    return load_config(folder / "dataman.ini")


def time_frames(work: Path, runs: int) -> dict[bool, list[tuple[float, float]]]:
    """(write+deliver, whole frame) seconds per run, fsync off and on, alternated."""
    configs = {fsync: write_config(work / f"fsync-{fsync}", fsync=fsync)
               for fsync in (False, True)}
    raw = write_raw_frame(work / "data" / "mods1b",
                          FrameSpec(roi="full", binning=1, night="20251230", number=1))
    budget = FrameBudget.largest()
    buffers = Buffers(raw=memoryview(bytearray(budget.raw_size)),
                      merged=memoryview(bytearray(budget.merged_size)))
    times: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for run in range(runs + 1):  # the first round warms up, not counted
        for fsync, config in configs.items():
            begun = time.perf_counter()
            result = process_frame(raw, config, buffers=buffers, redo=True)
            whole = time.perf_counter() - begun
            if run:
                times[fsync].append((result.timings["write"] + result.timings["deliver"],
                                     whole))
            for path in (result.processed, result.delivered):
                if path is not None:
                    path.unlink()
    return times


def copy_output(source: Path, target: Path, *, sparse: bool) -> None:
    """``source`` to ``target``: every byte, or its headers only at their places (sparse)."""
    if not sparse:
        shutil.copyfile(source, target)
        return
    from astropy.io import fits

    with fits.open(source) as hdus, open(source, "rb") as origin, open(target, "wb") as copy:
        for hdu in hdus:
            info = hdu.fileinfo()
            origin.seek(info["hdrLoc"])
            copy.seek(info["hdrLoc"])
            copy.write(origin.read(info["datLoc"] - info["hdrLoc"]))
        copy.truncate(source.stat().st_size)


def time_check(work: Path, frames: int, *, sparse: bool) -> tuple[float, float, int]:
    """(journal query seconds, check seconds, bytes per output) for ``frames`` outputs."""
    sample = next((work / "data" / "mods1b").iterdir())
    config = write_config(work / "fsync-False", fsync=False)
    output = process_frame(sample, config)
    size = output.processed.stat().st_size
    state = work / "check-state"
    state.mkdir()
    now = time.time()
    with Journal.open(state) as journal:
        for number in range(1, frames + 1):
            name = f"mods1b.20251231.{number:04d}.fits"
            processed = work / "proc" / "20251231" / name
            delivered = work / "newdata" / name
            processed.parent.mkdir(parents=True, exist_ok=True)
            copy_output(output.processed, processed, sparse=sparse)
            copy_output(output.processed, delivered, sparse=sparse)
            record = journal.request(name, f"/data/{name}", "mods1b", "datagram", now).record
            journal.start(record.id, 1, now)
            journal.processed(record.id, processed, name, {}, 0, now + number,
                              delivered_path=delivered, output_size=size)
        begun = time.perf_counter()
        records = journal.written_lately(VERIFY_WINDOW + frames)
        queried = time.perf_counter() - begun
    result = check_outputs(records)
    assert result.checked == frames and not result.damaged, result.damaged
    return queried, result.seconds, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: temp)")
    parser.add_argument("--full-copies", action="store_true",
                        help="write the check's outputs whole, not sparse (60 GB for 200)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dataman-durability-", dir=args.dir))
    try:
        times = time_frames(work, args.runs)
        medians = {fsync: (statistics.median(t[0] for t in runs),
                           statistics.median(t[1] for t in runs))
                   for fsync, runs in times.items()}
        print(f"full frame, {args.runs} runs each, in {work}:")
        for fsync, (io, whole) in medians.items():
            print(f"  fsync = {fsync!s:5}  write+deliver {io * 1000:7.1f} ms   "
                  f"frame {whole * 1000:7.1f} ms")
        print(f"  fsync = True costs {(medians[True][1] - medians[False][1]) * 1000:+.1f} ms "
              f"per frame (write+deliver {(medians[True][0] - medians[False][0]) * 1000:+.1f} "
              "ms)")
        queried, checked, size = time_check(work, args.frames, sparse=not args.full_copies)
        kind = "whole" if args.full_copies else "sparse"
        print(f"check after an unclean stop, {args.frames} frames, {kind} outputs of "
              f"{size / 2**20:.1f} MiB (processed + delivered each): journal query "
              f"{queried * 1000:.1f} ms, "
              f"check {checked * 1000:.1f} ms ({checked / args.frames * 1000:.2f} ms a frame)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
