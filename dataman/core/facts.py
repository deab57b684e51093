"""What a frame is, as its fixed headers say: declared once, carried whole.

The worker that processes a frame reads these facts once, after the header
fixes (:func:`dataman.core.pipeline.describe`), and every later holder of
the frame's outcome carries the same object instead of copying its fields
one by one: the pipeline's result, the worker's answer to the supervisor
(``JobDone``), the journal's row, the console's ``recent`` entry (which extends this class) and what
``dataman process`` records for the night report. So a new fact is a field
added here, plus its journal column.

The journal and ``dataman process``'s record name three of them as the
journal's first columns did (:data:`COLUMN_NAMES`); :func:`columns` and
:func:`from_columns` translate. Nothing here needs astropy: the console and
``dataman health`` import it with the wire's classes.

>>> facts = FrameFacts(roi="full", binning="1x1", imagetyp="OBJECT", grating="G400L")
>>> columns(facts)["gratname"], from_columns(columns(facts)) == facts
('G400L', True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FrameFacts:
    """A frame's readout, type, setup, exposure start and temperatures; empty (or None)
    when unknown: a frame that failed before they were read, a keyword it lacks."""

    #: The readout window mode (``full``, ``1kx1k``, ...) and the binning (``1x1``).
    roi: str = ""
    binning: str = ""
    #: What the frame is (after the fixes): IMAGETYP, EXPTIME (s), OBJECT.
    imagetyp: str = ""
    exptime: float | None = None
    object_name: str = ""
    #: The setup the night's checklist groups by: GRATNAME, FILTNAME, MASKNAME.
    grating: str = ""
    filter_name: str = ""
    mask: str = ""
    #: When the exposure started, ISO UTC (DATE-OBS, with UTC-OBS), and the CCD and
    #: base temperatures (CCDTEMP, BASETEMP, degC).
    date_obs: str = ""
    ccd_temp: float | None = None
    base_temp: float | None = None


#: The facts whose journal column has another name (the columns came first).
COLUMN_NAMES = {"grating": "gratname", "filter_name": "filtname", "mask": "maskname"}


def columns(facts: FrameFacts) -> dict[str, Any]:
    """The facts by journal column name."""
    return {COLUMN_NAMES.get(f.name, f.name): getattr(facts, f.name)
            for f in dataclasses.fields(FrameFacts)}


def from_columns(values: Mapping[str, Any]) -> FrameFacts:
    """The facts in journal columns (a row, a record); a column that is NULL (a frame
    not processed, a journal of an older dataMan) gives the fact's default."""
    given = {}
    for f in dataclasses.fields(FrameFacts):
        value = values.get(COLUMN_NAMES.get(f.name, f.name))
        if value is not None:
            given[f.name] = value
    return FrameFacts(**given)
