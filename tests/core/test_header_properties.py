"""Property tests: missing, blank, NOCOMM or garbage keywords never crash a step,
and whatever had to be skipped is named in a warning."""

import logging
from dataclasses import replace

import pytest
from astropy.io import fits
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dataman.core.frame import read_frame
from dataman.core.output import merged_header, output_pieces
from dataman.core.pipeline import fix_headers, process_frame
from tests.conftest import make_frame

PRIMARY_KEYS = ["DATE-OBS", "UTC-OBS", "TELRA", "TELDEC", "TELALT", "TELAZ", "LATITUDE",
                "LONGITUD", "ELEVATIO", "LBTWLINK", "NONSIDER", "NSTYPE", "NSEPHFIL",
                "OBJECT", "IMAGETYP", "NEXTEND", "INSTRUME", "CCDTEMP", "BASETEMP"]
SENSORS = ["MOD10/TEMPA", "MOD10/TEMPB", "BACKPLANE_TEMP"]
MISSING = object()
ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
bad_values = st.one_of(st.just(MISSING), st.just(""), st.just("NOCOMM"), st.just("   "),
                       ascii_text, st.integers(-10**6, 10**6),
                       st.floats(allow_nan=False, allow_infinity=False), st.booleans())
# Keywords whose loss must be reported by name.
MUST_REPORT = ("DATE-OBS", "UTC-OBS", "TELALT", "TELAZ", "NONSIDER")


def unset(value):
    return value is MISSING or (isinstance(value, str) and value.strip() in ("", "NOCOMM"))


@pytest.fixture(scope="module")
def small_frame(tmp_path_factory):
    from dataman.core.config import load_config
    from tests.conftest import write_config

    config = load_config(write_config(tmp_path_factory.mktemp("props")))
    return config, make_frame(config, roi="1kx1k", binning=2)


def damaged_copy(path, primary_changes, sensor_changes):
    frame = read_frame(path)
    for key, value in primary_changes.items():
        if value is MISSING:
            frame.primary.remove(key, ignore_missing=True)
        else:
            frame.primary[key] = value
    conpars = dict(frame.conpars)
    for key, value in sensor_changes.items():
        if value is MISSING:
            conpars.pop(key, None)
        else:
            conpars[key] = str(value)
    return replace(frame, conpars=conpars)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(primary=st.dictionaries(st.sampled_from(PRIMARY_KEYS), bad_values, max_size=8),
       sensors=st.dictionaries(st.sampled_from(SENSORS), bad_values, max_size=3))
# Found by this test: a value that leaves no room for the card's comment (cut, quietly).
@example(primary={"TELALT": "0000000000000000000000000:"}, sensors={})
def test_damaged_keywords_never_crash_and_are_reported(small_frame, primary, sensors):
    config, path = small_frame
    frame = damaged_copy(path, primary, sensors)
    _, _, warnings = fix_headers(frame, config)
    text = "\n".join(warnings)
    date_only = primary.get("DATE-OBS", "2025-12-30") == "2025-12-30"
    for key in MUST_REPORT:
        if key == "UTC-OBS" and not date_only:
            continue  # UTC-OBS is only needed while DATE-OBS has no time part
        if key in primary and unset(primary[key]):
            assert key in text, (key, primary[key], warnings)
    # the frame is a MODS1B: CCD on MOD10/TEMPB, base on MOD10/TEMPA
    for sensor, keyword in (("MOD10/TEMPB", "CCDTEMP"), ("MOD10/TEMPA", "BASETEMP"),
                            ("BACKPLANE_TEMP", "ARCHTEMP")):
        if sensor in sensors and unset(sensors[sensor]):
            assert keyword in text, (sensor, sensors[sensor], warnings)
    # the fixed headers still serialise to valid FITS
    pieces = output_pieces(frame, None, merged_header(frame.primary, (2, 2), []))
    header = fits.Header.fromstring(bytes(pieces[0]).decode("ascii"))
    assert "NEXTEND" not in header


def test_skipped_values_are_logged_with_the_file_name(small_frame, caplog):
    config, _ = small_frame
    raw = make_frame(config, roi="1kx1k", binning=2, number=2,
                     primary={"UTC-OBS": "NOCOMM", "TELRA": None})
    with caplog.at_level(logging.WARNING, logger="dataman"):
        process_frame(raw, config)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(line.startswith(f"{raw.name}: UTC-OBS") for line in lines), lines
