"""One service per configuration: an exclusive ``flock`` on ``<stateDir>/dataman.lock``.

The kernel drops a ``flock`` when its holder dies, however it dies, so the lock
of a killed service is never stale: the next start simply takes it. The file
holds the holder's pid, for messages and for ``dataman health``.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from dataman.core.errors import DataManError

FILE_NAME = "dataman.lock"


class AlreadyRunning(DataManError):
    """Another live service holds the lock of this state directory."""


class StateDirUnusable(DataManError):
    """The state directory cannot hold the lock (read-only, missing, not permitted)."""


class InstanceLock:
    """Held for the life of the supervisor; ``release`` (or process exit) frees it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, state_dir: str | os.PathLike[str]) -> InstanceLock:
        """Take the lock or raise ``AlreadyRunning`` naming the running service's pid."""
        path = Path(state_dir) / FILE_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise StateDirUnusable(f"state directory {state_dir} cannot be written "
                                   f"({error.strerror}): the lock {path} cannot be opened; "
                                   "stateDir must be a writable local folder") from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = _read_pid(path)
            raise AlreadyRunning(f"another dataman is running with this configuration "
                                 f"(pid {pid or 'unknown'}, lock {path})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd >= 0:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the last descriptor drops the flock
            self._fd = -1


def holder(state_dir: str | os.PathLike[str]) -> int | None:
    """The pid of the live service holding the lock, or None when nothing holds it."""
    path = Path(state_dir) / FILE_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_pid(path) or -1  # held, pid not yet written
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None
