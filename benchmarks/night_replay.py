"""Replay a long observing night against the real service and print the archive's table.

    .venv/bin/python benchmarks/night_replay.py [--rounds 5] [--last-night 10] [--keep]

The test suite replays a compressed night (tests/night/test_night_replay.py); this
runs the same scenario longer: ``--rounds`` times the sequence of calibrations,
a repeated request, a corrupt frame, the staging disk vanishing mid-write,
science frames, the staging disk read-only mid-write (needs root and mounts),
a worker kill -9 and a supervisor kill -9, with a console started after each
fault; then ``dataman process`` over both nights, plainly and with ``--force``.
Prints the events, the night's table and the wall time of each part. Exit
status 1 when an invariant does not hold.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.night.invariants import NightAccount
from tests.night.replay import NightPlan, NightReplay, table
from tests.reliability.mounts import Mounts
from tests.service_harness import ServiceProcess


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--last-night", type=int, default=10,
                        help="frames per channel of last night on disk before the start")
    parser.add_argument("--keep", action="store_true", help="keep the service's folder")
    args = parser.parse_args()
    service = ServiceProcess(workers={"count": 2, "slots": 3, "slotSize": "full"},
                             service={"scanInterval": 1, "deliveryRetryMax": 1,
                                      "waitForWrite": 3})
    mounts = Mounts()
    probe = service.folder / "probe"
    probe.mkdir()
    replay = NightReplay(service, NightPlan(rounds=args.rounds,
                                            last_night_frames=args.last_night),
                         mounts if _can_mount(mounts, probe) else None)
    try:
        account, consoles_dead, timings = _replay(replay)
    finally:
        replay.close()
        mounts.release_all()
        service.cleanup()
        if not args.keep:
            shutil.rmtree(service.folder, ignore_errors=True)
    print("\n".join(f"- {event.what}: {event.detail}" for event in replay.events))
    print("\n| measure | value |\n|---|---|")
    print(table(account, len(replay.consoles.sessions), consoles_dead))
    for label, seconds in timings.items():
        print(f"| {label} | {seconds:.1f} s |")
    problems = account.problems()
    if problems:
        print("\nINVARIANTS BROKEN:\n" + "\n".join(problems))
    return 1 if problems or consoles_dead else 0


def _can_mount(mounts: Mounts, probe: Path) -> bool:
    try:
        return mounts.try_read_only(probe)
    except OSError:
        return False


def _replay(replay: NightReplay) -> tuple[NightAccount, int, dict[str, float]]:
    timings, begun = {}, time.monotonic()
    replay.run()
    timings["the night (service)"] = time.monotonic() - begun
    dead = len(replay.console_problems())
    replay.service.stop()
    for label, extra in (("morning: dataman process", ()),
                         ("morning: dataman process --force", ("--force",))):
        begun = time.monotonic()
        replay.morning(*extra)
        timings[label] = time.monotonic() - begun
    return replay.account(), dead, timings


if __name__ == "__main__":
    sys.exit(main())
