"""A worker's heap is grown once and kept: a frame's temporaries cost no page faults."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import ctypes, sys
# 4 KiB pages only, so that the counts do not depend on transparent huge pages
# (PR_SET_THP_DISABLE = 41, prctl(2))
ctypes.CDLL("libc.so.6").prctl(41, 1, 0, 0, 0)
import numpy as np
from dataman.service.heap import keep_heap

def faults():
    return int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[7])

kept = keep_heap() if sys.argv[1] == "kept" else False
before = faults()
for size in (6 << 20, 3 << 20, 6 << 20):  # a frame's largest temporaries, a mask each
    block = np.empty(size, dtype=np.uint8)
    block.fill(1)
    del block
print(kept, faults() - before)
"""


def faults_of_temporaries(mode: str) -> tuple[str, int]:
    run = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                         check=True, timeout=60)
    kept, faults = run.stdout.split()
    return kept, int(faults)


def test_temporaries_fault_in_a_fresh_process_and_not_once_the_heap_is_kept():
    # 15 MiB touched, 3,840 pages of 4 KiB: a fresh process faults on most of them
    # (measured: ~1,540; glibc maps the first block afresh, the heap grows for the rest)
    fresh = faults_of_temporaries("fresh")[1]
    kept, faults = faults_of_temporaries("kept")
    assert kept == "True"
    assert fresh > 1000, fresh
    assert faults < 100, (faults, fresh)
