"""Warnings say what is wrong with a keyword: missing, blank, NOCOMM or unparseable.

An operator reading "TELRA missing" looks for an azcam bug; "TELRA is NOCOMM"
sends them to the telescope link. The wording is checked literally.
"""

from datetime import UTC, datetime

import pytest
from astropy.io import fits

from dataman.core.config import SiteConfig
from dataman.core.dates import fix_date_time
from dataman.core.misc import fix_misc
from dataman.core.pipeline import process_frame
from dataman.core.readout import Readout
from tests.conftest import make_frame

SITE = SiteConfig(latitude=32.70131, longitude=109.88906, elevation=3221.0, utc_offset=7.0)
ABSENT = object()


def observed(**overrides: object) -> fits.Header:
    """A primary header with every keyword fixDateTime reads; ``ABSENT`` deletes one."""
    header = fits.Header([
        ("DATE-OBS", "2025-12-30"), ("UTC-OBS", "03:12:45.123"),
        ("TELRA", "05:35:17.30"), ("TELDEC", "-05:23:28.0"),
        ("LATITUDE", 32.70131), ("LONGITUD", 109.88906), ("ELEVATIO", 3221.0),
    ])
    for key, value in overrides.items():
        if value is ABSENT:
            del header[key]
        else:
            header[key] = value
    return header


@pytest.mark.parametrize(("value", "expected"), [
    ("NOCOMM", "TELRA is NOCOMM (telescope link down); HJD-OBS, BJD-OBS skipped"),
    (" nocomm ", "TELRA is NOCOMM (telescope link down); HJD-OBS, BJD-OBS skipped"),
    (ABSENT, "TELRA missing; HJD-OBS, BJD-OBS skipped"),
    ("", "TELRA blank; HJD-OBS, BJD-OBS skipped"),
    ("   ", "TELRA blank; HJD-OBS, BJD-OBS skipped"),
    ("N/A", "TELRA is 'N/A'; HJD-OBS, BJD-OBS skipped"),
    ("5h35m17s", "TELRA '5h35m17s' unparseable; HJD-OBS, BJD-OBS skipped"),
])
def test_telra_warning_says_which_way_it_is_unusable(value, expected):
    header = observed(TELRA=value)
    assert fix_date_time(header, SITE) == [expected]
    assert "MJD-OBS" in header and "HJD-OBS" not in header


def test_date_keywords_say_nocomm_too():
    assert fix_date_time(observed(**{"UTC-OBS": "NOCOMM"}), SITE) == [
        "UTC-OBS is NOCOMM (telescope link down); DATE-OBS kept, MJD-OBS, HJD-OBS, BJD-OBS skipped"]
    assert fix_date_time(observed(**{"DATE-OBS": ABSENT}), SITE) == [
        "DATE-OBS missing; MJD-OBS, HJD-OBS, BJD-OBS skipped"]


def test_usable_site_keywords_give_no_warning():
    header = observed()
    assert fix_date_time(header, SITE) == []
    assert "HJD-OBS" in header


def test_unusable_site_keywords_are_named_once_with_the_configured_values():
    header = observed(LATITUDE="NOCOMM", LONGITUD=ABSENT)
    assert fix_date_time(header, SITE) == [
        "LATITUDE is NOCOMM (telescope link down), LONGITUD missing; configured site used "
        "instead for HJD-OBS, BJD-OBS: latitude 32.70131 deg N, longitude 109.88906 deg W"]
    assert "HJD-OBS" in header and "BJD-OBS" in header


def test_every_site_keyword_unusable_is_still_one_warning():
    header = observed(LATITUDE="", LONGITUD="NOCOMM", ELEVATIO=99999.0)
    assert fix_date_time(header, SITE) == [
        "LATITUDE blank, LONGITUD is NOCOMM (telescope link down), ELEVATIO 99999.0 out of "
        "range; configured site used instead for HJD-OBS, BJD-OBS: latitude 32.70131 deg N, "
        "longitude 109.88906 deg W, elevation 3221.0 m"]


def test_the_configured_site_is_the_one_used():
    # Same frame, header site replaced by NOCOMM: the dates equal those of a frame whose
    # header carries the configured site's values, and differ from another site's.
    elsewhere = SiteConfig(latitude=-30.2407, longitude=70.7366, elevation=2715.0, utc_offset=4)
    fallback = observed(LATITUDE="NOCOMM", LONGITUD="NOCOMM", ELEVATIO="NOCOMM")
    explicit = observed(LATITUDE=-30.2407, LONGITUD=70.7366, ELEVATIO=2715.0)
    fix_date_time(fallback, elsewhere)
    fix_date_time(explicit, SITE)
    lbt = observed()
    fix_date_time(lbt, SITE)
    assert fallback["BJD-OBS"] == explicit["BJD-OBS"]
    assert fallback["BJD-OBS"] != lbt["BJD-OBS"]


@pytest.mark.parametrize(("value", "expected"), [
    ("NOCOMM", "TELALT is NOCOMM (telescope link down); left unchanged"),
    (ABSENT, "TELALT missing; left unchanged"),
    ("high", "TELALT 'high' unparseable; left unchanged"),
])
def test_altitude_warning_says_which_way_it_is_unusable(value, expected):
    header = fits.Header([("TELALT", 51.2741), ("TELAZ", 172.0516), ("OBJECT", "NGC 1976"),
                          ("NONSIDER", 0), ("LBTWLINK", 1)])
    if value is ABSENT:
        del header["TELALT"]
    else:
        header["TELALT"] = value
    readout = Readout(4146, 1544, 2, 2, 256, 256, 32)
    assert fix_misc(header, readout) == [expected]


def test_a_frame_with_the_link_down_logs_each_keyword_once(config):
    raw = make_frame(config, roi="1kx1k", binning=2,
                     primary={"TELALT": "NOCOMM", "LATITUDE": "NOCOMM", "ELEVATIO": "NOCOMM"})
    result = process_frame(raw, config, now=lambda: datetime(2025, 12, 30, 3, 14, tzinfo=UTC))
    site = config.site
    assert sorted(result.warnings) == sorted([
        "TELALT is NOCOMM (telescope link down); left unchanged",
        "LATITUDE is NOCOMM (telescope link down), ELEVATIO is NOCOMM (telescope link down); "
        "configured site used instead for HJD-OBS, BJD-OBS: "
        f"latitude {site.latitude} deg N, elevation {site.elevation} m",
    ])
