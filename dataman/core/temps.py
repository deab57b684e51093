"""fixTemps: CCD, base and backplane temperatures from the CONPARS table (docs/processing.md).

Which Archon sensor is the CCD and which the base depends on how each MODS is
wired; the mapping comes from the ``[temperatures]`` section of the configuration.
"""

from __future__ import annotations

from dataman.core.config import SensorMap
from dataman.core.frame import RawFrame
from dataman.core.keywords import parse_float

NOT_READ = -999.9
COMMENTS = {
    "CCDTEMP": "CCD temperature [C] ({sensor})",
    "BASETEMP": "Base temperature [C] ({sensor})",
    "ARCHTEMP": "Archon backplane temp. [C] ({sensor})",
}


def fix_temps(frame: RawFrame, instrument: str | None,
              sensors: dict[str, SensorMap]) -> list[str]:
    """Set CCDTEMP, BASETEMP, ARCHTEMP in the primary header; returns warnings."""
    warnings: list[str] = []
    mapping = sensors.get(instrument or "")
    if mapping is None:
        warnings.append(f"no temperature sensors configured for instrument {instrument!r}")
    if frame.conpars_header is None:
        warnings.append("CONPARS table missing; temperatures unknown")
    names = (mapping.ccd, mapping.base, mapping.backplane) if mapping else (None, None, None)
    for key, sensor in zip(("CCDTEMP", "BASETEMP", "ARCHTEMP"), names, strict=True):
        value = parse_float(frame.conpars.get(sensor)) if sensor else None
        if value is None:
            if sensor and frame.conpars_header is not None:
                warnings.append(f"{key}: CONPARS {sensor} missing or unparseable "
                                f"({frame.conpars.get(sensor)!r}); set to {NOT_READ}")
            value = NOT_READ
        frame.primary[key] = (value, COMMENTS[key].format(sensor=(sensor or "unknown")[:16]))
    return warnings
