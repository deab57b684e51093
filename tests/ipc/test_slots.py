"""Shared-memory slots with real processes: attach, crashes, stale sweep, capacity, a frame."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits

from dataman.core.buffers import Buffers
from dataman.core.config import Config, load_config
from dataman.core.errors import BadFrame, FrameTooLarge
from dataman.core.pipeline import process_frame
from dataman.ipc.mappings import SlotMappings
from dataman.ipc.slots import (
    SHM_DIR,
    FrameBudget,
    SlotError,
    SlotPool,
    SlotRef,
    sweep_stale,
)
from tests.conftest import REPO, make_frame
from tests.service_harness import dataman_shm, slot_residency

SPAWN = mp.get_context("spawn")
SMALL = FrameBudget(raw_size=10_000, merged_size=8_192)
DEADLINE = 15.0

# Runs in a process of its own (its own resource tracker, unlike spawned children).
ATTACH_AND_END = """
import json, os, signal, sys
from dataman.ipc.slots import SlotRef
from tests.ipc.test_slots import attach
with attach(SlotRef.from_dict(json.loads(sys.argv[1]))) as buffers:
    buffers.raw[:4] = b"live"
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
"""

# An owner as the supervisor is one: spawns a worker, closes its pool, exits.
OWNER = """
import multiprocessing as mp, sys
from dataman.ipc.slots import FrameBudget, SlotPool
from tests.ipc.test_slots import write_pattern
with SlotPool.create(sys.argv[1], 1, FrameBudget(4096, 4096)) as pool:
    ref = pool.acquire()
    worker = mp.get_context("spawn").Process(target=write_pattern, args=(ref.to_dict(), 1, 2))
    worker.start()
    worker.join(15)
