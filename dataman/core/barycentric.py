"""MJD, heliocentric and barycentric dates of an exposure start, computed offline.

The archive keywords ``MJD-OBS``, ``HJD-OBS`` and ``BJD-OBS`` (docs/processing.md, fixDateTime) are
written for every frame on the latency-critical path, and the mountain network
may be down. So this module talks to ERFA (pyerfa, which astropy is built on)
directly instead of going through ``astropy.time``/``astropy.coordinates``:
nothing here can download an IERS table or an ephemeris, nothing warns, any
date works, and a call costs well under a millisecond.

Neglected on purpose, each far below the 1e-7 day (8.6 ms) goal: UT1−UTC
(< 0.9 s of Earth rotation, ~1 µs of light time), polar motion (~10 m, 30 ns),
and the error of the ``epv00`` analytic ephemeris (a few km, ~15 µs). For
dates past the end of ERFA's leap-second table the last TAI−UTC is kept, which
is all anyone can do before a new leap second is announced.

>>> dates = observation_dates("2025-12-30T00:00:00", 83.822083, -5.391111, LBT)
>>> dates.mjd_utc
61039.0
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import erfa
import numpy as np

_ISO_UTC = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2}(?:\.\d*)?)(?:Z|\+00:?00)?$"
)
_DUBIOUS_YEAR = 1  # ERFA status: date outside the leap-second table; the result is still usable


@dataclass(frozen=True)
class Site:
    """Geodetic position of an observatory on the WGS84 ellipsoid.

    Longitude is degrees *east*, as ERFA and astropy count it; the MODS header
    keyword ``LONGITUD`` counts degrees west, so the caller negates it.
    """

    latitude: float
    longitude_east: float
    elevation: float


#: Large Binocular Telescope, Mt. Graham (the default site, docs/processing.md, fixDateTime).
LBT = Site(latitude=32.70131, longitude_east=-109.88906, elevation=3221.0)


@dataclass(frozen=True)
class ObservationDates:
    """Dates of one exposure start, all *modified* Julian dates as MODS has always written them."""

    mjd_utc: float
    hjd_utc: float
    bjd_tdb: float


def observation_dates(
    start_utc: datetime | str, ra_deg: float, dec_deg: float, site: Site = LBT
) -> ObservationDates:
    """Return MJD (UTC), heliocentric MJD (UTC) and barycentric MJD (TDB) of an exposure start.

    HJD and BJD add the light travel time (Rømer delay) from the observer to the
    Sun's centre or to the solar-system barycentre, projected on the direction
    of the target; the observer's topocentric position is included (up to
    21 ms). Accurate to about 1e-9 day.

    Parameters
    ----------
    start_utc : datetime or str
        Start of the exposure in UTC. A ``datetime`` must be timezone-aware
        (a naive one would silently mean local time); a string is ISO 8601
        (``YYYY-MM-DDThh:mm:ss[.fff]``, optional ``Z``) and may name a leap second.
    ra_deg, dec_deg : float
        ICRS right ascension and declination of the target, degrees.
    site : Site
        Where the telescope is.

    Returns
    -------
    ObservationDates

    Raises
    ------
    ValueError
        If the time cannot be read or does not exist, or the target position is absurd.
    """
    if not (math.isfinite(ra_deg) and math.isfinite(dec_deg) and abs(dec_deg) <= 90.0):
        raise ValueError(f"target position RA={ra_deg!r}, Dec={dec_deg!r} deg is not on the sky")
    utc1, utc2 = _utc_julian_date(start_utc)
    tai1, tai2, _ = erfa.ufunc.utctai(utc1, utc2)  # dtf2d already vetted the date
    tt1, tt2 = erfa.taitt(tai1, tai2)
    itrs_m = _itrs_position(site)
    tdb2 = tt2 + _tdb_minus_tt(tt1, tt2, utc1, utc2, itrs_m) / erfa.DAYSEC
    heliocentric_au, barycentric_au, _ = erfa.ufunc.epv00(tt1, tdb2)
    observer_au = erfa.c2t06a(tt1, tt2, utc1, utc2, 0.0, 0.0).T @ itrs_m / erfa.DAU
    target = erfa.s2c(math.radians(ra_deg), math.radians(dec_deg))
    helio_days = target @ (heliocentric_au["p"] + observer_au) * erfa.AULT / erfa.DAYSEC
    bary_days = target @ (barycentric_au["p"] + observer_au) * erfa.AULT / erfa.DAYSEC
    mjd_utc = (utc1 - erfa.DJM0) + utc2
    return ObservationDates(
        mjd_utc=float(mjd_utc),
        hjd_utc=float(mjd_utc + helio_days),
        bjd_tdb=float((tt1 - erfa.DJM0) + tdb2 + bary_days),
    )


def _utc_julian_date(start_utc: datetime | str) -> tuple[float, float]:
    """Two-part UTC Julian date; ERFA's convention stretches a leap-second day to 86401 s."""
    if isinstance(start_utc, datetime):
        if start_utc.utcoffset() is None:
            raise ValueError(f"start time {start_utc!r} has no time zone; UTC is required")
        t = start_utc.astimezone(UTC)
        fields: tuple[float, ...] = (t.year, t.month, t.day, t.hour, t.minute,
                                     t.second + t.microsecond * 1e-6)
    else:
        match = _ISO_UTC.match(start_utc.strip())
        if match is None:
            raise ValueError(f"start time {start_utc!r} is not ISO 8601 UTC")
        *ymdhm, seconds = match.groups()
        fields = (*(int(part) for part in ymdhm), float(seconds))
    utc1, utc2, status = erfa.ufunc.dtf2d(b"UTC", *fields)
    if status not in (0, _DUBIOUS_YEAR):
        raise ValueError(f"start time {start_utc!r} does not exist in UTC (ERFA status {status})")
    return float(utc1), float(utc2)


def _tdb_minus_tt(tt1: float, tt2: float, utc1: float, utc2: float, itrs_m: np.ndarray) -> float:
    """TDB−TT in seconds, with the observer's topocentric term (µs, but free)."""
    ut_fraction = ((utc1 - 0.5) % 1.0 + utc2) % 1.0
    spin_axis_km = math.hypot(itrs_m[0], itrs_m[1]) / 1000.0
    east_rad = math.atan2(itrs_m[1], itrs_m[0])
    return float(erfa.dtdb(tt1, tt2, ut_fraction, east_rad, spin_axis_km, itrs_m[2] / 1000.0))


@lru_cache(maxsize=8)
def _itrs_position(site: Site) -> np.ndarray:
    """Earth-fixed (ITRS ≈ WGS84) position of the site in metres; one site per frame, so cached."""
    xyz = erfa.gd2gc(
        1, math.radians(site.longitude_east), math.radians(site.latitude), site.elevation
    )
    xyz.setflags(write=False)  # shared by every call through the cache
    return xyz
