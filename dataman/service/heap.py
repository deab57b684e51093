"""A worker's heap, grown once before its first frame and kept from frame to frame.

Every frame allocates the same temporaries outside the slot (the quality checks'
masks and sums, the thumbnail's blocks, FITS header work): about 9 MB for a full
frame. glibc serves blocks that large with ``mmap`` and unmaps them at ``free``
until its adaptive threshold has seen a few, so the first two full frames of a
fresh worker took about 1,800 and 370 page faults more than the steady ~6, some
60 ms each on the development VM: a worker's first frame was up to 1.7x slower
than the next, after every start, crash and recycle. The small warm-up frame
(``warmup.py``) does not allocate enough to prevent it.

So a worker fixes glibc's thresholds before it warms up: blocks below
``MMAP_THRESHOLD`` come from the heap, and up to ``TRIM_THRESHOLD`` of free heap is
kept instead of being given back. Then it touches ``PRE_TOUCH`` bytes once and frees
them: the first frame finds its pages mapped. The cost is that much more resident
memory per worker, measured in ``benchmarks/bench_service.py``'s memory table.
On a C library without ``mallopt`` nothing changes but the first frame's speed.
"""

from __future__ import annotations

import ctypes

import numpy as np

#: mallopt(3) parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Blocks smaller than this come from the heap (the largest a frame allocates is ~6 MB).
MMAP_THRESHOLD = 32 << 20
#: Free heap kept up to this much (more than a frame's temporaries ever add up to).
TRIM_THRESHOLD = 128 << 20
#: Heap touched once at start (a full frame's temporaries, with room to spare).
PRE_TOUCH = 16 << 20


def keep_heap(pre_touch: int = PRE_TOUCH) -> bool:
    """Set the thresholds and grow the heap by ``pre_touch`` bytes; False (and nothing
    done) where the C library has no ``mallopt``."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    if not (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and
            mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
        return False
    block = np.empty(pre_touch, dtype=np.uint8)
    block.fill(1)  # every page touched, then freed into the heap, which keeps it
    del block
    return True
