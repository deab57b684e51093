"""Test holds: a test stops the process working on a frame at a named point, deterministically.

Some promises can only be tested by acting while a worker is inside a step: a
``kill -9`` during the OTM, a staging disk that vanishes while a copy is being
written. On a quiet machine those steps last milliseconds, so a test that polls
for them races the worker and loses. Instead the worker holds itself:

* the environment variable ``DATAMAN_TEST_HOLDS`` names a folder (tests set it;
  the systemd unit and the documented commands never do, and without it every
  hold point is a dictionary look-up and nothing else);
* a test asks for a hold by creating the empty file ``<frame>@<point>`` there;
* the process that reaches ``point`` with ``frame`` claims the request by
  renaming it to ``<frame>@<point>.<pid>`` (one rename: exactly one process
  claims it, and a retry of the same frame is not held again), then stops
  itself with ``SIGSTOP``, all of its threads with it;
* the test waits for the claimed file and for the process to be stopped, acts,
  and lets it go with ``SIGCONT`` (or kills it).

Points are the pipeline's step names (``read``, ``otm``, ``write``, ...) as each
step starts, after the step was reported, and ``temporary.<folder>`` once a
hidden temporary exists in ``<folder>`` (the folder's own name), before a byte
of the file is written; and, for no frame, ``worker@hello``: a worker ready but
not yet said so, which the supervisor still counts as starting.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

#: The environment variable naming the folder of hold requests.
HOLDS_ENV = "DATAMAN_TEST_HOLDS"


def hold_point(frame: str, point: str) -> None:
    """Stop this process here if a test asked to hold ``frame`` at ``point``."""
    folder = os.environ.get(HOLDS_ENV)
    if not folder:
        return
    request = Path(folder) / f"{frame}@{point}"
    try:
        request.rename(request.with_name(f"{request.name}.{os.getpid()}"))
    except OSError:
        return  # not asked for (or claimed by another process)
    os.kill(os.getpid(), signal.SIGSTOP)
