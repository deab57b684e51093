"""Instruments and UNIQNAMEs (SPEC §2, §5); the name patterns are in :mod:`dataman.core.names`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from astropy.io import fits

from dataman.core.keywords import text_value
from dataman.core.names import INSTRUMENTS, channel_of

RESERVATIONS = ".uniqnames"


def instrument_of(primary: fits.Header, name: str) -> str | None:
    """INSTRUME when it names a MODS channel, else the channel of the file name."""
    instrume = (text_value(primary, "INSTRUME") or "").upper()
    if instrume in INSTRUMENTS:
        return instrume
    channel = channel_of(name)
    return channel.upper() if channel else None


def uniqname_candidates(instrument: str, when: datetime):
    """``mods1b.20251230.031246.fits``, then ``..._2.fits``, ``..._3.fits`` ..."""
    stem = f"{instrument.lower()}.{when.astimezone(UTC):%Y%m%d.%H%M%S}"
    yield f"{stem}.fits"
    number = 2
    while True:
        yield f"{stem}_{number}.fits"
        number += 1


def reserve_uniqname(instrument: str, when: datetime, night_dir: Path, repo_dir: Path,
                     raw_name: str = "") -> str:
    """The first UNIQNAME not taken in ``night_dir`` or ``repo_dir``, reserved atomically.

    Two workers processing frames of one channel within the same second must
    not both take the same name, so a name is claimed by creating a marker in
    ``night_dir/.uniqnames`` with O_EXCL, which is atomic across processes and
    survives restarts. The marker holds ``raw_name``, so a retry of a frame
    whose first attempt died can find the name it had (``find_reservation``).
    """
    markers = night_dir / RESERVATIONS
    markers.mkdir(parents=True, exist_ok=True)
    for candidate in uniqname_candidates(instrument, when):
        if (night_dir / candidate).exists() or (repo_dir / candidate).exists():
            continue
        try:
            fd = os.open(markers / candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            continue
        try:
            os.write(fd, raw_name.encode("ascii", "replace"))
        finally:
            os.close(fd)
        return candidate
    raise AssertionError("unreachable: candidates are endless")


def find_reservation(night_dir: Path, raw_name: str) -> str | None:
    """The UNIQNAME an earlier attempt reserved for ``raw_name`` in this night, if any.

    Only retries call this (a night has a few hundred markers at most); the
    newest reservation wins if a frame was processed more than once.
    """
    markers = night_dir / RESERVATIONS
    try:
        entries = sorted(markers.iterdir(), key=lambda path: path.stat().st_mtime_ns)
    except OSError:
        return None
    found = None
    for marker in entries:
        try:
            if marker.read_bytes() == raw_name.encode():
                found = marker.name
        except OSError:
            continue
    return found
