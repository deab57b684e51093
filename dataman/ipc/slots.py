"""Shared-memory slots: fixed frame buffers the supervisor owns and workers attach to.

Pixels never travel through a pipe: a job message carries only a ``SlotRef`` (a
few hundred bytes of JSON); the worker reads the raw pixels into the slot and
computes the merged image there. Memory use is fixed by the pool size.

One slot, ``/dev/shm/dataman-<instance>-<index>``, sized for the largest MODS frame::

    0                                         raw_size  merged_offset              size
    +-----------+-----------+-----------+-----------+-----+---------------------------+
    | IM1 block | IM2 block | IM3 block | IM4 block | pad | merged image '>f4'        |
    +-----------+-----------+-----------+-----------+-----+---------------------------+
     4 x padded(4178 x 1544 x 2) = 51,609,600 B   to 4096 3088 x 8292 x 4 = 102,422,784 B
                                                          total 154,032,384 B (147 MiB)

The owner (``SlotPool``) creates and unlinks; a worker only attaches and closes;
``sweep_stale`` removes what a killed supervisor left.

No frame pays for a slot's pages. The owner allocates every page when it creates
a slot (``posix_fallocate``: tmpfs zeroes them once, and a full ``/dev/shm`` is a
refusal to start instead of a SIGBUS in a worker mid-frame); each worker maps
every slot when it starts and keeps the mappings (:mod:`dataman.ipc.mappings`).

On Python < 3.13 every ``SharedMemory`` registers with the resource tracker
(gh-82300), which unlinks the segment when that process exits. Spawned workers share
the owner's tracker, which keeps a *set* of names: a worker unregistering after
attach (the usual fix) also erases the owner's entry, and the owner's ``unlink``
then prints a ``KeyError`` traceback. So slots never reach a tracker:
``track=False`` on 3.13+, before that a filter that drops only ``dataman-``
shared-memory (un)registrations. Workers map the segment files with ``mmap``
themselves, so they never meet a tracker at all.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any

from dataman.core.blocks import padded
from dataman.core.errors import DataManError
from dataman.core.geometry import OVERSCAN_COLUMNS, ROI_MODES

SHM_DIR = Path("/dev/shm")
PREFIX = "dataman-"
PAGE = 4096
_INSTANCE = re.compile(r"[A-Za-z0-9]{1,16}")
#: A slot's name, ``dataman-<instance>-<index>``: checked before it becomes a path.
SLOT_NAME = re.compile(rf"{PREFIX}[A-Za-z0-9]{{1,16}}-\d+")


class SlotError(DataManError):
    """A shared-memory slot cannot be created, attached or returned (reason in the message)."""


@dataclass(frozen=True)
class FrameBudget:
    """Bytes one slot needs: the raw IM1..IM4 blocks, then the merged float32 image."""

    raw_size: int
    merged_size: int

    @classmethod
    def largest(cls) -> FrameBudget:
        """The full-frame, unbinned readout: the biggest frame MODS can send."""
        return cls.of_window("full")

    @classmethod
    def of_window(cls, roi: str) -> FrameBudget:
        """The unbinned readout of window ``roi`` (``full``, ``4kx3k``, ``3kx3k``, ``1kx1k``):
        each amplifier reads a quarter of the window plus its overscan columns, 16-bit;
        the merged image is the window in float32. Binned frames of it need less."""
        window_columns, window_rows = ROI_MODES[roi]
        columns, rows = window_columns // 2 + OVERSCAN_COLUMNS, window_rows // 2
        return cls(4 * padded(columns * rows * 2), window_rows * window_columns * 4)

    @property
    def merged_offset(self) -> int:
        """Page-aligned, so the merged image starts on its own page of the mapping."""
        return -(-self.raw_size // PAGE) * PAGE

    @property
    def size(self) -> int:
        return self.merged_offset + self.merged_size


@dataclass(frozen=True)
class SlotRef:
    """What a job message carries to name a slot; never the ``SharedMemory`` object."""

    name: str
    raw_size: int
    merged_offset: int
    merged_size: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlotRef:
        """Decode and check a received reference: a bad one is a ``SlotError``, not a crash."""
        try:
            ref = cls(data["name"], data["raw_size"], data["merged_offset"], data["merged_size"])
        except (KeyError, TypeError) as error:
            raise SlotError(f"malformed slot reference {data!r}: {error}") from error
        sizes = (ref.raw_size, ref.merged_offset, ref.merged_size)
        if not (isinstance(ref.name, str) and SLOT_NAME.fullmatch(ref.name)
                and all(type(size) is int and size >= 0 for size in sizes)
                and ref.raw_size <= ref.merged_offset):
            raise SlotError(f"invalid slot reference {data!r}")
        return ref


def instance_id(state_dir: str | os.PathLike[str]) -> str:
    """A short id per service (from its state directory), so two never share slot names."""
    return hashlib.sha256(str(Path(state_dir).resolve()).encode()).hexdigest()[:10]


class SlotPool:
    """The supervisor's fixed pool of slots: create, hand out, take back, unlink."""

    def __init__(self, budget: FrameBudget) -> None:
        self._segments: dict[str, SharedMemory] = {}
        self._free: list[str] = []  # names; a busy slot is in _segments only
        self._budget = budget

    @classmethod
    def create(cls, instance: str, count: int, budget: FrameBudget | None = None) -> SlotPool:
        """Create ``count`` slots, refusing up front when /dev/shm cannot hold them."""
        budget = budget or FrameBudget.largest()
        if not _INSTANCE.fullmatch(instance) or count < 1:
            raise SlotError(f"bad slot pool request: instance {instance!r}, count {count}")
        stats = os.statvfs(SHM_DIR)
        needed, free = count * budget.size, stats.f_bavail * stats.f_frsize
        if needed > free:
            raise SlotError(f"{SHM_DIR} cannot hold {count} slots: needs {needed / 2**20:,.0f}"
                            f" MiB, {free / 2**20:,.0f} MiB free")
        pool = cls(budget)
        for index in range(count):
            name = f"{PREFIX}{instance}-{index}"
            try:
                shm = _open(name, budget.size)
            except OSError as error:
                pool.close()
                raise SlotError(f"cannot create slot {name}: {error} (another service with "
                                "this id, or sweep_stale not run?)") from error
            pool._segments[shm.name] = shm
            pool._free.append(shm.name)
            try:
                _allocate(name, budget.size)
            except OSError as error:
                pool.close()
                raise SlotError(f"cannot allocate slot {name} ({budget.size / 2**20:,.0f} MiB)"
                                f" in {SHM_DIR}: {error.strerror or error}") from error
        return pool

    @property
    def names(self) -> list[str]:
        """Every slot's name, busy or free: what a worker maps when it starts."""
        return sorted(self._segments)

    @property
    def free_count(self) -> int:
        return len(self._free)

    def acquire(self) -> SlotRef | None:
        """A free slot for the next job, or None when every slot is busy.

        The slot freed last goes out first: it is the one whose pages the workers
        have most likely mapped already (see ``SlotMappings``).
        """
        if not self._free:
            return None
        size = self._budget
        return SlotRef(self._free.pop(), size.raw_size, size.merged_offset, size.merged_size)

    def release(self, ref: SlotRef) -> None:
        """Take a slot back, also from a crashed worker: its contents are simply reused."""
        if ref.name not in self._segments or ref.name in self._free:
            raise SlotError(f"slot {ref.name} is not in use in this pool")
        self._free.append(ref.name)

    def close(self) -> None:
        """Unmap and unlink every slot; safe to call twice."""
        segments, self._segments, self._free = list(self._segments.values()), {}, []
        for shm in segments:
            shm.close()
            with suppress(FileNotFoundError):  # already swept
                shm.unlink()

    def __enter__(self) -> SlotPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _allocate(name: str, size: int) -> None:
    """Give the segment all its pages now (see the module docstring)."""
    fd = os.open(SHM_DIR / name, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        os.posix_fallocate(fd, 0, size)
    finally:
        os.close(fd)


def sweep_stale(instance: str) -> list[str]:
    """Unlink the slots a killed previous run of ``instance`` left; call under its lock."""
    if not _INSTANCE.fullmatch(instance):
        raise SlotError(f"bad slot pool instance {instance!r}")
    pattern = re.compile(rf"{PREFIX}{instance}-\d+")
    stale = sorted(path for path in SHM_DIR.iterdir() if pattern.fullmatch(path.name))
    for path in stale:
        path.unlink(missing_ok=True)  # shm_unlink() on Linux is unlink(2) in /dev/shm
    return [path.name for path in stale]


def _open(name: str, size: int) -> SharedMemory:
    """Create a segment no resource tracker ever hears of."""
    if sys.version_info >= (3, 13):
        return SharedMemory(name, create=True, size=size, track=False)
    _hide_slots_from_tracker()
    return SharedMemory(name, create=True, size=size)


def _hide_slots_from_tracker() -> None:
    """Python < 3.13: drop tracker (un)registrations of slot names (see module docstring)."""
    if getattr(resource_tracker.register, "dataman_filter", False):
        return

    def others_only(call: Callable[[str, str], None]) -> Callable[[str, str], None]:
        def filtered(name: str, rtype: str) -> None:
            if not (rtype == "shared_memory" and name.lstrip("/").startswith(PREFIX)):
                call(name, rtype)
        filtered.dataman_filter = True  # type: ignore[attr-defined]
        return filtered

    # typeshed types the name as Sized; the tracker is always given a str
    register, unregister = resource_tracker.register, resource_tracker.unregister
    resource_tracker.register = others_only(register)  # type: ignore[assignment]
    resource_tracker.unregister = others_only(unregister)  # type: ignore[assignment]
