"""What the MODS camera server knows about an observation: primary keywords and Archon status.

These are the values dataMan reads from the primary header and the CONPARS table
(docs/processing.md: "The raw frame", fixTemps), in the forms azcam receives them: telescope
coordinates as strings, LONGITUD in degrees *West*, blank NSTYPE/NSEPHFIL,
lower-case IMAGETYP, temperatures that fixTemps must replace; around them the
rest of the MODS keyword set (:mod:`dataman.sim.mods_keywords`) with the
channel's set-up and the kind of exposure (:mod:`dataman.sim.setups`). The
target is the Orion Nebula seen from the LBT near its meridian transit.
"""

from __future__ import annotations

from datetime import datetime

from dataman.sim.azcam_header import Card, KeywordGroup
from dataman.sim.mods_keywords import INSTRUMENT, SYSTEM, TELESCOPE, Row
from dataman.sim.setups import channel_of, instrument_values, kind_of, side_of, system_values

# Archon STATUS rows (key, value) at the start of an exposure, in the controller's order.
_ARCHON_STATUS = (
    ("VALID", "1"), ("COUNT", "1873462"), ("LOG", "0"), ("POWER", "4"), ("POWERGOOD", "1"),
    ("OVERHEAT", "0"), ("BACKPLANE_TEMP", "31.250"), ("P2V5_V", "2.518"), ("P2V5_I", "312"),
    ("P5V_V", "5.037"), ("P5V_I", "1408"), ("P6V_V", "6.071"), ("P6V_I", "389"),
    ("N6V_V", "-6.043"), ("N6V_I", "-372"), ("P17V_V", "17.107"), ("P17V_I", "54"),
    ("N17V_V", "-17.093"), ("N17V_I", "-49"), ("P35V_V", "35.162"), ("P35V_I", "11"),
    ("N35V_V", "-35.120"), ("N35V_I", "-9"), ("P100V_V", "100.428"), ("P100V_I", "0"),
    ("N100V_V", "-100.512"), ("N100V_I", "0"), ("USER_V", "0.000"), ("USER_I", "0"),
    ("HEATER_V", "0.000"), ("HEATER_I", "0"), ("FANTACH", "3712"),
    ("MOD2/TEMP", "33.125"), ("MOD3/TEMP", "34.375"), ("MOD4/TEMP", "34.000"),
    ("MOD5/TEMP", "33.750"), ("MOD9/TEMP", "32.500"), ("MOD10/TEMP", "32.875"),
    ("MOD10/TEMPA", "-110.354"), ("MOD10/TEMPB", "-121.067"), ("MOD10/TEMPC", "21.837"),
    ("MOD10/HEATERAOUTPUT", "0.713"), ("MOD10/HEATERBOUTPUT", "0.000"),
    ("MOD10/HEATERALABEL", "CCD"), ("MOD10/HEATERBLABEL", "BASE"), ("MOD11/TEMP", "33.625"),
)


def observation_groups(
    instrument: str, start: datetime, exptime: float, altaz_sexagesimal: bool = False,
    kind: str = "object",
) -> dict[str, KeywordGroup]:
    """The MODS server's header groups (all but azcam's focal plane), keyed by azcam header name.

    ``kind`` is one of :data:`dataman.sim.setups.KINDS`: it sets IMAGETYP,
    OBJECT, the hatch, calibration tower and lamps; ``exptime`` is written as is.
    """
    exposure = kind_of(kind)
    names = {"channel": channel_of(instrument).name, "side": side_of(instrument)}
    telescope: dict[str, object] = {}
    if altaz_sexagesimal:
        telescope = {key: sexagesimal(value) for key, value, _ in TELESCOPE
                     if key in ("TELALT", "TELAZ") and isinstance(value, float)}
    groups = [
        KeywordGroup("system", "MODS", [
            ("DETNAME", "MODS", "Detector name"),
            *_cards(SYSTEM, system_values(instrument), names),
        ]),
        KeywordGroup("controller", "Controller", [
            ("INTMS", int(exptime * 1000), "Open shutter exposure time (ms)"),
            ("NOINTMS", 10, "Closed shutter exposure time (ms)"),
        ]),
        KeywordGroup("exposure", "Exposure", [
            ("DATE-OBS", start.strftime("%Y-%m-%d"), "UTC shutter opened"),
            ("UTC-OBS", utc_of_day(start), "UTC at start of exposure"),
            ("TIMESYS", "UTC", "Time system"),
            ("EXPREQ", exptime, "Exposure time requested (seconds)"),
            ("EXPTIME", exptime, "Exposure time (seconds)"),
            ("DARKTIME", exptime, "Dark time (seconds)"),
            ("IMAGETYP", exposure.imagetyp, "Image type"),
            ("OBJECT", exposure.title, ""),
        ]),
        KeywordGroup("tempcon", "Temperature", [
            ("CCDTEMP", -999.9, "CCD temperature (C)"),
            ("BASETEMP", -999.9, "Dewar base temperature (C)"),
        ]),
        KeywordGroup("instrument", "Instrument",
                     _cards(INSTRUMENT, instrument_values(instrument, kind), names)),
        KeywordGroup("telescope", "Telescope", _cards(TELESCOPE, telescope, names)),
    ]
    return {group.name: group for group in groups}


def _cards(rows: tuple[Row, ...], values: dict[str, object], names: dict[str, str]) -> list[Card]:
    """(keyword, value, comment) of each row: ``values`` fill or replace the table's values."""
    cards = []
    for keyword, value, comment in rows:
        value = values.get(keyword, value)
        if value is None:
            raise ValueError(f"no value for {keyword}")  # a table row nobody fills: a bug here
        cards.append((keyword, value, comment.format(**names)))
    return cards


def archon_status() -> list[tuple[str, str]]:
    """CONPARS rows: the Archon STATUS reply (keyword, value) as azcam stores it, values strings."""
    return list(_ARCHON_STATUS)


def utc_of_day(moment: datetime) -> str:
    """``hh:mm:ss.sss`` as azcam writes UTC-OBS (milliseconds, truncated)."""
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def sexagesimal(degrees: float) -> str:
    """Signed ``dd:mm:ss.s`` as older telescope servers wrote TELALT/TELAZ (``'+51:16:26.8'``)."""
    sign = "-" if degrees < 0 else "+"
    tenths = round(abs(degrees) * 36000)
    whole, rest = divmod(tenths, 36000)
    minutes, rest = divmod(rest, 600)
    return f"{sign}{whole:02d}:{minutes:02d}:{rest / 10:04.1f}"
