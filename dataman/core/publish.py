"""Atomic, no-overwrite file publication (docs/processing.md, "Names, outputs and delivery").

Every file is written under a hidden temporary name in its final directory
and then *linked* to its final name: ``link(2)`` fails when the name exists,
so nothing is ever overwritten (on a file system without hard links a check and
a rename take its place, which a concurrent writer can race), and a reader of
``/newdata`` sees either the complete file or nothing. Only the last-data file,
and a frame's own earlier output, are meant to be replaced, and they are, with
``rename(2)``.

``/newdata`` is shared and watched by the archive, so no temporary may stay
there: the writer removes its own (through a descriptor of the folder, so even
a folder renamed under it), remembers the ones a read-only disk refused and
tries them again later, and holds a lock on each while writing, by which a
later attempt at the same frame, or the service at start, tells an abandoned
temporary from one being written.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import shutil
import socket
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dataman.core.errors import DeliveryFailed
from dataman.core.holds import hold_point

#: This host, as it appears in the temporaries it writes (letters, digits, ``_``).
HOST = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname().split(".")[0]) or "host"
_OURS = re.compile(r"^\.(?P<name>.+)\.(?P<host>[A-Za-z0-9_]+)-(?P<pid>[0-9]+)-[0-9a-f]{8}\.part\Z")
#: What dataMan 0.1 wrote: ``.<name>.<pid>.part``.
_LEGACY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.part\Z")
#: Any temporary a dataMan writer makes: ``.<name>.<host>-<pid>-<token>.part`` (or 0.1's form).
TEMPORARY = re.compile(r"^\..+\.(?:[A-Za-z0-9_]+-[0-9]+-[0-9a-f]{8}|[0-9]+)\.part\Z")

#: Temporaries this process could not remove when it gave up on them (the disk had
#: turned read-only, or vanished): tried again before every later publication.
_undone: set[Path] = set()


@dataclass(frozen=True)
class Temporary:
    """A hidden file one of our writers made: for which name, on which host, by which pid."""

    name: str
    host: str | None  # None: written by dataMan 0.1, which did not say
    pid: int

    @classmethod
    def parse(cls, entry: str) -> Temporary | None:
        """``.a.fits.mods1-4242-0badcafe.part`` -> Temporary('a.fits', 'mods1', 4242).

        >>> Temporary.parse(".a.fits.mods1-4242-0badcafe.part")
        Temporary(name='a.fits', host='mods1', pid=4242)
        >>> Temporary.parse(".a.fits.4242.part")
        Temporary(name='a.fits', host=None, pid=4242)
        >>> Temporary.parse("a.fits") is None
        True
        """
        match = _OURS.match(entry)
        if match:
            return cls(match["name"], match["host"], int(match["pid"]))
        match = _LEGACY.match(entry)
        return cls(match["name"], None, int(match["pid"])) if match else None


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned_temporaries(directory: Path, names: Collection[str] | None = None,
                                 alive: Callable[[int], bool] = pid_alive) -> list[Path]:
    """Remove this host's temporaries in ``directory`` that no writer holds any more.

    A writer holds an exclusive lock on its temporary from the moment it
    creates it until it has linked it, so a temporary whose lock can be taken
    was abandoned: its writer was killed, or gave up when the disk turned
    read-only or vanished under it. Only temporaries of this host are looked
    at (another MODS host may write into the same ``/newdata``), and with
    ``names`` only those of these final names. dataMan 0.1's temporaries,
    which had no lock, count as abandoned when their pid is gone.
    """
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for entry in entries:
        temporary = Temporary.parse(entry)
        if temporary is None or (names is not None and temporary.name not in names):
            continue
        if temporary.host is None:
            gone = not alive(temporary.pid) and _unlink(directory / entry)
        else:
            gone = temporary.host == HOST and _remove_if_unlocked(directory / entry)
        if gone:
            removed.append(directory / entry)
    return removed


def _remove_if_unlocked(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False  # a live writer holds it
    try:
        return _unlink(path)
    finally:
        os.close(fd)  # the lock goes with it


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def _create_temporary(dir_fd: int, name: str) -> tuple[int, str]:
    """Create and lock a new hidden temporary for ``name``; returns (fd, its name).

    Between creating the file and locking it, a sweeper may have taken the
    lock and removed the file (it looked abandoned): then the lock we get is on
    a file with no name left, and we start again under a new name.
    """
    while True:
        temporary = f".{name}.{HOST}-{os.getpid()}-{secrets.token_hex(4)}.part"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644,
                     dir_fd=dir_fd)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink > 0:
            return fd, temporary
        os.close(fd)


def _remove_temporary(dir_fd: int, directory: Path, temporary: str) -> None:
    """Remove our temporary through the folder we made it in (found even if that
    folder was renamed meanwhile); if the disk refuses, try again later."""
    try:
        os.unlink(temporary, dir_fd=dir_fd)
    except FileNotFoundError:
        return
    except OSError:
        _undone.add(directory / temporary)


def _retry_undone() -> None:
    for path in list(_undone):
        if _unlink(path):
            _undone.discard(path)


def _open_folder(directory: Path) -> int:
    return os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def publish(directory: Path, names: Sequence[str], produce: Callable[[BinaryIO], None], *,
            fsync: bool = False, expected_size: int | None = None,
            ours: Callable[[Path], bool] | None = None,
            before_link: Callable[[], None] | None = None,
            take_over: bool = False) -> Path:
    """Write a file with ``produce`` and publish it under the first free name of ``names``.

    A taken name is skipped, unless ``ours(path)`` says the file there is an
    earlier output of this same frame: that one is replaced atomically, so a
    retry or a forced reprocessing never leaves a second copy under another
    name. ``before_link`` is called once the file is complete, before it gets
    a name; if it raises, nothing is published. ``take_over`` first removes
    what an earlier, abandoned attempt at these names left behind. Raises
    ``DeliveryFailed`` when every name is taken by another file, when the
    directory is missing, read-only or full, or when the result is short.
    """
    _retry_undone()
    if take_over:
        remove_abandoned_temporaries(directory, set(names))
    try:
        dir_fd = _open_folder(directory)
    except OSError as error:
        raise DeliveryFailed(f"{directory}: {describe_os_error(error)}") from error
    temporary = None
    try:
        fd, temporary = _create_temporary(dir_fd, names[0])
        hold_point(names[0], f"temporary.{directory.name}")  # tests only (core/holds.py)
        with open(fd, "wb") as stream:  # the lock is held until the file has its name
            produce(stream)
            stream.flush()
            if fsync:
                os.fsync(stream.fileno())
            size = os.fstat(fd).st_size
            if expected_size is not None and size != expected_size:
                raise DeliveryFailed(f"{directory}: wrote {size} bytes of {expected_size}")
            if before_link is not None:
                before_link()
            return _link_first_free(temporary, dir_fd, directory, names, ours)
    except OSError as error:
        raise DeliveryFailed(f"{directory}: {describe_os_error(error)}") from error
    finally:
        if temporary is not None:
            _remove_temporary(dir_fd, directory, temporary)
        os.close(dir_fd)


def _link_first_free(temporary: str, dir_fd: int, directory: Path, names: Iterable[str],
                     ours: Callable[[Path], bool] | None = None) -> Path:
    """Link the finished temporary to the first free name (by path: a folder that was
    replaced meanwhile gets the file, one that is gone fails the publication)."""
    for name in names:
        final = directory / name
        try:
            os.link(temporary, final, src_dir_fd=dir_fd)
        except FileExistsError:
            if ours is not None and ours(final):
                os.replace(temporary, final, src_dir_fd=dir_fd)
                return final
            continue
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            # A file system without hard links: check, then rename. Not atomic: a file
            # given this name by another writer between the two is replaced.
            if final.exists():
                if ours is not None and ours(final):
                    os.replace(temporary, final, src_dir_fd=dir_fd)
                    return final
                continue
            os.rename(temporary, final, src_dir_fd=dir_fd)
        return final
    raise FileExistsError(errno.EEXIST, f"all of {list(names)} exist in {directory}")


def write_pieces(pieces: Sequence[bytes | memoryview]) -> Callable[[BinaryIO], None]:
    """A ``produce`` callback writing the buffers in order, without copying them."""
    def produce(stream: BinaryIO) -> None:
        for piece in pieces:
            stream.write(piece)
    return produce


def copy_of(source: Path) -> Callable[[BinaryIO], None]:
    """A ``produce`` callback copying ``source`` in 8 MiB chunks (deferred delivery only)."""
    def produce(stream: BinaryIO) -> None:
        with open(source, "rb") as origin:
            shutil.copyfileobj(origin, stream, length=8 << 20)
    return produce


def replace_text(path: Path, text: str) -> None:
    """Atomically replace a small text file (the channel's last-data file)."""
    replace_bytes(path, text.encode("ascii"))


def replace_bytes(path: Path, data: bytes) -> None:
    """Atomically replace a small file, through a locked temporary like ``publish``'s,
    so what a killed writer leaves is found and removed by the same sweeps."""
    _retry_undone()
    try:
        dir_fd = _open_folder(path.parent)
    except OSError as error:
        raise DeliveryFailed(f"{path}: {describe_os_error(error)}") from error
    temporary = None
    try:
        fd, temporary = _create_temporary(dir_fd, path.name)
        with open(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.replace(temporary, path, src_dir_fd=dir_fd)
        temporary = None
    except OSError as error:
        raise DeliveryFailed(f"{path}: {describe_os_error(error)}") from error
    finally:
        if temporary is not None:
            _remove_temporary(dir_fd, path.parent, temporary)
        os.close(dir_fd)


def describe_os_error(error: OSError) -> str:
    """'read-only file system', 'no space left on device', ... with the path when known."""
    reason = error.strerror or str(error)
    return f"{reason} ({error.filename})" if error.filename else reason
