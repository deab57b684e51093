"""The raw-folder scan: frames on disk whose ``proc`` datagram never arrived.

UDP can drop a datagram and the service can be down while azcam writes, so at
start and every ``scanInterval`` seconds the supervisor lists
``<dataDir>/<chan>/`` for raw frames of the current and the previous observing
night and queues those the journal has never seen (behind live requests).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from dataman.core.names import INSTRUMENTS, RAW_NAME
from dataman.core.nightlog import observing_date


def nights_to_scan(now: datetime, utc_offset: float) -> list[str]:
    """The current observing date and the one before it, YYYYMMDD."""
    return [observing_date(now, utc_offset),
            observing_date(now - timedelta(days=1), utc_offset)]


def raw_frames(data_dir: Path, nights: Iterable[str]) -> list[Path]:
    """Raw frames of these nights in every channel folder, oldest name first.

    Runs in a thread (the listing may be on NFS); a missing or unreadable
    channel folder is simply empty.
    """
    wanted = set(nights)
    found = []
    for channel in (name.lower() for name in INSTRUMENTS):
        folder = data_dir / channel
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            match = RAW_NAME.match(name)
            if match and match.group(1) == channel and match.group(2) in wanted:
                found.append(folder / name)
    return sorted(found, key=lambda path: path.name)
