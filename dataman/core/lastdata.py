"""The channel's last-data file, ``<repoDir>/<CHAN>.new``: the newest exposure, never older.

Observers and scripts read ``MODS1B.new`` to open the latest exposure, so it
must name the newest exposure delivered (latest night, then highest sequence
number) and never move back, whatever order frames are delivered in: a frame
that waited for the staging disk, or one queued again after a restart, is
delivered after newer ones.

The file may name a frame by its UNIQNAME (when its raw name was taken), which
does not tell its place in the night, so the raw name of the exposure it names
is kept beside the journal in ``<stateDir>/newest/<CHAN>``. A lock there makes
compare-and-replace one step for every process of this installation (two
workers, the service and ``dataman process``).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dataman.core.names import exposure_order
from dataman.core.publish import replace_text

FOLDER = "newest"


def record_newest(repo_dir: Path, state_dir: Path, instrument: str, raw_name: str,
                  delivered_name: str) -> bool:
    """Point ``<CHAN>.new`` at ``delivered_name`` unless a newer exposure is there already.

    Returns whether it was changed. Raises ``DeliveryFailed`` when the
    last-data file cannot be written.
    """
    folder = Path(state_dir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    last_data = Path(repo_dir) / f"{instrument}.new"
    with _locked(folder / f"{instrument}.lock"):
        current = _current_exposure(folder / instrument, last_data)
        if current is not None and _is_older(raw_name, current):
            return False
        replace_text(last_data, delivered_name + "\n")
        _write_small(folder / instrument, raw_name + "\n")
    return True


def _is_older(raw_name: str, current: str) -> bool:
    new, old = exposure_order(raw_name), exposure_order(current)
    return new is not None and old is not None and new < old


def _current_exposure(state: Path, last_data: Path) -> str | None:
    """The raw name of the exposure ``.new`` names now, if it can be told."""
    for source in (state, last_data):
        try:
            text = source.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if exposure_order(text) is not None:
            return text
    return None


def _write_small(path: Path, text: str) -> None:
    private = path.with_name(f".{path.name}.{os.getpid()}")
    private.write_text(text, encoding="ascii")
    os.replace(private, path)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
