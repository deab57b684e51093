"""A worker's side of the shared-memory slots: map each one once, populated, and keep it.

A slot whose pages a frame touches first costs that frame a minor page fault
per 4 KiB page, 37,600 for a full frame: tens of milliseconds of kernel time,
every time a worker meets a slot it has not used yet, and every time if it
maps the slot afresh per job. So a worker maps every slot of the pool when it
starts, fills the page tables at once (``MADV_POPULATE_WRITE``, one system call
per slot instead of 37,600 faults) and keeps the mappings for its whole life:
about 300 KiB of page tables per slot and worker, and no fault in any frame. The
pages themselves were allocated by the owner (``slots.SlotPool``), so this
neither writes to a slot nor allocates memory; another worker may be using the
slot meanwhile.

The segment files in ``/dev/shm`` are mapped with ``mmap`` directly (what
``SharedMemory`` does on Linux), so no resource tracker is ever involved.
"""

from __future__ import annotations

import errno
import gc
import mmap
import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from dataman.core.buffers import Buffers
from dataman.ipc.slots import PAGE, SHM_DIR, SLOT_NAME, SlotError, SlotRef

#: madvise(2) advice that faults in every page of a range, writable (Linux 5.14+).
MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)


class SlotMappings:
    """A worker's slot mappings, kept open across jobs, page tables filled in advance.

    ``map_all`` at start maps every slot of the pool; a slot first named by a job
    is mapped (and populated) then. A worker maps at most ``[workers] slots`` slots.
    """

    def __init__(self) -> None:
        self._open: dict[str, Mapping] = {}

    def map_all(self, names: list[str]) -> None:
        """Map and populate these slots now, so no job pays for it (``SlotError`` if one
        is missing)."""
        for name in names:
            if name not in self._open:
                self._open[name] = Mapping.of(name)

    @contextmanager
    def use(self, ref: SlotRef) -> Iterator[Buffers]:
        """The slot's buffers for one job; the views are released when the block ends."""
        mapped = self._open.get(ref.name)
        if mapped is None:
            mapped = self._open[ref.name] = Mapping.of(ref.name)
        end = ref.merged_offset + ref.merged_size
        if mapped.size < end:
            raise SlotError(f"slot {ref.name} has {mapped.size} bytes, reference needs {end}")
        views: list[memoryview] = []
        try:
            views = [mapped.buf[:ref.raw_size],
                     mapped.buf[ref.merged_offset:ref.merged_offset + ref.merged_size]]
            yield Buffers(raw=views[0], merged=views[1])
        except BaseException as error:
            # The traceback keeps finished frames alive, and with them numpy views of the
            # slot (e.g. the RawFrame of a frame that failed): clear them so views can go.
            traceback.clear_frames(error.__traceback__)
            raise
        finally:
            _release_views(mapped.name, views)

    def close(self) -> None:
        for mapped in self._open.values():
            mapped.close()
        self._open.clear()


class Mapping:
    """One slot mapped read-write and shared, every page already in the page tables."""

    def __init__(self, name: str, mapped: mmap.mmap) -> None:
        self.name, self._mmap = name, mapped
        self.buf = memoryview(mapped)

    @classmethod
    def of(cls, name: str) -> Mapping:
        if not SLOT_NAME.fullmatch(name):
            raise SlotError(f"invalid slot name {name!r}")
        try:
            fd = os.open(SHM_DIR / name, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
        except FileNotFoundError as error:
            raise SlotError(f"slot {name} does not exist (service stopped?)") from error
        except OSError as error:
            raise SlotError(f"cannot open slot {name}: {error.strerror or error}") from error
        try:
            size = os.fstat(fd).st_size
            if size == 0:
                raise SlotError(f"slot {name} is empty")
            mapped = mmap.mmap(fd, size)  # MAP_SHARED, read and write
        except OSError as error:
            raise SlotError(f"cannot map slot {name}: {error.strerror or error}") from error
        finally:
            os.close(fd)
        _populate(mapped, size)
        return cls(name, mapped)

    @property
    def size(self) -> int:
        return len(self._mmap)

    def close(self) -> None:
        self.buf.release()
        self._mmap.close()


def _populate(mapped: mmap.mmap, size: int) -> None:
    """Fill the page tables of the whole mapping now; contents are left as they are
    (another worker may be using the slot)."""
    try:
        mapped.madvise(MADV_POPULATE_WRITE, 0, size)
    except OSError as error:
        if error.errno != errno.EINVAL:  # EINVAL: a kernel older than 5.14
            raise SlotError(f"cannot populate a slot mapping: {error.strerror}") from error
        with memoryview(mapped) as view:
            bytes(view[::PAGE])  # read one byte per page: read faults, once


def _release_views(name: str, views: list[memoryview]) -> None:
    """Release a job's views; an array that outlived the job is a bug worth naming."""
    for attempt in (1, 2):
        try:
            for view in views:
                view.release()
            return
        except BufferError as error:
            if attempt == 2:
                raise SlotError(f"slot {name}: an array of it outlived its job") from error
            gc.collect()  # a reference cycle may hold the last array
