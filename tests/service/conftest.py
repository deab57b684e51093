"""Fixtures for tests with a real service: started on demand, always cleaned up."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import psutil
import pytest

from tests.service_harness import ServiceProcess, dataman_shm, wait_until


def _processes_of(folder: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(folder in part for part in process.info["cmdline"] or ()):
            found.append(process)
    return found


@pytest.fixture
def service_factory() -> Iterator[Callable[..., ServiceProcess]]:
    """Make ``ServiceProcess`` objects; afterwards /dev/shm and the process table are clean."""
    before = dataman_shm()
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
    leaked = dataman_shm() - before
    for service in made:
        shutil.rmtree(service.folder, ignore_errors=True)
    assert not leaked, f"shared memory left behind: {sorted(leaked)}"
