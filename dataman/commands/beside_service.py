"""``dataman process`` beside the installation's running service: never in tonight's way.

Reprocessing last night on the instrument server while tonight runs must not
slow tonight's frames. When the service of the same configuration is running
(its lock is held: :mod:`dataman.service.lock`), the command says so, drops to
nice 19 and the idle I/O class (its worker processes inherit both), syncs each
output to disk before naming it (so its writes never pile up in the page cache
until the kernel makes every writer wait, the service's workers too) and runs
one frame at a time unless ``--jobs`` asks for more, which it honours with a
warning. The idle I/O class takes effect with the BFQ disk scheduler only; the
CPU priority always does.
"""

from __future__ import annotations

import sys

from dataman.core.config import Config
from dataman.service.job_priority import idle_priority
from dataman.service.lock import holder


def jobs_beside_service(config: Config, jobs: int | None, default: int,
                        scheduler: str | None) -> tuple[int, bool]:
    """The number of local jobs to run, and whether the service runs; beside it, after
    saying so at idle priority: 1 unless ``jobs`` was given."""
    pid = holder(config.paths.state_dir)
    if pid is None:
        return jobs or default, False
    idle_priority()
    running = f"the service is running (pid {pid if pid > 0 else 'unknown'})"
    if scheduler:
        print(f"dataman process: {running}: this command runs at idle CPU and I/O priority; "
              f"the frames run on the cluster at {scheduler}", file=sys.stderr)
        return jobs or default, True
    if jobs is None:
        print(f"dataman process: {running}: frames are processed one at a time at idle CPU "
              "and I/O priority, so tonight's frames go first (--jobs N for more)",
              file=sys.stderr)
        return 1, True
    print(f"dataman process: warning: {running}: --jobs {jobs} honoured, at idle CPU and I/O "
          "priority; tonight's frames still share the disk and memory with them",
          file=sys.stderr)
    return jobs, True
