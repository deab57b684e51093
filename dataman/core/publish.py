"""Atomic, no-overwrite file publication (docs/processing.md, "Names, outputs and delivery").

Every file is written under a hidden temporary name in its final directory
and then *linked* to its final name: ``link(2)`` fails when the name exists,
so nothing is ever overwritten, and a reader of ``/newdata`` sees either the
complete file or nothing. Only the last-data file is meant to be replaced,
and it is, with ``rename(2)``.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

from dataman.core.errors import DeliveryFailed

#: The hidden name a file is written under before it is linked to its final name.
TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.part\Z")


def _temporary(directory: Path, name: str) -> Path:
    return directory / f".{name}.{os.getpid()}.part"


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(directory: Path, names: Collection[str],
                             alive: Callable[[int], bool] = pid_alive) -> list[Path]:
    """Remove the ``.<name>.<pid>.part`` files of ``names`` whose writer is dead.

    A writer killed mid-file (SIGKILL, power cut) leaves its hidden temporary
    behind: never visible under a final name, but clutter on a staging disk.
    Only the given names are looked at, so the temporaries of another host
    writing into the same shared folder are never touched.
    """
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for entry in entries:
        match = TEMPORARY.match(entry)
        if match and match["name"] in names and not alive(int(match["pid"])):
            try:
                (directory / entry).unlink()
            except OSError:
                continue
            removed.append(directory / entry)
    return removed


def publish(directory: Path, names: Sequence[str], produce: Callable[[BinaryIO], None], *,
            fsync: bool = False, expected_size: int | None = None,
            ours: Callable[[Path], bool] | None = None,
            before_link: Callable[[], None] | None = None) -> Path:
    """Write a file with ``produce`` and publish it under the first free name of ``names``.

    A taken name is skipped, unless ``ours(path)`` says the file there is an
    earlier attempt's output of this same frame: that one is replaced
    atomically, so a retry never leaves a second copy under another name.
    ``before_link`` is called once the file is complete, before it gets a
    name; if it raises, nothing is published. Raises ``FileExistsError`` when
    every name is taken and ``DeliveryFailed`` when the directory is missing,
    read-only or full, or the result is short.
    """
    temporary = _temporary(directory, names[0])
    try:
        with open(temporary, "xb") as stream:
            produce(stream)
            stream.flush()
            if fsync:
                os.fsync(stream.fileno())
        size = temporary.stat().st_size
        if expected_size is not None and size != expected_size:
            raise DeliveryFailed(f"{directory}: wrote {size} bytes of {expected_size}")
        if before_link is not None:
            before_link()
        return _link_first_free(temporary, directory, names, ours)
    except OSError as error:
        raise DeliveryFailed(f"{directory}: {describe_os_error(error)}") from error
    finally:
        _remove(temporary)


def _remove(temporary: Path) -> None:
    """Remove a temporary if it is there; on a read-only file system even a missing one
    gives EROFS, which must not hide the error that matters."""
    with suppress(OSError):
        temporary.unlink()


def _link_first_free(temporary: Path, directory: Path, names: Iterable[str],
                     ours: Callable[[Path], bool] | None = None) -> Path:
    for name in names:
        final = directory / name
        try:
            os.link(temporary, final)
        except FileExistsError:
            if ours is not None and ours(final):
                os.replace(temporary, final)
                return final
            continue
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            if final.exists():  # a file system without hard links: check, then rename
                if ours is not None and ours(final):
                    os.replace(temporary, final)
                    return final
                continue
            os.rename(temporary, final)
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
    temporary = _temporary(path.parent, path.name)
    try:
        temporary.write_text(text, encoding="ascii")
        os.replace(temporary, path)
    except OSError as error:
        _remove(temporary)
        raise DeliveryFailed(f"{path}: {describe_os_error(error)}") from error


def describe_os_error(error: OSError) -> str:
    """'read-only file system', 'no space left on device', ... with the path when known."""
    reason = error.strerror or str(error)
    return f"{reason} ({error.filename})" if error.filename else reason