sys.exit(worker.exitcode)
"""


@pytest.fixture(autouse=True)
def no_children_left() -> Iterator[None]:
    yield
    children = mp.active_children()
    for child in children:
        child.kill()
        child.join(DEADLINE)
    assert children == [], "test left child processes"


@pytest.fixture
def instance() -> Iterator[str]:
    """A slot pool name of this test's own; afterwards none of its segments is left.

    Only these segments are checked: another dataman on the machine (a demo, a
    second test run) creates and removes its own at any time. The prefix also
    covers the neighbour ``<instance>1`` of the stale-sweep test.
    """
    name = "t" + uuid.uuid4().hex[:12]
    yield name
    left = {segment for segment in dataman_shm() if segment.startswith(f"dataman-{name}")}
    assert not left, f"test left segments in /dev/shm: {sorted(left)}"


# -- worker bodies (module level, so spawned children can import them) -----------------

@contextmanager
def attach(ref: SlotRef) -> Iterator[Buffers]:
    """Map a slot for one job as a worker does (``SlotMappings``), then close the mapping
    (never unlink the slot). Every numpy array made from the views must be gone by then."""
    mappings = SlotMappings()
    try:
        with mappings.use(ref) as buffers:
            yield buffers
    finally:
        mappings.close()


def write_pattern(ref: dict[str, Any], raw_value: int, merged_value: int) -> None:
    with attach(SlotRef.from_dict(ref)) as buffers:
        np.frombuffer(buffers.raw, np.uint8).fill(raw_value)
        np.frombuffer(buffers.merged, np.uint8).fill(merged_value)


def attach_until_killed(ref: dict[str, Any], attached: Any) -> None:
    with attach(SlotRef.from_dict(ref)) as buffers:
        buffers.raw[:4] = b"busy"
        attached.set()
        time.sleep(60)  # waits to be SIGKILLed; the parent never waits on this


def own_pool_until_killed(instance: str, created: Any) -> None:
    SlotPool.create(instance, 2, SMALL)
    created.set()
    time.sleep(60)  # waits to be SIGKILLed, leaving its segments behind


def process_in_slot(ref: dict[str, Any], config_path: str, frame: str, done: Any) -> None:
    with attach(SlotRef.from_dict(ref)) as buffers:
        result = process_frame(frame, load_config(config_path), buffers=buffers)
    done.put(str(result.delivered))


def run_worker(target: Any, *args: Any) -> None:
    worker = SPAWN.Process(target=target, args=args, daemon=True)
    worker.start()
    worker.join(DEADLINE)
    assert worker.exitcode == 0


def filled_with(view: memoryview, value: int) -> bool:
    return bool(np.all(np.frombuffer(view, np.uint8) == value))


# -- sizes and references ---------------------------------------------------------------

def test_largest_frame_budget() -> None:
    budget = FrameBudget.largest()
    assert budget.raw_size == 4 * 12_902_400 == 51_609_600
    assert budget.merged_offset == 51_609_600 and budget.merged_offset % 4096 == 0
    assert budget.merged_size == 3088 * 8292 * 4 == 102_422_784
    assert budget.size == 154_032_384
    assert FrameBudget(10_000, 8_192).merged_offset == 12_288


def test_a_smaller_window_budget() -> None:
    """1kx1k unbinned: each amplifier 512 + 32 overscan columns by 512 rows of int16, padded
    to 2880-byte FITS blocks (557,056 -> 558,720 bytes); the merged image 1024 x 1024 float32."""
    budget = FrameBudget.of_window("1kx1k")
    assert budget.raw_size == 4 * 558_720 == 2_234_880
    assert budget.merged_offset == 2_236_416  # 546 pages
    assert budget.merged_size == 1024 * 1024 * 4


def test_a_frame_larger_than_the_slot_size_fails_naming_the_key(config: Config,
                                                                 instance: str) -> None:
    frame = make_frame(config, roi="3kx3k", binning=1)
    small = dataclasses.replace(config, workers=dataclasses.replace(config.workers,
                                                                   slot_size="1kx1k"))
    with SlotPool.create(instance, 1, FrameBudget.of_window("1kx1k")) as pool:
        ref = pool.acquire()
        assert ref is not None
        with pytest.raises(FrameTooLarge, match=r"larger than \[workers\] slotSize = 1kx1k"), \
                attach(ref) as buffers:
            process_frame(frame, small, buffers=buffers)


def test_slot_ref_json_is_small_and_round_trips() -> None:
    budget = FrameBudget.largest()
    ref = SlotRef("dataman-0123456789abcdef-999", budget.raw_size, budget.merged_offset,
                  budget.merged_size)
    text = json.dumps(ref.to_dict())
    size = len(text.encode())
    assert size == 115 < 4096, f"SlotRef JSON is {size} bytes, expected 115 (limit 4096)"
    assert SlotRef.from_dict(json.loads(text)) == ref


@pytest.mark.parametrize("data", [{}, {"name": "x", "raw_size": 1, "merged_offset": 1,
                                       "merged_size": 1},
                                  {"name": "dataman-a-0", "raw_size": "1", "merged_offset": 1,
                                   "merged_size": 1},
                                  {"name": "dataman-a-0", "raw_size": 9, "merged_offset": 8,
                                   "merged_size": 1}])
def test_bad_slot_ref_is_a_slot_error(data: dict[str, Any]) -> None:
    with pytest.raises(SlotError):
        SlotRef.from_dict(data)


# -- owner side -------------------------------------------------------------------------

def test_acquire_release_bookkeeping(instance: str) -> None:
    with SlotPool.create(instance, 2, SMALL) as pool:
        first, second = pool.acquire(), pool.acquire()
        assert first and second and first.name != second.name
        assert pool.acquire() is None and pool.free_count == 0
        pool.release(first)
        assert pool.free_count == 1 and pool.acquire() == first
        pool.release(second)
        with pytest.raises(SlotError, match="not in use"):
            pool.release(second)
        with pytest.raises(SlotError, match="not in use"):
            pool.release(SlotRef(f"dataman-{instance}-7", 1, 4096, 1))
        assert {f"dataman-{instance}-0", f"dataman-{instance}-1"} <= dataman_shm()
    pool.close()  # a second close is harmless
    assert not {f"dataman-{instance}-0", f"dataman-{instance}-1"} & dataman_shm()


def test_pool_larger_than_dev_shm_is_refused(instance: str) -> None:
    stats = os.statvfs(SHM_DIR)
    count = stats.f_bavail * stats.f_frsize // FrameBudget.largest().size + 1
    with pytest.raises(SlotError, match=r"needs [\d,]+ MiB, [\d,]+ MiB free"):
        SlotPool.create(instance, count)
    assert not any(name.startswith(f"dataman-{instance}-") for name in dataman_shm())


@pytest.mark.slow
def test_sweep_stale_removes_a_killed_owners_segments_only(instance: str) -> None:
    created = SPAWN.Event()
    owner = SPAWN.Process(target=own_pool_until_killed, args=(instance, created), daemon=True)
    owner.start()
    assert created.wait(DEADLINE)
    os.kill(owner.pid, signal.SIGKILL)
    owner.join(DEADLINE)
    stale = [f"dataman-{instance}-0", f"dataman-{instance}-1"]
    assert set(stale) <= dataman_shm()
    with SlotPool.create(instance + "1", 1, SMALL) as neighbour:  # same prefix, other service
        assert sweep_stale(instance) == stale
        assert not set(stale) & dataman_shm()
        assert f"dataman-{instance}1-0" in dataman_shm()
    assert neighbour.free_count == 0


# -- worker side ------------------------------------------------------------------------

@pytest.mark.slow
def test_spawned_worker_writes_are_seen_by_the_owner(instance: str) -> None:
    with SlotPool.create(instance, 1) as pool:
        ref = pool.acquire()
        assert ref is not None
        run_worker(write_pattern, ref.to_dict(), 0x5A, 0xA5)
        with attach(ref) as buffers:
            assert len(buffers.raw) == 51_609_600 and len(buffers.merged) == 102_422_784
            assert filled_with(buffers.raw, 0x5A) and filled_with(buffers.merged, 0xA5)


@pytest.mark.slow
def test_killed_worker_leaves_its_slot_usable(instance: str) -> None:
    with SlotPool.create(instance, 1, SMALL) as pool:
        ref = pool.acquire()
        assert ref is not None
        attached = SPAWN.Event()
        worker = SPAWN.Process(target=attach_until_killed, args=(ref.to_dict(), attached),
                               daemon=True)
        worker.start()
        assert attached.wait(DEADLINE)
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(DEADLINE)
        assert worker.exitcode == -signal.SIGKILL
        assert ref.name in dataman_shm()
        pool.release(ref)
        ref = pool.acquire()
        assert ref is not None
        run_worker(write_pattern, ref.to_dict(), 7, 8)
        with attach(ref) as buffers:
            assert filled_with(buffers.raw, 7) and filled_with(buffers.merged, 8)
    assert ref.name not in dataman_shm()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["exit", "kill"])
def test_process_with_own_tracker_neither_unlinks_nor_warns(instance: str, how: str) -> None:
    """gh-82300: a plain 3.11 attach would be unlinked by this process's tracker at exit."""
    with SlotPool.create(instance, 1, SMALL) as pool:
        ref = pool.acquire()
        assert ref is not None
        done = subprocess.run([sys.executable, "-c", ATTACH_AND_END, json.dumps(ref.to_dict()),
                               how], cwd=REPO, capture_output=True, text=True, timeout=DEADLINE)
        assert done.returncode == (-signal.SIGKILL if how == "kill" else 0), done.stderr
        assert ref.name in dataman_shm()
        assert done.stderr == ""
        with attach(ref) as buffers:
            assert bytes(buffers.raw[:4]) == b"live"


