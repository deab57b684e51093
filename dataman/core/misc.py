"""fixMisc: keywords the LBT Archive and legacy MODS tools require (docs/processing.md, fixMisc)."""

from __future__ import annotations

from astropy.io import fits

from dataman.core.keywords import is_unset, parse_sexagesimal, text_value, why_unusable
from dataman.core.readout import Readout

UNKNOWN_ZD = -99.99
_DEFAULTS: tuple[tuple[str, object, str], ...] = (
    ("OBJRADEC", "FK5", "Object coordinate system"),
    ("OBJEQUIN", "J2000", "Object coordinate equinox"),
    ("OBJEPOCH", 2000.0, "Object coordinate epoch"),
    ("GUINAME", "None", "Guide star name"),
    ("GUIRADEC", "FK5", "Guide star coordinate system"),
    ("GUIEQUIN", "J2000", "Guide star coordinate equinox"),
    ("GUIPMRA", 0.0, "Guide star proper motion in RA [mas/yr]"),
    ("GUIPMDEC", 0.0, "Guide star proper motion in Dec [mas/yr]"),
    ("GUIEPOCH", 2000.0, "Guide star coordinate epoch"),
)
_TRUE = {"1", "T", "TRUE"}
_FALSE = {"0", "F", "FALSE"}


def fix_misc(primary: fits.Header, readout: Readout) -> list[str]:
    """Apply every fixMisc change to the primary header in place; returns warnings."""
    warnings: list[str] = []
    altitude = _decimal_angle(primary, "TELALT", warnings)
    _decimal_angle(primary, "TELAZ", warnings)
    primary["ZD"] = (90.0 - altitude if altitude is not None else UNKNOWN_ZD,
                     "Zenith distance at start [deg]")
    primary["LBTWLINK"] = (link_state(primary.get("LBTWLINK")), "LBT telescope link state")
    primary["CCDROI"] = (str(readout.window), "Readout window [detector pixels]")
    primary["CCDXBIN"] = (readout.xbin, "Binning along columns")
    primary["CCDYBIN"] = (readout.ybin, "Binning along rows")
    primary["OBJNAME"] = (text_value(primary, "OBJECT") or "None", "Object name")
    for key, value, comment in _DEFAULTS:
        if is_unset(primary.get(key)):
            primary[key] = (value, comment)
    for key in ("NSTYPE", "NSEPHFIL"):
        if is_unset(primary.get(key)):
            primary[key] = "None"
    _fix_nonsidereal(primary, warnings)
    primary.remove("NEXTEND", ignore_missing=True, remove_all=True)
    imagetyp = primary.get("IMAGETYP")
    if isinstance(imagetyp, str):
        primary["IMAGETYP"] = imagetyp.upper()
    return warnings


def _decimal_angle(primary: fits.Header, key: str, warnings: list[str]) -> float | None:
    """Rewrite ``key`` in decimal degrees; None (value left as is) when unparseable."""
    value = primary.get(key)
    degrees = parse_sexagesimal(value)
    if degrees is None:
        warnings.append(f"{why_unusable(primary, key)}; left unchanged")
        return None
    if not isinstance(value, float):
        primary[key] = degrees
    return degrees


def link_state(value: object) -> str:
    """LBTWLINK 1/0 -> 'Up'/'Down'; 'Up'/'Down' stay; anything else -> 'Unknown'."""
    text = str(value).strip().upper() if not is_unset(value) else ""
    if isinstance(value, bool):
        text = "1" if value else "0"
    return {"1": "Up", "UP": "Up", "0": "Down", "DOWN": "Down"}.get(text, "Unknown")


def _fix_nonsidereal(primary: fits.Header, warnings: list[str]) -> None:
    value = primary.get("NONSIDER")
    if isinstance(value, bool):
        return
    text = str(value).strip().upper()
    if text in _TRUE or text in _FALSE:
        primary["NONSIDER"] = text in _TRUE
    else:
        warnings.append(f"NONSIDER = {value!r} is not 1/0 or T/F; left unchanged")
