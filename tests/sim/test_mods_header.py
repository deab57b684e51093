"""The MODS keyword set of the azcam header templates, per channel and per kind of exposure.

Expected names, values and comments are literals read off the MODS2025 azcam
templates (header_<ID>.txt, instHdr_<ID>.txt, modsTCS_left.txt) and the
instrument's mechanism tables (b/rgrating.tab, b/rfilter.tab, slitmask.tab,
dichroic.tab), not taken from the simulator's own tables.
"""

from __future__ import annotations

from collections import Counter

import pytest

from dataman.sim.frames import FrameSpec, make_raw_hdulist


def names(text: str) -> list[str]:
    return text.split()


# header_MODS1B.txt and the server's INSTRUME/DEWAR
SYSTEM_KEYWORDS = names("""INSTRUME DEWAR CHANNEL DETECTOR CCDCTRLR DISPAXIS PIXSCALE PIXSIZE ORIGIN
    OBSERVAT TELESCOP FOCSCALE LATITUDE LONGITUD ELEVATIO OBSERVER PARTNER PROPID PI_NAME
    SUPPORT TELOPS GRORDER RADECSYS EQUINOX""")
# instHdr_MODS1R.txt / instHdr_MODS2B.txt DDEntries
INSTRUMENT_KEYWORDS = names("""HATCH CALIB AGWXS AGWYS AGWFS AGWFNAME SLITMASK MASKNAME MASKPOS
    DICHROIC DICHNAME COLTTFA COLTTFB COLTTFC COLFOCUS GRATING GRATNAME CAMFOCUS FILTER
    FILTNAME IRLASER IRBEAM IRPOUT IRTEMP CALLAMPS VFLAT IUBTAIR GRPRES GRTEMP GSPRES GSTEMP
    IEBTEMPB IEBTEMPR TCOLLBOT TCOLLTOP TAIRBOT TAIRTOP IEBPWR_B IEBPWR_R LLBPWR WFSPWR AGCPWR
    HEBPOWER HEBTEMP IGPOWER ARPOWER DEWPRES DEWTEMP""")
# modsTCS_left.txt DDEntries (2026 Jan 20)
TELESCOPE_KEYWORDS = names("""TELRA TELDEC POSANGLE TELALT TELAZ HA AIRMASS PARANGLE OBS_LST
    ROTANGLE
    ROTMODE DGROTPOS OBJRA OBJDEC OBJPMRA OBJPMDEC GUIRA GUIDEC AGWXGP AGWYGP GPREQ_X GPREQ_Y
    GPACT_X GPACT_Y GSPRED_X GSPRED_Y GSMEAS_X GSMEAS_Y GSDELTAX GSDELTAY M1POSX M1POSY M1POSZ
    M1ROTX M1ROTY M1ROTZ M1CTEMP M1CTEMP2 M1GTEMP M1ATEMP M2POSX M2POSY M2POSZ M2ROTX M2ROTY
    M2ROTZ M2CTEMP TTEMP201 TTEMP202 TTEMP203 TTEMP204 TTEMP205 TTEMP206 TTEMP207 TTEMP208
    TTEMP209 TTEMP210 TTEMP301 TTEMP302 TTEMP303 TTEMP304 TTEMP305 TTEMP306 TTEMP307 TTEMP308
    TTEMP309 TTEMP310 LBTWLINK LBTPRES LBTTEMP LBTHUM LBTDWPT NONSIDER NSRARATE NSDERATE NSTYPE
    NSEPHFIL""")


def primary(**fields: object):
    return make_raw_hdulist(FrameSpec(roi="1kx1k", binning=2, **fields))[0].header


@pytest.mark.parametrize("instrument", ["MODS1B", "MODS1R", "MODS2B", "MODS2R"])
def test_every_template_keyword_is_written_once(instrument: str) -> None:
    header = primary(instrument=instrument)
    names = [card.keyword for card in header.cards if card.keyword not in ("COMMENT", "")]
    for keyword in SYSTEM_KEYWORDS + INSTRUMENT_KEYWORDS + TELESCOPE_KEYWORDS:
        assert keyword in names, keyword
    assert [name for name, count in Counter(names).items() if count > 1] == []