@pytest.mark.slow
def test_owner_exits_without_resource_tracker_noise(instance: str) -> None:
    done = subprocess.run([sys.executable, "-c", OWNER, instance], cwd=REPO,
                          capture_output=True, text=True, timeout=DEADLINE)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_failed_frame_inside_attach_raises_its_own_error(config: Config, instance: str) -> None:
    """Arrays of the failed frame live on in the traceback; attach must still let go."""
    frame = make_frame(config, roi="1kx1k", binning=2)
    budget = FrameBudget(FrameBudget.largest().raw_size, 16)  # no room for the merged image
    with SlotPool.create(instance, 1, budget) as pool:
        ref = pool.acquire()
        assert ref is not None
        with pytest.raises(BadFrame, match="does not fit"), attach(ref) as buffers:
            process_frame(frame, config, buffers=buffers)


def test_attach_to_missing_slot_is_a_slot_error(instance: str) -> None:
    with pytest.raises(SlotError, match="does not exist"), \
            attach(SlotRef(f"dataman-{instance}-0", 1, 4096, 1)):
        pass


# -- end to end -------------------------------------------------------------------------

@pytest.mark.slow
def test_process_frame_in_spawned_worker_uses_the_slot(config: Config, tmp_path: Path,
                                                       instance: str) -> None:
    frame = make_frame(config, roi="1kx1k", binning=2)
    done = SPAWN.Queue()
    with SlotPool.create(instance, 1) as pool:
        ref = pool.acquire()
        assert ref is not None
        worker = SPAWN.Process(target=process_in_slot, daemon=True, args=(
            ref.to_dict(), str(tmp_path / "dataman.ini"), str(frame), done))
        worker.start()
        delivered = Path(done.get(timeout=DEADLINE))
        worker.join(DEADLINE)
        assert worker.exitcode == 0
        assert delivered.is_file() and delivered.parent == config.paths.repo_dir
        merged = fits.getdata(delivered, "MERGED")
        with attach(ref) as buffers:
            in_slot = bytes(buffers.merged[:merged.nbytes])
        assert in_slot == merged.astype(">f4").tobytes()


