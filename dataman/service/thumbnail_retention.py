"""Old nights' thumbnails removed, so stateDir does not grow for as long as the service runs.

Every delivered frame leaves a PNG of a few tens of kB in
``<stateDir>/thumbnails/<night>/``: a few MB a night, a few GB a year. They exist
for the night report, which is written when the night ends and rarely again
weeks later, so ``[quality] thumbnailNights`` nights are kept and older nights'
folders are removed, at start and after each night's report. Only folders named
as an observing night (a valid ``YYYYMMDD``) are ever touched.
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from dataman.core.quality.thumbnail_place import FOLDER

log = logging.getLogger("dataman")


def expired_nights(state_dir: Path, keep_nights: int, current_night: str) -> list[Path]:
    """Thumbnail folders of nights more than ``keep_nights`` before ``current_night``
    (``YYYYMMDD``), oldest first; none when ``keep_nights`` is 0 (keep all)."""
    if keep_nights <= 0:
        return []
    oldest_kept = (datetime.strptime(current_night, "%Y%m%d")
                   - timedelta(days=keep_nights)).strftime("%Y%m%d")
    try:
        entries = sorted((state_dir / FOLDER).iterdir())
    except OSError:  # no thumbnails yet, or stateDir unreadable: nothing to prune
        return []
    return [entry for entry in entries
            if _is_night(entry.name) and entry.name < oldest_kept and entry.is_dir()
            and not entry.is_symlink()]


def prune_thumbnails(state_dir: Path, keep_nights: int, current_night: str) -> list[Path]:
    """Remove the expired nights' folders; logs and returns what was removed.

    Housekeeping: a folder that cannot be removed is a warning, never an error.
    """
    removed = []
    for folder in expired_nights(state_dir, keep_nights, current_night):
        try:
            shutil.rmtree(folder)
        except OSError as error:
            log.warning("thumbnails of night %s not removed: %s", folder.name, error)
            continue
        removed.append(folder)
    if removed:
        log.info("removed the thumbnails of nights more than %d nights before %s: %s",
                 keep_nights, current_night, " ".join(folder.name for folder in removed))
    return removed


def _is_night(name: str) -> bool:
    if len(name) != 8 or not name.isdigit():
        return False
    try:
        datetime.strptime(name, "%Y%m%d")
    except ValueError:
        return False
    return True
