"""Reading header values the way azcam and the LBT telescope link write them.

Any keyword may be missing, blank, or ``'NOCOMM'`` when the telescope link is
down; angles may be decimal degrees or sexagesimal strings. These helpers turn
all of that into a number or ``None`` so the fixes never have to guess.
"""

from __future__ import annotations

import re

from astropy.io import fits

UNSET_MARKERS = {"", "NOCOMM", "NONE", "UNKNOWN", "N/A"}
#: What the telescope link writes for a value it could not fetch.
NOCOMM = "NOCOMM"

_SEXAGESIMAL = re.compile(r"^\s*([+-]?)\s*(\d+(?:\.\d*)?)(?:[:\s]+(\d+(?:\.\d*)?))?"
                          r"(?:[:\s]+(\d+(?:\.\d*)?))?\s*$")


def is_unset(value: object) -> bool:
    """True for a missing, blank or 'NOCOMM' header value."""
    if value is None or isinstance(value, fits.card.Undefined):
        return True
    return isinstance(value, str) and value.strip().upper() in UNSET_MARKERS


def why_unusable(header: fits.Header, key: str) -> str:
    """The keyword and what is wrong with it, for a warning that goes on with "; ...".

    An operator needs to tell a dropped telescope link from a keyword azcam
    never wrote or a value nobody can read, so each case has its own words.

    >>> why_unusable(fits.Header([("TELRA", "NOCOMM")]), "TELRA")
    'TELRA is NOCOMM (telescope link down)'
    >>> why_unusable(fits.Header([("TELRA", " ")]), "TELRA")
    'TELRA blank'
    >>> why_unusable(fits.Header(), "TELRA")
    'TELRA missing'
    >>> why_unusable(fits.Header([("TELRA", "5h35")]), "TELRA")
    "TELRA '5h35' unparseable"
    """
    if key not in header:
        return f"{key} missing"
    value = header[key]
    if value is None or isinstance(value, fits.card.Undefined) or (
            isinstance(value, str) and not value.strip()):
        return f"{key} blank"
    if isinstance(value, str) and value.strip().upper() == NOCOMM:
        return f"{key} is {NOCOMM} (telescope link down)"
    if is_unset(value):
        return f"{key} is {str(value).strip()!r}"
    return f"{key} {value!r} unparseable"


def text_value(header: fits.Header, key: str) -> str | None:
    """The keyword's value as stripped text, or None when it is unset."""
    value = header.get(key)
    return None if is_unset(value) else str(value).strip()


def parse_sexagesimal(value: object) -> float | None:
    """``'-05:23:28.0'`` or ``'-05 23 28'`` or ``-5.39`` -> -5.391111; None if unparseable.

    The sign applies to the whole value, so ``'-00:30:00'`` is -0.5.
    """
    if isinstance(value, bool) or is_unset(value):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _SEXAGESIMAL.match(str(value))
    if match is None:
        return None
    sign, first, minutes, seconds = match.groups()
    total = float(first) + float(minutes or 0) / 60 + float(seconds or 0) / 3600
    if (minutes is not None and float(minutes) >= 60) or (seconds is not None
                                                           and float(seconds) >= 60):
        return None
    return -total if sign == "-" else total


def parse_float(value: object) -> float | None:
    """A finite float from a number or numeric text, else None."""
    if isinstance(value, bool) or is_unset(value):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None
