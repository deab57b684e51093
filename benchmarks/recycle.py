"""Give the page cache recently used memory before a measurement, as a long-running host has.

The development VM has a virtio balloon with free page reporting: memory the guest
leaves free for a few seconds goes back to the hypervisor, and the next use of each
such page costs a trip to the host. Writing a full frame's 154 MB output takes about
0.04 s into pages freed a moment ago and 0.15-0.3 s into pages handed back (measured
with a 4 s pause between freeing and writing). A frame sent right after the previous
one's outputs were deleted meets the first kind; a frame after a pause (the first after
a start, after a worker was replaced) or the second frame of a pair meets the second,
and its latency says more about the hypervisor than about dataMan. A bare-metal host,
where the MODS data computers run, never hands memory back.

So before such a measurement :func:`recycle` writes and deletes a scratch file as large
as what the measurement will write: the pages the frame then needs were in use a moment
before, as they are on a host that has been up all night.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The source of every scratch write: allocated and touched once, so writing it costs
#: no page faults of its own.
_SOURCE_BYTES = 64 << 20
_source: bytearray | None = None


def recycle(folder: Path, nbytes: float) -> None:
    """Write ``nbytes`` to a scratch file in ``folder`` (on the outputs' file system),
    then delete it."""
    global _source
    if _source is None:
        _source = bytearray(_SOURCE_BYTES)
        _source[::4096] = b"\x01" * len(range(0, _SOURCE_BYTES, 4096))
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / "recycle.bin"
    remaining = int(nbytes)
    with open(scratch, "wb") as stream:
        while remaining > 0:
            remaining -= stream.write(memoryview(_source)[:min(remaining, _SOURCE_BYTES)])
    os.unlink(scratch)
