"""Hidden temporaries a killed worker left in procDir or repoDir, removed.

``publish`` writes ``.<name>.<host>-<pid>-<token>.part`` and links it to its
final name, so a worker killed mid-write (SIGKILL, time limit, power cut)
never leaves a partial file under a final name, but it does leave that hidden
temporary (thumbnails in stateDir are written the same way). The supervisor
removes those of the frame a dead worker held, and at start every abandoned
temporary of this host in repoDir, the night folders and the thumbnails'
folders, in a thread (repoDir is NFS). The start also takes over the name
reservations an older dataMan kept inside the night folders.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from dataman.core.config import PathsConfig
from dataman.core.identity import UniqnameRegistry
from dataman.core.names import channel_of, night_of
from dataman.core.publish import remove_abandoned_temporaries
from dataman.core.quality.thumbnail_place import FOLDER as THUMBNAILS
from dataman.core.quality.thumbnail_place import thumbnail_path

log = logging.getLogger("dataman")


def folders_and_names(paths: PathsConfig, frames: Iterable[str], *,
                      repo: bool = True) -> dict[Path, set[str]]:
    """Where each raw frame's temporaries may be: its night folder, its night's thumbnail
    folder and (unless ``repo`` is False: a shadow run, which never writes there) repoDir,
    with the names written there (the frame, its thumbnail, and in repoDir the channel's
    last-data file)."""
    found: dict[Path, set[str]] = {}
    for name in frames:
        night, channel = night_of(name), channel_of(name)
        if night:
            found.setdefault(paths.proc_dir / night, set()).add(name)
            thumbnail = thumbnail_path(paths.state_dir, night, name)
            found.setdefault(thumbnail.parent, set()).add(thumbnail.name)
        if not repo:
            continue
        found.setdefault(paths.repo_dir, set()).add(name)
        if channel:
            found[paths.repo_dir].add(f"{channel.upper()}.new")
    return found


def remove_leftovers(paths: PathsConfig, frames: Iterable[str], *,
                     repo: bool = True) -> list[Path]:
    return [path for folder, names in folders_and_names(paths, frames, repo=repo).items()
            for path in remove_abandoned_temporaries(folder, names)]


async def sweep(paths: PathsConfig, frames: list[str], why: str, *, repo: bool = True) -> None:
    """Remove the frames' stale temporaries off the loop (repoDir too, unless ``repo``
    is False); log what was removed."""
    if not frames:
        return
    try:
        removed = await asyncio.to_thread(partial(remove_leftovers, repo=repo), paths, frames)
    except Exception as error:  # a sweep is housekeeping: it must never stop the service
        log.warning("could not look for temporary files left %s: %r", why, error)
        return
    if removed:
        log.warning("removed %d temporary files left %s: %s", len(removed), why,
                    " ".join(str(path) for path in removed))


def clear_installation(paths: PathsConfig, *, repo: bool = True) -> list[Path]:
    """Every abandoned temporary of this host in repoDir (unless ``repo`` is False), the
    night folders and the thumbnails' night folders, removed; dataMan 0.1's reservations
    moved into the registry."""
    UniqnameRegistry(paths.state_dir).import_legacy(paths.proc_dir)
    nights = "[0-9]" * 8
    folders = [*([paths.repo_dir] if repo else []), *sorted(paths.proc_dir.glob(nights)),
               *sorted((paths.state_dir / THUMBNAILS).glob(nights))]
    return [path for folder in folders for path in remove_abandoned_temporaries(folder)]


async def sweep_installation(paths: PathsConfig, *, repo: bool = True) -> None:
    """``clear_installation`` off the loop, at start; logs what was removed."""
    try:
        removed = await asyncio.to_thread(partial(clear_installation, repo=repo), paths)
    except Exception as error:  # housekeeping must never stop the service
        log.warning("could not look for temporary files left by a killed run: %r", error)
        return
    if removed:
        log.warning("removed %d temporary files left by a killed run: %s", len(removed),
                    " ".join(str(path) for path in removed))
