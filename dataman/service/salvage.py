"""A damaged journal or UNIQNAME registry is set aside at start, and a new one begun.

Both are records the service can rebuild: the raw folders, procDir, repoDir and
the UNIQNAME in every output's header are the truth. So a journal that is not
a database any more (a disk error, a half-copied file), or a registry whose
recent markers are not names, must not stop the night: the bad one is moved
aside beside itself, named with the time (``journal.sqlite3.damaged-20261207T031204Z``),
kept for a person to look at, said at CRITICAL in the log, and a fresh one is
started. What it held comes back through the raw-folder scan (tonight's and
last night's frames): a frame whose outputs exist is recorded as delivered,
under the UNIQNAME its outputs carry, never processed a second time
(:mod:`dataman.service.scanner`); the others are processed.

A journal of a newer dataMan (an unknown schema version) or a stateDir that
cannot be written is not damage: the start still refuses, with the reason.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from dataman.core.identity import FOLDER as REGISTRY
from dataman.core.identity import UniqnameRegistry
from dataman.core.names import ANY_NAME
from dataman.service.journal import FILE_NAME, Journal, JournalError

log = logging.getLogger("dataman")
#: What sqlite says of a file that is not (or no longer) a database.
DAMAGE = ("file is not a database", "malformed", "database is damaged")
#: How many markers of each recent night are read to judge the registry.
MARKERS_READ = 2000


def set_aside(path: Path, now: float) -> Path:
    """Rename ``path`` (and a journal's ``-wal``/``-shm``) to ``<name>.damaged-<UTC time>``."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    os.rename(path, aside)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            os.rename(companion, aside.with_name(aside.name + suffix))
    return aside


def open_journal(state_dir: Path, now: float) -> tuple[Journal, list[str]]:
    """The journal, and the notice to show all night if a damaged one was set aside."""
    try:
        return Journal.open(state_dir), []
    except JournalError as error:
        if not any(phrase in str(error.__cause__ or error) for phrase in DAMAGE):
            raise
        damage = error
    path = Path(state_dir) / FILE_NAME
    try:
        aside = set_aside(path, now)
    except OSError as os_error:
        raise JournalError(f"{damage}; it could not be set aside: {os_error}") from os_error
    log.critical("%s; set aside as %s, a new journal is started: the scan recovers tonight's "
                 "and last night's frames", damage, aside.name)
    return Journal.open(state_dir), [f"journal damaged: set aside as {aside}"]


def registry_damage(root: Path, nights: list[str]) -> str | None:
    """Why the UNIQNAME registry at ``root`` looks damaged, else None (absent is fine).

    Its two trees must be folders, and the markers binding the frames of
    ``nights`` (the ones the service is about to use) must each hold a UNIQNAME.
    """
    if not root.exists() and not root.is_symlink():
        return None
    if not root.is_dir():
        return f"{root} is not a folder"
    for tree in ("frames", "names"):
        if (root / tree).exists() and not (root / tree).is_dir():
            return f"{root / tree} is not a folder"
    for night in nights:
        problem = _bad_marker(root / "frames" / night)
        if problem:
            return problem
    return None


def _bad_marker(folder: Path) -> str | None:
    marker = folder
    try:
        markers = sorted(folder.iterdir())[:MARKERS_READ] if folder.is_dir() else []
        for marker in markers:
            if marker.name.startswith("."):
                continue  # a claimer's private file, or its leftover
            text = marker.read_bytes().decode("ascii").strip()
            if not ANY_NAME.match(text):
                return f"{marker} holds {text[:40]!r}, not a UNIQNAME"
    except UnicodeDecodeError:
        return f"{marker} does not hold a name"
    except OSError as error:
        return f"{error.filename or folder}: {error.strerror or error}"
    return None


#: A damaged registry's replacement learns the names of the frames the journal saw
#: change in this many seconds (two days: tonight's and last night's frames).
RELEARN_WINDOW = 2 * 86400.0


def check_registry(state_dir: Path, nights: list[str], now: float,
                   journal: Journal | None = None) -> list[str]:
    """Set a damaged registry aside (a new one starts empty); the notice, if any.

    The new registry first learns from ``journal`` the UNIQNAMEs its frames of the
    last two days were given: a UNIQNAME is the second a frame was processed, so a
    frame processed right after the restart could otherwise be given the name of
    one processed in the same second before it. (Frames the journal does not know
    are learned from their outputs' headers by the scan.)
    """
    root = Path(state_dir) / REGISTRY
    problem = registry_damage(root, nights)
    if problem is None:
        return []
    aside = set_aside(root, now)
    learned = relearn_from_journal(state_dir, journal, now) if journal is not None else 0
    log.critical("UNIQNAME registry damaged (%s); set aside as %s, a new one is started: "
                 "%d names learned again from the journal, the others from the outputs' "
                 "headers", problem, aside.name, learned)
    return [f"UNIQNAME registry damaged: set aside as {aside}"]


def relearn_from_journal(state_dir: Path, journal: Journal, now: float) -> int:
    """Bind each frame the journal saw lately to its UNIQNAME; how many were bound."""
    registry = UniqnameRegistry(state_dir)
    try:
        pairs = journal.uniqnames_since(now - RELEARN_WINDOW)
    except JournalError as error:
        log.error("cannot read the journal's UNIQNAMEs: %s", error)
        return 0
    for name, uniqname in pairs:
        registry.bind(name, uniqname)
    return len(pairs)
