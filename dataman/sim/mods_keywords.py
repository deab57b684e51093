"""The MODS primary-header keywords, grouped and commented as the azcam server writes them.

Keywords and comments are those of the MODS azcam configuration
(github.com/rwpogge/MODS2025, ``azcam/system/<MODSnC>/templates``):

* :data:`SYSTEM` — ``header_<MODSnC>.txt``, the static header the server loads
  as azcam's "system" object (``System("MODS", template)``), plus the INSTRUME
  and DEWAR keywords the server sets on it;
* :data:`INSTRUMENT` — ``instHdr_<MODSnC>.txt``, the instrument's entries of the
  LBT IIF data dictionary (2025 Sept 23 versions); ``{channel}`` in a comment is
  Blue or Red, as in the blue and red files;
* :data:`TELESCOPE` — ``modsTCS_<side>.txt``, the telescope's entries (the
  2026 Jan 20 left-side version, whose target, LST and non-sidereal entries the
  older right-side one lacks); ``{side}`` is SX (MODS1, left) or DX (MODS2, right).

Each row is (keyword, value, comment). A value here is the one every frame
carries: a fact where the templates or the instrument's mechanism tables give
one (site, pixel sizes, slit mask and dichroic positions), otherwise a plausible
reading of a winter night on Mt. Graham. Values that depend on the channel or on
the kind of exposure are ``None`` here and supplied by :mod:`dataman.sim.setups`.
"""

from __future__ import annotations

Row = tuple[str, object, str]

SYSTEM: tuple[Row, ...] = (
    ("INSTRUME", None, "MODS Instrument Channel Name"),
    ("DEWAR", None, "CCD Dewar"),
    ("CHANNEL", None, "MODS Channel [blue|red]"),
    ("DETECTOR", None, "Detector name"),
    ("CCDCTRLR", "Archon", "STA Archon CCD controller"),
    ("DISPAXIS", 1, "Spectral Dispersion Axis"),
    ("PIXSCALE", None, "Unbinned pixel scale [arcsec per pixel]"),
    ("PIXSIZE", 15.0, "Unbinned pixel size [microns]"),
    ("ORIGIN", "MGIO-LBT", "Location where the data was generated"),
    ("OBSERVAT", "MGIO-LBT", "Observatory Site"),
    ("TELESCOP", None, "Telescope and Focal Station"),
    ("FOCSCALE", 1.67, "Focal Plane Scale [arcsec per mm]"),
    ("LATITUDE", 32.70131, "Site Latitude [deg N]"),
    ("LONGITUD", 109.88906, "Site Longitude [deg W]"),
    ("ELEVATIO", 3221.0, "Site Elevation [meters]"),
    ("OBSERVER", "Jones", "Observer(s)"),
    ("PARTNER", "UA", "LBT Project Partner(s)"),
    ("PROPID", "UA_2025B_07", "Observing Proposal ID"),
    ("PI_NAME", "Smith", "Project PI Name(s)"),
    ("SUPPORT", "Brown", "LBT Support Scientist(s) on duty"),
    ("TELOPS", "Garcia", "LBT Telescope Operator(s) on duty"),
    ("GRORDER", 1, "Grating order used"),
    ("RADECSYS", "FK5", "Coordinate System"),
    ("EQUINOX", 2000.0, "Equinox of coordinates"),
)

