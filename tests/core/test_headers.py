"""Every header fix of docs/processing.md in the written file, against values worked out by hand.

Frames come from the simulator with azcam's own values (wrong subframe DETSEC, lower-case
IMAGETYP, LBTWLINK 1, NEXTEND 4, ...); expected values are literals or computed here from
the formulas of docs/processing.md, never taken from dataMan's output.
"""

from datetime import UTC, datetime

import pytest
from astropy.io import fits

from dataman.core.pipeline import process_frame
from tests.conftest import make_frame

NOW = datetime(2025, 12, 30, 3, 13, 1, tzinfo=UTC)
# CONPARS rows the simulator writes (dataman/sim/observation.py): TEMPA -110.354, TEMPB -121.067.
TEMPA, TEMPB, BACKPLANE = -110.354, -121.067, 31.25


def process(config, **spec):
    raw = make_frame(config, **spec)
    result = process_frame(raw, config, now=lambda: NOW)
    return raw, result, fits.open(result.delivered)


@pytest.mark.parametrize(("instrument", "ccd", "base"), [
    ("MODS1B", TEMPB, TEMPA), ("MODS1R", TEMPB, TEMPA),
    ("MODS2B", TEMPA, TEMPB), ("MODS2R", TEMPA, TEMPB)])
def test_temperatures_follow_each_mods_wiring(config, instrument, ccd, base):
    _, _, hdus = process(config, instrument=instrument, roi="1kx1k", binning=2)
    with hdus:
        assert hdus[0].header["CCDTEMP"] == ccd
        assert hdus[0].header["BASETEMP"] == base
        assert hdus[0].header["ARCHTEMP"] == BACKPLANE


def test_unknown_instrume_uses_the_file_names_channel(config):
    _, result, hdus = process(config, instrument="MODS2R", roi="1kx1k", binning=2,
                              primary={"INSTRUME": "NOCOMM"})
    with hdus:
        assert hdus[0].header["CCDTEMP"] == TEMPA  # MODS2 wiring
    assert result.instrument == "MODS2R"


def test_dates_of_the_default_exposure(config):
    _, _, hdus = process(config, roi="1kx1k", binning=2)
    header = hdus[0].header
    assert header["DATE-OBS"] == "2025-12-30T03:12:45.123"
    # 2025-12-30 00:00 UTC is MJD 61039 (51544 = 2000-01-01, + 9131 days + 364 ... by hand)
    assert header["MJD-OBS"] == pytest.approx(61039 + (3 * 3600 + 12 * 60 + 45.123) / 86400,
                                              abs=1e-10)
    # Computed once with astropy 8.0.2's high-level API, independent of dataMan's ERFA code:
    # t = Time('2025-12-30T03:12:45.123', scale='utc', location=EarthLocation.from_geodetic(
    #     -109.88906*u.deg, 32.70131*u.deg, 3221*u.m)); c = SkyCoord('05:35:17.30 -05:23:28.0',
    #     unit=(u.hourangle, u.deg)); (t + t.light_travel_time(c, 'heliocentric',
    #     ephemeris='builtin')).utc.mjd, (t.tdb + t.light_travel_time(c, ephemeris='builtin')).mjd
    assert header["HJD-OBS"] == pytest.approx(61039.13866143456, abs=1e-7)
    assert header["BJD-OBS"] == pytest.approx(61039.13943207523, abs=1e-7)
    assert "MODIFIED" in header.comments["HJD-OBS"].upper()
    assert "MODIFIED" in header.comments["BJD-OBS"].upper()


def test_misc_keywords(config):
    raw, _, hdus = process(config, roi="3kx3k", binning=1)
    with fits.open(raw) as original:
        telalt = float(original[0].header["TELALT"])
        assert original[0].header["NEXTEND"] == 4
    header = hdus[0].header
    assert header["ZD"] == pytest.approx(90.0 - telalt, abs=1e-12)
    assert header["LBTWLINK"] == "Up"
    assert header["CCDROI"] == "[2603:5690,1:3088]"
    assert (header["CCDXBIN"], header["CCDYBIN"]) == (1, 1)
    assert header["OBJNAME"] == header["OBJECT"]
    assert (header["OBJRADEC"], header["OBJEQUIN"], header["OBJEPOCH"]) == ("FK5", "J2000", 2000.0)
    assert (header["GUINAME"], header["GUIRADEC"], header["GUIEQUIN"]) == ("None", "FK5", "J2000")
    assert (header["GUIPMRA"], header["GUIPMDEC"], header["GUIEPOCH"]) == (0.0, 0.0, 2000.0)
    assert header["NSTYPE"] == "None" and header["NSEPHFIL"] == "None"
    assert header["NONSIDER"] is False
    assert "NEXTEND" not in header
    assert header["IMAGETYP"] == "OBJECT"
    assert header["UNIQNAME"] == "mods1b.20251230.031301.fits"