@pytest.mark.parametrize(("instrument", "expected"), [
    ("MODS1B", {"CHANNEL": "BLUE", "DETECTOR": "e2v CCD231-68 Blue CCD 1", "PIXSCALE": 0.12,
                "TELESCOP": "LBT-SX", "GRATING": 2, "GRATNAME": "G400L",
                "FILTER": 1, "FILTNAME": "Clear"}),
    ("MODS1R", {"CHANNEL": "RED", "DETECTOR": "e2v CCD231-68 Red CCD 1", "PIXSCALE": 0.123,
                "TELESCOP": "LBT-SX", "GRATING": 2, "GRATNAME": "G670L",
                "FILTER": 5, "FILTNAME": "GG495"}),
    ("MODS2B", {"CHANNEL": "BLUE", "DETECTOR": "e2v CCD231-68 Blue CCD 2", "PIXSCALE": 0.12,
                "TELESCOP": "LBT-DX", "GRATING": 2, "GRATNAME": "G400L",
                "FILTER": 1, "FILTNAME": "Clear"}),
    ("MODS2R", {"CHANNEL": "RED", "DETECTOR": "e2v CCD231-68 Red CCD 2", "PIXSCALE": 0.123,
                "TELESCOP": "LBT-DX", "GRATING": 2, "GRATNAME": "G670L",
                "FILTER": 5, "FILTNAME": "GG495"}),
])
def test_channel_setup_follows_the_mechanism_tables(instrument: str, expected: dict) -> None:
    header = primary(instrument=instrument)
    assert {key: header[key] for key in expected} == expected
    common = {"INSTRUME": instrument, "DEWAR": instrument, "OBSERVAT": "MGIO-LBT",
              "ORIGIN": "MGIO-LBT", "CCDCTRLR": "Archon", "PIXSIZE": 15.0, "FOCSCALE": 1.67,
              "SLITMASK": 7, "MASKNAME": "LS5x60x1.0", "MASKPOS": "IN", "DICHROIC": 2,
              "DICHNAME": "Dual", "AGWFNAME": "Clear", "OBJRA": "05:35:17.30",
              "OBJDEC": "-05:23:28.0", "RADECSYS": "FK5", "EQUINOX": 2000.0}
    assert {key: header[key] for key in common} == common


@pytest.mark.parametrize(("instrument", "comments"), [
    ("MODS1B", {"GRATNAME": "Blue Grating Turret Disperser Name",
                "FILTNAME": "Blue Camera Filter Name", "DEWTEMP": "Blue CCD Dewar Temperature "
                "[deg C]", "TELRA": "SX Telescope Achieved RA [hms]",
                "M1POSX": "SX Primary X Position [mm]"}),
    ("MODS2R", {"GRATNAME": "Red Grating Turret Disperser Name",
                "FILTNAME": "Red Camera Filter Name", "DEWTEMP": "Red CCD Dewar Temperature "
                "[deg C]", "TELRA": "DX Telescope Achieved RA [hms]",
                "M1POSX": "DX Primary X Position [mm]"}),
])
def test_comments_name_the_channel_and_the_telescope_side(instrument: str, comments: dict) -> None:
    header = primary(instrument=instrument)
    assert {key: header.comments[key] for key in comments} == comments
    assert header.comments["MASKNAME"] == "Slit Mask Name"
    assert header.comments["OBJRA"] == "Target RA"
    assert header.comments["PIXSCALE"] == "Unbinned pixel scale [arcsec per pixel]"
    assert header.comments["LONGITUD"] == "Site Longitude [deg W]"


def test_collimator_focus_is_the_sum_of_its_actuators() -> None:
    for instrument in ("MODS1B", "MODS1R"):
        header = primary(instrument=instrument)
        assert header["COLFOCUS"] == header["COLTTFA"] + header["COLTTFB"] + header["COLTTFC"]


@pytest.mark.parametrize(("kind", "instrument", "expected"), [
    ("bias", "MODS1B", ("bias", "Bias", 0.0, "CLOSED", "IN", "None", 0.0)),
    ("flat", "MODS1B", ("flat", "Slit flat LS5x60x1.0", 8.0, "CLOSED", "IN", "VFLAT", 2.5)),
    ("flat", "MODS1R", ("flat", "Slit flat LS5x60x1.0", 3.0, "CLOSED", "IN", "VFLAT", 1.5)),
    ("comp", "MODS2B", ("comp", "Arc lamps LS5x60x1.0", 40.0, "CLOSED", "IN", "Hg Ar Xe Kr",
                        0.0)),
    ("comp", "MODS2R", ("comp", "Arc lamps LS5x60x1.0", 15.0, "CLOSED", "IN", "Ne Ar Kr", 0.0)),
    ("object", "MODS2R", ("object", "NGC 1976", 300.0, "OPEN", "OUT", "None", 0.0)),
])
def test_each_kind_of_exposure_sets_type_title_time_and_calibration_unit(
    kind: str, instrument: str, expected: tuple
) -> None:
    header = primary(instrument=instrument, kind=kind)
    keys = ("IMAGETYP", "OBJECT", "EXPTIME", "HATCH", "CALIB", "CALLAMPS", "VFLAT")
    assert tuple(header[key] for key in keys) == expected
    assert header["EXPREQ"] == header["DARKTIME"] == expected[2]
    assert header["INTMS"] == int(expected[2] * 1000)


def test_an_explicit_exposure_time_wins_over_the_kinds() -> None:
    header = primary(kind="flat", exptime=12.5)
    assert (header["IMAGETYP"], header["EXPTIME"], header["INTMS"]) == ("flat", 12.5, 12500)


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "dome"}, "unknown kind of exposure 'dome'; one of bias, flat, comp, object"),
    ({"kind": "bias", "exptime": 5.0}, "a bias is a zero-second exposure, not 5.0 s"),
    ({"exptime": -1.0}, "exptime must be a number of seconds, at least 0, not -1.0"),
])
def test_inconsistent_kinds_are_refused(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        FrameSpec(**fields)