INSTRUMENT: tuple[Row, ...] = (
    # Common focal plane mechanisms
    ("HATCH", None, "Instrument Dark Hatch"),
    ("CALIB", None, "Calibration Tower Position"),
    ("AGWXS", 91.452, "AGW Stage X position [mm]"),
    ("AGWYS", 62.118, "AGW Stage Y position [mm]"),
    ("AGWFS", 49.87, "AGW Stage Focus position [mm]"),
    ("AGWFNAME", "Clear", "AGW Guide Camera Filter Name"),
    ("SLITMASK", 7, "Slit Mask Cassette Position"),
    ("MASKNAME", "LS5x60x1.0", "Slit Mask Name"),
    ("MASKPOS", "IN", "Slit Mask Position"),
    ("DICHROIC", 2, "Dichroic Turret Position"),
    ("DICHNAME", "Dual", "Dichroic Beam Selector Name"),
    # Channel mechanisms
    ("COLTTFA", None, "{channel} Collimator TTFA [microns]"),
    ("COLTTFB", None, "{channel} Collimator TTFB [microns]"),
    ("COLTTFC", None, "{channel} Collimator TTFC [microns]"),
    ("COLFOCUS", None, "{channel} Collimator Focus [microns]"),
    ("GRATING", None, "{channel} Grating Turret Position"),
    ("GRATNAME", None, "{channel} Grating Turret Disperser Name"),
    ("CAMFOCUS", None, "{channel} Camera Focus [microns]"),
    ("FILTER", None, "{channel} Camera Filter Wheel Position"),
    ("FILTNAME", None, "{channel} Camera Filter Name"),
    # IMCS IR laser (the comment of IRLASER is the template's)
    ("IRLASER", "ON", "IMCS IR Laser Power [mW]"),
    ("IRBEAM", "ENABLED", "IMCS IR Laser Beam state"),
    ("IRPOUT", 1.0, "IMCS IR Laser Power [mW]"),
    ("IRTEMP", 24.6, "IMCS IR Laser Temperature [deg C]"),
    # Calibration lamps
    ("CALLAMPS", None, "Calibration Lamps"),
    ("VFLAT", None, "Variable Flat Lamp Intensity"),
    # Environmental sensors
    ("IUBTAIR", 8.4, "IUB Inside Air Temperature [deg C]"),
    ("GRPRES", 38.2, "Glycol Return Pressure [psi-g]"),
    ("GRTEMP", 4.1, "Glycol Return Temperature [deg C]"),
    ("GSPRES", 52.7, "Glycol Supply Pressure [psi-g]"),
    ("GSTEMP", 2.9, "Glycol Supply Temperature [deg C]"),
    ("IEBTEMPB", 9.6, "Blue IEB Air Temperature [deg C]"),
    ("IEBTEMPR", 10.2, "Red IEB Air Temperature [deg C]"),
    ("TCOLLBOT", 3.8, "Collimator Truss Bottom Temp [deg C]"),
    ("TCOLLTOP", 4.5, "Collimator Truss Top Temp [deg C]"),
    ("TAIRBOT", 4.0, "Enclosure Air Temp Bottom [deg C]"),
    ("TAIRTOP", 5.1, "Enclosure Air Temp Top [deg C]"),
    # Subsystem power states
    ("IEBPWR_B", "ON", "Blue IEB Power"),
    ("IEBPWR_R", "ON", "Red IEB Power"),
    ("LLBPWR", "ON", "Lamp/Laser Box Power"),
    ("WFSPWR", "ON", "AGw WFS camera power"),
    ("AGCPWR", "ON", "AGw guide camera Power"),
    # The channel's head electronics box and dewar
    ("HEBPOWER", "ON", "{channel} HEB Power"),
    ("HEBTEMP", 12.3, "{channel} HEB air temperature [deg C]"),
    ("IGPOWER", "OFF", "{channel} Dewar Ion Gauge Power"),
    ("ARPOWER", "ON", "{channel} Archon Controller Power"),
    ("DEWPRES", 2.3e-07, "{channel} CCD Dewar Pressure [torr]"),
    ("DEWTEMP", -195.4, "{channel} CCD Dewar Temperature [deg C]"),
)

