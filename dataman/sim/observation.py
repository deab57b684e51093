"""What the MODS camera server knows about an observation: primary keywords and Archon status.

These are the values dataMan reads from the primary header and the CONPARS table
(docs/processing.md: "The raw frame", fixTemps), in the forms azcam receives them: telescope
coordinates as strings, LONGITUD in degrees *West*, blank NSTYPE/NSEPHFIL,
lower-case IMAGETYP, temperatures that fixTemps must replace. The target is
the Orion Nebula seen from the LBT near its meridian transit.
"""

from __future__ import annotations

from datetime import datetime

from dataman.sim.azcam_header import KeywordGroup

#: The LBT (Mt. Graham) as MODS headers give it: latitude deg N, longitude deg WEST, metres.
LBT_SITE = (32.70131, 109.88906, 3221.0)
#: Telescope altitude and azimuth (deg) and airmass of the default pointing.
POINTING = (51.2741, 172.0516, 1.282)

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
    instrument: str, start: datetime, exptime: float, altaz_sexagesimal: bool = False
) -> dict[str, KeywordGroup]:
    """The MODS server's header groups (all but azcam's focal plane), keyed by azcam header name."""
    blue = instrument.endswith("B")
    alt, az, airmass = POINTING
    latitude, longitude, elevation = LBT_SITE
    telalt: object = sexagesimal(alt) if altaz_sexagesimal else alt
    telaz: object = sexagesimal(az) if altaz_sexagesimal else az
    groups = [
        KeywordGroup("system", "MODS", [
            ("DETNAME", "MODS", "Detector name"),
            ("INSTRUME", instrument, "Instrument name"),
            ("OBSERVAT", "LBT", "Observatory"),
            ("PROPID", "UA_2025B_07", "Observing proposal ID"),
            ("PI_NAME", "Smith", "Principal investigator"),
            ("OBSERVER", "Jones", "Observer(s)"),
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
            ("IMAGETYP", "object", "Image type"),
            ("OBJECT", "NGC 1976", ""),
        ]),
        KeywordGroup("tempcon", "Temperature", [
            ("CCDTEMP", -999.9, "CCD temperature (C)"),
            ("BASETEMP", -999.9, "Dewar base temperature (C)"),
        ]),
        KeywordGroup("instrument", "Instrument", [
            ("CHANNEL", "Blue" if blue else "Red", "Spectrograph channel"),
            ("FILTER", "Clear" if blue else "GG495", "Camera filter"),
            ("GRATING", "G400L" if blue else "G670L", "Grating"),
            ("SLITMASK", "LS60x5", "Slit mask"),
        ]),
        KeywordGroup("telescope", "Telescope", [
            ("TELESCOP", "LBT-SX" if instrument.startswith("MODS1") else "LBT-DX", "Telescope"),
            ("TELRA", "05:35:17.30", "Telescope RA (hours, J2000)"),
            ("TELDEC", "-05:23:28.0", "Telescope Dec (deg, J2000)"),
            ("TELALT", telalt, "Telescope altitude (deg)"),
            ("TELAZ", telaz, "Telescope azimuth (deg)"),
            ("AIRMASS", airmass, "Airmass at start of exposure"),
            ("LATITUDE", latitude, "Observatory latitude (deg N)"),
            ("LONGITUD", longitude, "Observatory longitude (deg W)"),
            ("ELEVATIO", elevation, "Observatory elevation (m)"),
            ("LBTWLINK", 1, "LBT telescope link (1 up, 0 down)"),
            ("NONSIDER", 0, "Non-sidereal target (1 yes, 0 no)"),
            ("NSTYPE", "", "Non-sidereal target type"),
            ("NSEPHFIL", "", "Non-sidereal ephemeris file"),
        ]),
    ]
    return {group.name: group for group in groups}


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
