"""Shared fixtures: a configuration whose every directory lives in a temporary folder."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest

from dataman.core.config import Config, load_config

if TYPE_CHECKING:
    from tests.service_harness import ServiceProcess

REPO = Path(__file__).resolve().parents[1]


def write_config(folder: Path, **sections: dict[str, object]) -> Path:
    """A dataman.ini in ``folder`` with local directories, plus overrides per section."""
    values: dict[str, dict[str, object]] = {
        "paths": {"dataDir": "data", "procDir": "proc", "repoDir": "newdata",
                  "logDir": "log", "stateDir": "state", "makeDirs": True},
        "server": {"hostid": "mods1"},
    }
    for section, overrides in sections.items():
        values.setdefault(section, {}).update(overrides)
    lines = []
    for section, keys in values.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {value}" for key, value in keys.items()]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dataman.ini"
    path.write_text("\n".join(lines) + "\n")
    return path


#: Run first: the longest test (about a minute alone), so it never starts last.
FIRST = "tests/night/"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first, the night replay before them, the rest in their order.

    With ``-n 2`` (``scripts/test``) the workers take tests in this order, so the
    long ones run side by side early and the many short ones fill in at the end,
    instead of one worker finishing a minute-long test alone while the other waits.
    """
    def rank(item: pytest.Item) -> int:
        if item.nodeid.startswith(FIRST):
            return 0
        return 1 if item.get_closest_marker("slow") else 2
    items.sort(key=rank)  # stable: within a rank, the collection order


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path))


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder under /tmp: AF_UNIX socket paths must stay under 108 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="dm-", dir="/tmp"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def python() -> str:
    return sys.executable


def make_frame(config: Config, **spec: object) -> Path:
    """Write a simulated raw frame into ``<dataDir>/<chan>/`` and return its path."""
    from dataman.sim.frames import FrameSpec, write_raw_frame

    frame_spec = FrameSpec(**spec)
    folder = config.paths.data_dir / frame_spec.instrument.lower()
    folder.mkdir(parents=True, exist_ok=True)
    return write_raw_frame(folder, frame_spec)


def fitsverify_counts(path: Path) -> tuple[int, int, str]:
    """(warnings, errors, report) from fitsverify's summary line."""
    if shutil.which("fitsverify") is None:
        pytest.skip("fitsverify is not installed")
    run = subprocess.run(["fitsverify", str(path)], capture_output=True, text=True, check=False)
    found = re.search(r"Verification found (\d+) warning\(s\) and (\d+) error\(s\)", run.stdout)
    assert found, run.stdout + run.stderr
    return int(found[1]), int(found[2]), run.stdout


def _processes_of(folder: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(folder in part for part in process.info["cmdline"] or ()):
            found.append(process)
    return found


@pytest.fixture
def service_factory() -> Iterator[Callable[..., ServiceProcess]]:
    """Make ``ServiceProcess`` objects; afterwards /dev/shm and the process table are clean."""
    from tests.service_harness import ServiceProcess, wait_until

    made: list[ServiceProcess] = []

    def make(**sections: dict[str, object]) -> ServiceProcess:
        service = ServiceProcess(**sections)
        made.append(service)
        return service

    yield make
    for service in made:
        service.cleanup()
    for service in made:
        wait_until(lambda s=service: not _processes_of(str(s.folder)), 10,
                   what="service processes to exit")
    # Only this test's services count: other test runs may share the machine.
    leaked = set().union(*(service.slots() for service in made))
    for service in made:
        shutil.rmtree(service.folder, ignore_errors=True)
    assert not leaked, f"shared memory left behind: {sorted(leaked)}"
