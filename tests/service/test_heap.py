"""A worker's heap is grown once and kept: a frame's temporaries cost no page faults."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
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
    # 15 MiB touched: about 3,800 pages of 4 KiB when each block is mapped afresh
    # (counts measured without keep_heap: glibc maps and unmaps blocks this large)
    assert faults_of_temporaries("fresh")[1] > 1000
    kept, faults = faults_of_temporaries("kept")
    assert kept == "True"
    assert faults < 100, faults