def test_a_workers_mapping_stays_open_across_jobs_and_sees_the_same_memory(
        instance: str) -> None:
    with SlotPool.create(instance, 1, SMALL) as pool:
        ref = pool.acquire()
        assert ref is not None
        mappings = SlotMappings()
        try:
            with mappings.use(ref) as first:
                first.raw[:4] = b"\x01\x02\x03\x04"
                first_address = np.frombuffer(first.raw, np.uint8).ctypes.data
            with mappings.use(ref) as second:
                assert bytes(second.raw[:4]) == b"\x01\x02\x03\x04"
                # the same mapping, not a fresh one (a fresh one faults every page again)
                assert np.frombuffer(second.raw, np.uint8).ctypes.data == first_address
            missing = SlotRef(f"dataman-{instance}-9", 1, 4096, 1)
            with pytest.raises(SlotError, match="does not exist"), mappings.use(missing):
                pass
        finally:
            mappings.close()


def test_a_new_slot_has_all_its_pages_allocated_and_zero(instance: str) -> None:
    """posix_fallocate at creation: a full /dev/shm is a refusal now, not a SIGBUS later."""
    budget = FrameBudget(raw_size=3 * 4096 + 5, merged_size=2 * 4096)
    with SlotPool.create(instance, 2, budget) as pool:
        for name in pool.names:
            assert (SHM_DIR / name).stat().st_blocks * 512 >= budget.size  # 6 pages + 5 B
        assert pool.names == [f"dataman-{instance}-0", f"dataman-{instance}-1"]


def test_map_all_puts_every_page_of_each_slot_in_the_page_tables(instance: str) -> None:
    budget = FrameBudget(raw_size=64 * 4096, merged_size=64 * 4096)
    with SlotPool.create(instance, 2, budget) as pool:
        mappings = SlotMappings()
        try:
            mappings.map_all(pool.names)
            assert slot_residency(os.getpid()) == dict.fromkeys(pool.names, 128 * 4096)
            ref = pool.acquire()
            assert ref is not None
            with mappings.use(ref) as buffers:  # the mapping map_all made, no other
                buffers.raw[:2] = b"ok"
            assert slot_residency(os.getpid()) == dict.fromkeys(pool.names, 128 * 4096)
            assert (SHM_DIR / ref.name).read_bytes()[:2] == b"ok"
        finally:
            mappings.close()
        # left: the owner's own mappings (SharedMemory maps what it creates), never touched
        assert slot_residency(os.getpid()) == dict.fromkeys(pool.names, 0)
        with pytest.raises(SlotError, match="does not exist"):
            mappings.map_all([f"dataman-{instance}-5"])
