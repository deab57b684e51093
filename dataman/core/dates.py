"""fixDateTime: ISO DATE-OBS, MJD-OBS, HJD-OBS and BJD-OBS (docs/processing.md, fixDateTime).

HJD-OBS and BJD-OBS hold *modified* Julian dates, as the original MODS system
wrote them; the keyword comments say so. Everything is computed locally: no
site registry, no IERS download.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from astropy.io import fits

from dataman.core.barycentric import Site, observation_dates
from dataman.core.config import SiteConfig
from dataman.core.keywords import parse_float, parse_sexagesimal, text_value, why_unusable

MJD_EPOCH = datetime(1858, 11, 17, tzinfo=UTC)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$")
_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}(?:\.\d+)?$")
COMMENTS = {
    "DATE-OBS": "UTC start of exposure (ISO 8601)",
    "MJD-OBS": "MJD at start of exposure (UTC)",
    "HJD-OBS": "Heliocentric MODIFIED JD at start (UTC)",
    "BJD-OBS": "Barycentric MODIFIED JD at start (TDB)",
}


def parse_iso_utc(text: str) -> datetime | None:
    """``'2025-12-30T03:12:45.123'`` -> aware UTC datetime; None when malformed.

    Fractions finer than a microsecond are rounded; a leap second (:60) is refused.
    """
    match = _DATETIME.match(text.strip())
    if match is None:
        return None
    *fields, fraction = match.groups()
    year, month, day, hour, minute, second = map(int, fields)
    try:
        start = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    return start + timedelta(seconds=float(f"0.{fraction}")) if fraction else start


def mjd_of(moment: datetime) -> float:
    """Modified Julian Date of an aware UTC datetime (2025-12-30 00:00 is 61039.0)."""
    return (moment - MJD_EPOCH) / timedelta(days=1)


def _start_time(primary: fits.Header, warnings: list[str]) -> datetime | None:
    date = text_value(primary, "DATE-OBS")
    if date is None:
        warnings.append(f"{why_unusable(primary, 'DATE-OBS')}; MJD-OBS, HJD-OBS, BJD-OBS skipped")
        return None
    if _DATE.match(date):
        utc = text_value(primary, "UTC-OBS")
        if utc is None or not _TIME.match(utc):
            warnings.append(f"{why_unusable(primary, 'UTC-OBS')}; "
                            "DATE-OBS kept, MJD-OBS, HJD-OBS, BJD-OBS skipped")
            return None
        candidate = f"{date}T{utc}"
        if parse_iso_utc(candidate) is None:
            warnings.append(f"DATE-OBS/UTC-OBS {candidate!r} is not a valid time; dates skipped")
            return None
        primary["DATE-OBS"] = (candidate, COMMENTS["DATE-OBS"])
    start = parse_iso_utc(str(primary["DATE-OBS"]))
    if start is None:
        warnings.append(f"DATE-OBS {primary['DATE-OBS']!r} unparseable; dates skipped")
    return start


def _site(primary: fits.Header, default: SiteConfig, warnings: list[str]) -> Site:
    """The header's site; each unusable keyword falls back to the configuration, said once."""
    values: dict[str, float] = {}
    reasons: list[str] = []
    replaced: list[str] = []
    for key, parse, limit, fallback, name in (
            ("LATITUDE", parse_sexagesimal, 90, default.latitude, "latitude {} deg N"),
            ("LONGITUD", parse_sexagesimal, 360, default.longitude, "longitude {} deg W"),
            ("ELEVATIO", parse_float, 10_000, default.elevation, "elevation {} m")):
        value = parse(primary.get(key))
        if value is None or abs(value) > limit:
            reasons.append(why_unusable(primary, key) if value is None
                           else f"{key} {primary[key]!r} out of range")
            replaced.append(name.format(fallback))
            value = fallback
        values[key] = value
    if reasons:
        warnings.append(f"{', '.join(reasons)}; configured site used instead for HJD-OBS, "
                        f"BJD-OBS: {', '.join(replaced)}")
    return Site(latitude=values["LATITUDE"], longitude_east=-values["LONGITUD"],
                elevation=values["ELEVATIO"])


def fix_date_time(primary: fits.Header, default_site: SiteConfig) -> list[str]:
    """Apply fixDateTime in place; a missing input skips only what depends on it."""
    warnings: list[str] = []
    start = _start_time(primary, warnings)
    if start is None:
        return warnings
    primary["MJD-OBS"] = (mjd_of(start), COMMENTS["MJD-OBS"])
    ra_hours = parse_sexagesimal(primary.get("TELRA"))
    dec = parse_sexagesimal(primary.get("TELDEC"))
    for key, value in (("TELRA", ra_hours), ("TELDEC", dec)):
        if value is None:
            warnings.append(f"{why_unusable(primary, key)}; HJD-OBS, BJD-OBS skipped")
    if ra_hours is None or dec is None:
        return warnings
    if not (0 <= ra_hours < 24 and -90 <= dec <= 90):
        warnings.append(f"TELRA {ra_hours} h / TELDEC {dec} deg out of range; "
                        "HJD-OBS, BJD-OBS skipped")
        return warnings
    dates = observation_dates(start, 15.0 * ra_hours, dec, _site(primary, default_site, warnings))
    primary["HJD-OBS"] = (dates.hjd_utc, COMMENTS["HJD-OBS"])
    primary["BJD-OBS"] = (dates.bjd_tdb, COMMENTS["BJD-OBS"])
    return warnings
