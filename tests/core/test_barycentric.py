"""MJD/HJD/BJD of an exposure start, checked against astropy's high-level API and literal values.

The implementation calls ERFA directly; the reference here goes through
``astropy.time.Time.light_travel_time`` (ITRS → GCRS/HCRS frame transforms with
IERS Earth orientation), a different path to the same physics.
"""

from __future__ import annotations

import socket
import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta, timezone

import astropy.units as u
import erfa
import numpy as np
import pytest
from astropy.coordinates import EarthLocation, SkyCoord
from astropy.time import Time
from astropy.utils import iers
from astropy.utils.exceptions import AstropyWarning

from dataman.core.barycentric import LBT, Site, observation_dates

DAY_S = 86400.0
#: The accuracy goal of fixDateTime (docs/processing.md): 1e-7 day = 8.6 ms.
TOLERANCE_DAYS = 1e-7
#: What the two methods actually share (86 µs; they differ by ~3 µs, from UT1−UTC and polar
#: motion): tight enough to catch a dropped TDB−TT (1.7 ms) that the goal would let through.
AGREEMENT_DAYS = 1e-9

SITES = {
    "LBT": LBT,
    "Paranal": Site(latitude=-24.62733, longitude_east=-70.40417, elevation=2635.0),
    "SidingSpring": Site(latitude=-31.27333, longitude_east=149.06167, elevation=1165.0),
}
#: Across a year (perihelion, equinoxes, solstice, aphelion side), all inside the bundled IERS-A.
DATES = [
    "2025-01-03T04:00:00",
    "2025-03-20T09:01:00.5",
    "2025-06-21T12:00:00",
    "2025-09-22T18:30:00",
    "2025-12-30T03:12:45.123",
    "2026-04-01T23:59:59.999",
]
#: (RA, Dec) in degrees: Orion, both celestial poles, the ecliptic at both solstices, the
#: north ecliptic pole, Polaris, and an ordinary mid-latitude field.
TARGETS = np.array(
    [(83.822083, -5.391111), (0.0, 89.99), (180.0, -89.95), (90.0, 23.4393), (270.0, -23.4393),
     (270.0, 66.5607), (37.954561, 89.264109), (123.4, 45.0)]
)  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def offline_astropy() -> Iterator[None]:
    """Keep the astropy reference on its bundled IERS and leap-second tables, no downloads."""
    with ExitStack() as stack:
        stack.enter_context(iers.conf.set_temp("auto_download", False))
        stack.enter_context(iers.conf.set_temp("auto_max_age", None))
        yield


def astropy_reference(start: str, ra: np.ndarray, dec: np.ndarray, site: Site) -> np.ndarray:
    """Rows MJD (UTC), HJD (UTC), BJD (TDB), all modified, from astropy's high-level API."""
    location = EarthLocation.from_geodetic(
        site.longitude_east * u.deg, site.latitude * u.deg, site.elevation * u.m
    )
    t = Time(start, scale="utc", location=location)
    target = SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")
    helio = t.light_travel_time(target, kind="heliocentric", ephemeris="builtin").to_value(u.day)
    bary = t.light_travel_time(target, kind="barycentric", ephemeris="builtin").to_value(u.day)
    tdb = t.tdb
    return np.array(
        [np.broadcast_to(t.mjd, helio.shape), t.mjd + helio, (tdb.jd1 - 2400000.5) + tdb.jd2 + bary]
    )


def ours(start: str, site: Site, targets: np.ndarray = TARGETS) -> np.ndarray:
    """The same rows from the implementation, one call per target as the worker makes them."""
    rows = [observation_dates(start, ra, dec, site) for ra, dec in targets]
    return np.array([[d.mjd_utc, d.hjd_utc, d.bjd_tdb] for d in rows]).T


@pytest.mark.parametrize("start", DATES)
@pytest.mark.parametrize("site_name", SITES)
def test_matches_astropy_high_level_api(site_name: str, start: str) -> None:
    site = SITES[site_name]
    expected = astropy_reference(start, TARGETS[:, 0], TARGETS[:, 1], site)
    np.testing.assert_allclose(ours(start, site), expected, rtol=0, atol=AGREEMENT_DAYS)


def test_matches_astropy_in_2035_beyond_its_tables() -> None:
    """Astropy extrapolates (and warns about it) past its tables; we stay within 1e-7 day."""
    start = "2035-06-01T03:12:45.123"
    with warnings.catch_warnings(), iers.conf.set_temp("iers_degraded_accuracy", "ignore"):
        warnings.simplefilter("ignore", erfa.ErfaWarning)  # the reference's, not ours
        warnings.simplefilter("ignore", AstropyWarning)
        expected = astropy_reference(start, TARGETS[:, 0], TARGETS[:, 1], LBT)
    np.testing.assert_allclose(ours(start, LBT), expected, rtol=0, atol=TOLERANCE_DAYS)