# The Orion Nebula near transit: alt/az and airmass as dataMan's tests know them, HA and
# LST consistent with them, a guide star 2.2' E / 2.8' S of the target.
TELESCOPE: tuple[Row, ...] = (
    ("TELRA", "05:35:17.30", "{side} Telescope Achieved RA [hms]"),
    ("TELDEC", "-05:23:28.0", "{side} Telescope Achieved DEC [dms]"),
    ("POSANGLE", 0.0, "{side} Instrument Celestial PA [deg]"),
    ("TELALT", 51.2741, "Telescope Altitude at start of obs [dms]"),
    ("TELAZ", 172.0516, "Telescope Azimuth at start of obs [dms]"),
    ("HA", "-00:19:57.06", "Telescope Hour Angle at start of obs [hms]"),
    ("AIRMASS", 1.282, "Airmass (secZD) at start of obs"),
    ("PARANGLE", -6.716, "Parallactic Angle at start of obs [deg]"),
    ("OBS_LST", "05:15:20.24", "Local Sidereal Time at start of obs"),
    ("ROTANGLE", 6.716, "{side} Rotator Angle at start of obs [deg]"),
    ("ROTMODE", "POSITION", "{side} Rotator Mode"),
    ("DGROTPOS", 186.716, "{side} Direct Gregorian Rotator Angle [deg]"),
    ("OBJRA", "05:35:17.30", "Target RA"),
    ("OBJDEC", "-05:23:28.0", "Target DEC"),
    ("OBJPMRA", 0.0, "Target RA proper motion [mas/yr]"),
    ("OBJPMDEC", 0.0, "Target DEC proper motion [mas/yr]"),
    ("GUIRA", "05:35:25.98", "Guide Star RA"),
    ("GUIDEC", "-05:26:14.9", "Guide Star DEC"),
    ("AGWXGP", 77.62, "AGW Guide Probe X focal plane position [mm]"),
    ("AGWYGP", -99.94, "AGW Guide Probe Y focal plane position [mm]"),
    ("GPREQ_X", 77.62, "GCS Requested guide probe PCS X [mm]"),
    ("GPREQ_Y", -99.94, "GCS Requested guide probe PCS Y [mm]"),
    ("GPACT_X", 77.618, "GCS Actual guide probe PCS X [mm]"),
    ("GPACT_Y", -99.941, "GCS Actual guide probe PCX Y [mm]"),
    ("GSPRED_X", 77.62, "PCS Predicted guide star X position [mm]"),
    ("GSPRED_Y", -99.94, "PCS Predicted guide star Y position [mm]"),
    ("GSMEAS_X", 77.634, "GCS Measured guide star X position [mm]"),
    ("GSMEAS_Y", -99.927, "GCS Measured guide star Y position [mm]"),
    ("GSDELTAX", 0.014, "GCS cumulative X guide update position [mm]"),
    ("GSDELTAY", 0.013, "GCS cumulative Y guide update position [mm]"),
    ("M1POSX", 0.512, "{side} Primary X Position [mm]"),
    ("M1POSY", -1.204, "{side} Primary Y Position [mm]"),
    ("M1POSZ", 0.873, "{side} Primary Z Position [mm]"),
    ("M1ROTX", 12.31, "{side} Primary RX Rotation [arcsec]"),
    ("M1ROTY", -4.76, "{side} Primary RY Rotation [arcsec]"),
    ("M1ROTZ", 0.0, "{side} Primary RZ Rotation [arcsec]"),
    ("M1CTEMP", -2.1, "{side} Primary Temperature [deg C]"),
    ("M1CTEMP2", -2.0, "{side} Primary Temperature 2 [deg C]"),
    ("M1GTEMP", -1.8, "{side} Primary Glass Temperature [deg C]"),
    ("M1ATEMP", -2.5, "{side} Primary Ambient Air Temp [deg C]"),
    ("M2POSX", -0.318, "{side} Secondary X Position [mm]"),
    ("M2POSY", 1.127, "{side} Secondary Y Position [mm]"),
    ("M2POSZ", -0.495, "{side} Secondary Z Position [mm]"),
    ("M2ROTX", 31.2, "{side} Secondary RX Rotation [arcsec]"),
    ("M2ROTY", -18.9, "{side} Secondary RY Rotation [arcsec]"),
    ("M2ROTZ", 0.0, "{side} Secondary RZ Rotation [arcsec]"),
    ("M2CTEMP", -2.9, "{side} Secondary Temperature [deg C]"),
    ("TTEMP201", -2.6, "Middle C-Ring Steel Temp [deg C]"),
    ("TTEMP202", -2.8, "Middle C-Ring Air Temp [deg C]"),
    ("TTEMP203", -2.7, "Upper C-Ring Steel Temp [deg C]"),
    ("TTEMP204", -3.0, "Upper C-Ring Air Temp [deg C]"),
    ("TTEMP205", -2.4, "Lower C-Ring Steel Temp [deg C]"),
    ("TTEMP206", -2.6, "Lower C-Ring Air Temp [deg C]"),
    ("TTEMP207", -2.5, "Right Lower Wind Brace Steel Temp [deg C]"),
    ("TTEMP208", -2.7, "Right Lower Wind Brace Air Temp [deg C]"),
    ("TTEMP209", -2.2, "Right Mirror-Cell Brace Steel Temp [deg C]"),
    ("TTEMP210", -2.4, "Right Mirror-Cell Brace Air Temp [deg C]"),
    ("TTEMP301", -2.9, "Right C-Ring Extension Steel Temp [deg C]"),
    ("TTEMP302", -3.1, "Right C-Ring Extension Air Temp [deg C]"),
    ("TTEMP303", -2.9, "Left C-Ring Extension Steel Temp [deg C]"),
    ("TTEMP304", -3.2, "Left C-Ring Extension Air Temp [deg C]"),
    ("TTEMP305", -3.3, "Upper Wind Brace Steel Temp [deg C]"),
    ("TTEMP306", -3.4, "Upper Wind Brace Air Temp [deg C]"),
    ("TTEMP307", -2.8, "Right Middle Wind Brace Steel Temp [deg C]"),
    ("TTEMP308", -3.0, "Right Middle Wind Brace Air Temp [deg C]"),
    ("TTEMP309", -2.8, "Left Middle Wind Brace Steel Temp [deg C]"),
    ("TTEMP310", -3.0, "Left Middle Wind Brace Air Temp [deg C]"),
    # LBTWLINK and NONSIDER as azcam receives them (1/0), which dataMan rewrites.
    ("LBTWLINK", 1, "LBT Weather Station Link State"),
    ("LBTPRES", 703.6, "LBT Ambient Pressure [hPa]"),
    ("LBTTEMP", -2.4, "LBT Ambient Temperature [deg C]"),
    ("LBTHUM", 21.0, "LBT Relative Humidity [percent]"),
    ("LBTDWPT", -21.7, "LBT Dew Point [deg C]"),
    ("NONSIDER", 0, "Target is non-sidereal"),
    ("NSRARATE", 0.0, "Differential RA tracking rate [arcsec/h]"),
    ("NSDERATE", 0.0, "Differential Dec tracking rate [arcsec/h]"),
    ("NSTYPE", "", "Non-sidereal target type"),
    ("NSEPHFIL", "", "Non-sidereal ephemeris file name"),
)
