"""File names as text: the raw-name pattern, channels and nights (docs/processing.md).

Kept apart from :mod:`dataman.core.naming` (which reads headers, and so needs
astropy) because the commands other programs run every
few seconds, ``dataman send`` and the datagram parser, need only these
patterns and must start without importing astropy or numpy.
"""

from __future__ import annotations

import re

INSTRUMENTS = ("MODS1B", "MODS1R", "MODS2B", "MODS2R")
#: The highest frame number of a night: azcam numbers frames with four digits.
LAST_NUMBER = 9999
#: A raw frame name as azcam writes it: ``mods1b.20251230.0012.fits``.
RAW_NAME = re.compile(r"^(mods[12][br])\.([0-9]{8})\.([0-9]{4,})\.fits\Z")
#: Any dataMan file name: raw names and UNIQNAMEs (``mods1b.20251230.031245_2.fits``).
ANY_NAME = re.compile(r"^(mods[12][br])\.([0-9]{8})\.([0-9]+)(?:_[0-9]+)?\.fits\Z")


def channel_of(name: str) -> str | None:
    """``'mods2r.20251230.0001.fits'`` -> ``'mods2r'``; None for a foreign name.

    >>> channel_of("mods2r.20251230.031245_2.fits"), channel_of("notes.txt")
    ('mods2r', None)
    """
    match = ANY_NAME.match(name)
    return match.group(1) if match else None


def night_of(name: str) -> str | None:
    """The YYYYMMDD in a dataMan file name.

    >>> night_of("mods1b.20251230.0012.fits")
    '20251230'
    """
    match = ANY_NAME.match(name)
    return match.group(2) if match else None


def exposure_order(name: str) -> tuple[str, int] | None:
    """How exposures sort: by night, then by sequence number; None for other names.

    A six-digit number is a UNIQNAME's time of day (``mods1b.20251231.031246.fits``),
    not a sequence number (azcam writes four digits, five after 9999).

    >>> exposure_order("mods1b.20251230.0143.fits") < exposure_order("mods1b.20251231.0001.fits")
    True
    >>> exposure_order("mods1b.20251231.031246.fits") is None
    True
    """
    match = RAW_NAME.match(name)
    if match is None or len(match.group(3)) >= 6:
        return None
    return match.group(2), int(match.group(3))


def without_name(reason: str, name: str) -> str:
    """A reason as the service words it, without the frame name it repeats (the name is
    beside it already): ``'mods1b.0018.fits: truncated'`` → ``'truncated'``.

    >>> without_name("a.fits: truncated (a.fits has 10 of 20 rows)", "a.fits")
    'truncated (a.fits has 10 of 20 rows)'
    """
    return reason.removeprefix(f"{name}: ")