def test_sexagesimal_altaz_become_decimal_degrees(config):
    _, _, hdus = process(config, roi="1kx1k", binning=2, altaz_sexagesimal=True,
                         primary={"TELALT": "+51:16:26.8", "TELAZ": "172:03:05.8"})
    header = hdus[0].header
    assert header["TELALT"] == pytest.approx(51 + 16 / 60 + 26.8 / 3600, abs=1e-12)
    assert header["TELAZ"] == pytest.approx(172 + 3 / 60 + 5.8 / 3600, abs=1e-12)
    assert header["ZD"] == pytest.approx(90 - (51 + 16 / 60 + 26.8 / 3600), abs=1e-12)


@pytest.mark.parametrize(("value", "expected"), [(1, "Up"), (0, "Down"), ("Up", "Up"),
                                                  ("Down", "Down"), ("NOCOMM", "Unknown"),
                                                  (None, "Unknown"), ("maybe", "Unknown")])
def test_lbtwlink_states(config, value, expected):
    _, _, hdus = process(config, roi="1kx1k", binning=2, primary={"LBTWLINK": value})
    assert hdus[0].header["LBTWLINK"] == expected


def test_nonsidereal_blank_and_missing_keywords(config):
    _, result, hdus = process(config, roi="1kx1k", binning=2,
                              primary={"NONSIDER": 1, "NSTYPE": "EPHEM", "NSEPHFIL": " ",
                                       "OBJECT": "NOCOMM", "GUINAME": "HD 12345", "TELALT": None})
    header = hdus[0].header
    assert header["NONSIDER"] is True
    assert header["NSTYPE"] == "EPHEM" and header["NSEPHFIL"] == "None"
    assert header["OBJNAME"] == "None"
    assert header["GUINAME"] == "HD 12345"  # only set where not already set
    assert header["ZD"] == -99.99
    assert any("TELALT" in warning for warning in result.warnings)


@pytest.mark.parametrize(("roi", "binning", "sections", "ltv"), [
    ("1kx1k", 1, ["[3635:4146,1033:1544]", "[4658:4147,1033:1544]", "[3635:4146,1545:2056]",
                  "[4658:4147,1545:2056]"], [(-3634, -1032), (4659, -1032), (-3634, -1544),
                                             (4659, -1544)]),
    ("full", 2, ["[1:4146,1:1544]", "[8292:4147,1:1544]", "[1:4146,1545:3088]",
                 "[8292:4147,1545:3088]"], [(0.25, 0.25), (4146.75, 0.25), (0.25, -771.75),
                                            (4146.75, -771.75)]),
])
def test_written_detsec_and_ltv_replace_azcams(config, roi, binning, sections, ltv):
    raw, _, hdus = process(config, roi=roi, binning=binning)
    with fits.open(raw) as original:
        if roi != "full":
            assert original["IM2"].header["DETSEC"] != sections[1]  # azcam's defect is there
        for number in range(1, 5):
            header = hdus[f"IM{number}"].header
            assert header["DETSEC"] == header["CCDSEC"] == sections[number - 1]
            assert (header["LTV1"], header["LTV2"]) == ltv[number - 1]
            assert header["LTM1_1"] == (-1 if number in (2, 4) else 1) / binning
            # nothing else in IMn changes but the fixDETSEC keywords and MODSQUAD
            changed = {key for key in original[number].header
                       if original[number].header[key] != header.get(key)}
            assert changed <= {"DETSEC", "CCDSEC", "LTV1", "LTV2", "LTM1_1", "LTM2_2"}


def test_modsquad_labels_and_merged_header(config):
    _, _, hdus = process(config, roi="1kx1k", binning=1)
    labels = [hdus[f"IM{n}"].header["MODSQUAD"] for n in range(1, 5)]
    assert labels == ["Q3 flip cols", "Q4 flip rows and cols", "Q1 flip cols",
                      "Q2 flip rows and cols"]
    merged = hdus["MERGED"].header
    assert hdus[-1].name == "MERGED" and len(hdus) == 7
    for key in ("DATE-OBS", "MJD-OBS", "HJD-OBS", "CCDTEMP", "UNIQNAME", "OBJNAME", "CCDROI"):
        assert merged[key] == hdus[0].header[key]
    for key in ("SIMPLE", "EXTEND", "NEXTEND"):
        assert key not in merged
    assert all(f"Q{q}BIAS" in merged for q in range(1, 5))


@pytest.mark.parametrize(("kind", "imagetyp", "exptime", "objname"), [
    ("bias", "BIAS", 0.0, "Bias"), ("flat", "FLAT", 3.0, "Slit flat LS5x60x1.0"),
    ("comp", "COMP", 15.0, "Arc lamps LS5x60x1.0")])
def test_calibration_frames_keep_their_kind_and_the_instrument_setup(
        config, kind, imagetyp, exptime, objname):
    _, result, hdus = process(config, instrument="MODS1R", kind=kind, roi="1kx1k", binning=2)
    with hdus:
        header = hdus[0].header
        assert (header["IMAGETYP"], header["EXPTIME"], header["OBJNAME"]) == (
            imagetyp, exptime, objname)
        # Keywords dataMan does not fix pass through (values of the red channel's set-up).
        assert (header["GRATNAME"], header["FILTNAME"], header["MASKNAME"], header["CALIB"]) == (
            "G670L", "GG495", "LS5x60x1.0", "IN")
        assert header.comments["GRATNAME"] == "Red Grating Turret Disperser Name"
    assert result.warnings == []
