"""Header sanity: the keywords the archive and the pipelines need, checked after the fixes.

Each missing or unusable keyword is one finding flagged ``'hdr:<KEYWORD>'``:
DATE-OBS with a time of day, MJD-OBS, EXPTIME, IMAGETYP, INSTRUME, OBJECT,
and TELRA/TELDEC for an OBJECT frame taken while the telescope link was up.
"""

from __future__ import annotations

from collections.abc import Callable

from astropy.io import fits

from dataman.core.dates import parse_iso_utc
from dataman.core.keywords import parse_float, parse_sexagesimal, text_value, why_unusable
from dataman.core.misc import link_state
from dataman.core.names import INSTRUMENTS
from dataman.core.quality.report import Finding

#: MJD-OBS must fall within 1950..2100, else it is not a date of an exposure.
MJD_RANGE = (33282.0, 88069.0)


def _date_obs(header: fits.Header) -> str | None:
    text = text_value(header, "DATE-OBS")
    if text is None:
        return why_unusable(header, "DATE-OBS")
    if parse_iso_utc(text) is None:
        return f"DATE-OBS {text!r} is not a UTC date with a time"
    return None


def _number(key: str, low: float, high: float) -> Callable[[fits.Header], str | None]:
    def check(header: fits.Header) -> str | None:
        value = parse_float(header.get(key))
        if value is None:
            return why_unusable(header, key)
        if not low <= value <= high:
            return f"{key} {value:g} outside {low:g}..{high:g}"
        return None
    return check


def _text(key: str) -> Callable[[fits.Header], str | None]:
    def check(header: fits.Header) -> str | None:
        if key not in header:
            return f"{key} missing"
        value = header[key]
        if isinstance(value, str) and value.strip():
            return None
        if isinstance(value, str | None | fits.card.Undefined):
            return f"{key} blank"
        return f"{key} {value!r} is not text"
    return check


def _instrume(header: fits.Header) -> str | None:
    value = (text_value(header, "INSTRUME") or "").upper()
    if value not in INSTRUMENTS:
        return (f"INSTRUME {header['INSTRUME']!r} is not one of {', '.join(INSTRUMENTS)}"
                if "INSTRUME" in header and value else why_unusable(header, "INSTRUME"))
    return None


def _coordinate(key: str, low: float, high: float) -> Callable[[fits.Header], str | None]:
    def check(header: fits.Header) -> str | None:
        value = parse_sexagesimal(header.get(key))
        if value is None:
            return why_unusable(header, key)
        if not low <= value < high:
            return f"{key} {header[key]!r} out of range"
        return None
    return check


CHECKS: tuple[tuple[str, Callable[[fits.Header], str | None]], ...] = (
    ("DATE-OBS", _date_obs),
    ("MJD-OBS", _number("MJD-OBS", *MJD_RANGE)),
    ("EXPTIME", _number("EXPTIME", 0.0, 1e6)),
    ("IMAGETYP", _text("IMAGETYP")),
    ("INSTRUME", _instrume),
    ("OBJECT", _text("OBJECT")),
)
#: Checked only for OBJECT frames taken while LBTWLINK is Up.
POINTING: tuple[tuple[str, Callable[[fits.Header], str | None]], ...] = (
    ("TELRA", _coordinate("TELRA", 0.0, 24.0)),
    ("TELDEC", _coordinate("TELDEC", -90.0, 90.0 + 1e-9)),
)


def header_findings(primary: fits.Header) -> list[Finding]:
    """The primary header's missing or unusable keywords, in the order of CHECKS."""
    checks = CHECKS
    imagetyp = (text_value(primary, "IMAGETYP") or "").upper()
    if imagetyp == "OBJECT" and link_state(primary.get("LBTWLINK")) == "Up":
        checks += POINTING
    found = []
    for key, check in checks:
        reason = check(primary)
        if reason is not None:
            found.append(Finding(f"hdr:{key}", reason))
    return found