def test_orion_nebula_from_lbt_literal() -> None:
    # Computed once with astropy 8.0.2 (pyerfa 2.0.1.5, astropy-iers-data 0.2026.11.2.0.34.55):
    #   loc = EarthLocation.from_geodetic(-109.88906*u.deg, 32.70131*u.deg, 3221.0*u.m)
    #   t = Time("2025-12-30T03:12:45.123", scale="utc", location=loc)
    #   c = SkyCoord("05h35m17.30s", "-05d23m28.0s", frame="icrs")
    #   t.mjd
    #   t.mjd + t.light_travel_time(c, "heliocentric", ephemeris="builtin").to_value("day")
    #   t.tdb.mjd + t.light_travel_time(c, "barycentric", ephemeris="builtin").to_value("day")
    ra = (5 + 35 / 60 + 17.30 / 3600) * 15  # 83.822083 deg
    dec = -(5 + 23 / 60 + 28.0 / 3600)  # -5.391111 deg
    dates = observation_dates("2025-12-30T03:12:45.123", ra, dec, LBT)
    assert dates.mjd_utc == pytest.approx(61039.13385559028, abs=1e-9)
    assert dates.hjd_utc == pytest.approx(61039.13866143456, abs=TOLERANCE_DAYS)
    assert dates.bjd_tdb == pytest.approx(61039.13943207523, abs=TOLERANCE_DAYS)


@pytest.mark.parametrize(
    ("start", "mjd"),
    [
        # MJD 51544 is 2000-01-01; + 25 * 365 + 7 leap days = 60676 on 2025-01-01; + 363 days.
        ("2025-12-30T00:00:00", 61039.0),
        ("2025-12-30T18:00:00Z", 61039.75),
        # 2035-01-01 = 60676 + 10 * 365 + 2 leap days = 64328; + 151 days (Jan..May).
        ("2035-06-01T06:00:00", 64479.25),
        # 2017-01-01 is MJD 57754; 2016-12-31 had 86401 s, ERFA and astropy stretch that day.
        ("2016-12-31T23:59:60.5", 57753 + 86400.5 / 86401),
    ],
)
def test_mjd_against_hand_computed_values(start: str, mjd: float) -> None:
    assert observation_dates(start, 10.0, 20.0, LBT).mjd_utc == pytest.approx(mjd, abs=1e-11)


def test_works_offline_and_silently_in_2035(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dates = observation_dates("2035-06-01T03:12:45.123", 83.822083, -5.391111, LBT)
    assert dates.mjd_utc == pytest.approx(64479 + (3 + 12 / 60 + 45.123 / 3600) / 24, abs=1e-11)


@pytest.mark.parametrize(
    "start", ["2025-01-03T04:00:00", "2025-07-04T12:00:00", "2035-06-01T03:00:00"]
)
def test_bjd_minus_mjd_is_tt_offset_plus_light_time(start: str) -> None:
    """TT−UTC = 32.184 s + 37 leap seconds; the light time stays within ±1.017 au (507 s)."""
    for ra, dec in TARGETS:
        dates = observation_dates(start, ra, dec, LBT)
        light_s = (dates.bjd_tdb - dates.mjd_utc) * DAY_S - 69.184
        assert abs(light_s) < 510.0
        # The Sun is at most ~0.01 au (5 s) from the barycentre.
        assert abs(light_s - (dates.hjd_utc - dates.mjd_utc) * DAY_S) < 5.5


def test_observer_position_counts() -> None:
    """From the north and south geographic poles the celestial pole is 2 polar radii / c apart."""
    start = "2025-09-22T18:30:00"
    north = observation_dates(start, 0.0, 90.0, Site(90.0, 0.0, 0.0))
    south = observation_dates(start, 0.0, 90.0, Site(-90.0, 0.0, 0.0))
    two_polar_radii_days = 2 * 6356752.314 / 299792458.0 / DAY_S  # 42.4 ms
    assert north.bjd_tdb - south.bjd_tdb == pytest.approx(two_polar_radii_days, abs=1e-10)
    assert north.hjd_utc - south.hjd_utc == pytest.approx(two_polar_radii_days, abs=1e-10)


def test_datetime_and_iso_string_agree() -> None:
    start = datetime(2025, 12, 30, 3, 12, 45, 123000, tzinfo=UTC)
    mountain_standard = start.astimezone(timezone(timedelta(hours=-7)))
    from_string = observation_dates("2025-12-30T03:12:45.123", 83.8, -5.4, LBT)
    assert observation_dates(start, 83.8, -5.4, LBT) == from_string
    assert observation_dates(mountain_standard, 83.8, -5.4, LBT) == from_string


@pytest.mark.parametrize(
    ("start", "ra", "dec"),
    [
        (datetime(2025, 12, 30, 3, 12, 45), 83.8, -5.4),  # naive: local or UTC?
        ("2025-12-30", 83.8, -5.4),  # no time of day
        ("2025-12-30T03:12:45+07:00", 83.8, -5.4),
        ("2025-02-30T03:12:45", 83.8, -5.4),
        ("2025-06-30T23:59:60.5", 83.8, -5.4),  # no leap second that day
        ("2025-12-30T03:12:45", 83.8, 90.5),
        ("2025-12-30T03:12:45", float("nan"), -5.4),
    ],
)
def test_rejects_impossible_input(start: datetime | str, ra: float, dec: float) -> None:
    with pytest.raises(ValueError):
        observation_dates(start, ra, dec, LBT)
