"""The simulator writes what the real azcam writer writes for MODS, defects and all.

Each case writes one frame twice: with ``dataman.sim`` and with azcam's own
``azcam.image.Image`` MEF writer, configured as the MODS azcam server
configures it and fed the same pixels and the same observation keywords. The
files must agree in layout, in every keyword, and finally byte for byte.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from dataman.core.geometry import REFERENCE_PIXEL
from dataman.sim.azcam_header import (
    AMP_FLIP,
    EXT_POSITION,
    GAIN,
    HEADER_ORDER,
    READ_NOISE,
    WCS_ROTATION,
    WCS_SCALE,
)
from dataman.sim.frames import FrameSpec, make_raw_hdulist, spec_groups, write_raw_frame

azcam = pytest.importorskip("azcam")
from azcam.header import Header  # noqa: E402
from azcam.image import Image  # noqa: E402

# Keywords dataMan reads in IM1..IM4 (docs/processing.md: the raw frame, fixDETSEC).
DATAMAN_EXTENSION_KEYWORDS = (
    "EXTNAME", "CCDSUM", "OVRSCAN1", "DETSEC", "CCDSEC", "DATASEC", "BIASSEC",
    "LTV1", "LTV2", "LTM1_1", "LTM2_2",
)
# What azcam itself puts in the primary header (the rest comes from the server's header objects).
AZCAM_PRIMARY_KEYWORDS = (
    "SIMPLE", "BITPIX", "NAXIS", "EXTEND", "NEXTEND", "DETSIZE", "CCDSUM", "CCDBIN1", "CCDBIN2",
    "FILENAME", "NCCDS", "NAMPS", "AZCAM-HEAD", "N-AMPS-X", "N-AMPS-Y", "N-DET-X", "N-DET-Y",
    "NUM-AMPX", "NUM-AMPY", "NUM-DETX", "NUM-DETY", "REF-PIX1", "REF-PIX2",
)
# The window (first column, last column, first row, last row) the MODS server gives azcam's
# set_roi for each mode: the whole detector in detector coordinates, centred on (4146, 1544).
AZCAM_ROI = {
    "full": (1, 8292, 1, 3088),
    "4kx3k": (2099, 6194, 1, 3088),
    "3kx3k": (2603, 5690, 1, 3088),
    "1kx1k": (3635, 4658, 1033, 2056),
}
CASES = [
    pytest.param(("full", 1), id="full", marks=pytest.mark.slow),
    pytest.param(("full", 2), id="full-binned"),
    pytest.param(("4kx3k", 1), id="4kx3k"),
    pytest.param(("3kx3k", 2), id="3kx3k-binned"),
    pytest.param(("1kx1k", 1), id="1kx1k"),
    pytest.param(("1kx1k", 2), id="1kx1k-binned"),
    # Every kind of exposure and both channels and sides: the MODS keyword set as azcam writes it.
    pytest.param(("1kx1k", 2, {"kind": "bias", "instrument": "MODS1R"}), id="bias-MODS1R"),
    pytest.param(("1kx1k", 2, {"kind": "flat", "instrument": "MODS2B"}), id="flat-MODS2B"),
    pytest.param(("1kx1k", 2, {"kind": "comp", "instrument": "MODS2R"}), id="comp-MODS2R"),
    pytest.param(("1kx1k", 2, {"altaz_sexagesimal": True}), id="altaz-sexagesimal"),
]


@contextmanager
def fresh_azcam() -> Iterator[None]:
    """Give azcam an empty global state, as a freshly started server has.

    azcam keeps its header objects in the module-global ``azcam.db`` (``headers``,
    ``headerorder``, ``tools``); each Image registers its focal-plane header
    there. Without a reset, cases would see each other's headers. No other
    set-up is needed: the MEF writer touches no controller, logging or files
    besides the one it writes.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(azcam.db, "headers", {})
        patch.setattr(azcam.db, "headerorder", [])
        patch.setattr(azcam.db, "tools", {})
        yield


def write_with_azcam(path: Path, spec: FrameSpec, simulated: fits.HDUList) -> None:
    """Write ``simulated``'s pixels and keywords with azcam's writer, as the MODS server would."""
    image = Image()
    _configure_like_mods(image.focalplane, spec)
    _register_observation_headers(spec)
    image.data = np.stack([simulated[amp].data.ravel() for amp in range(1, 5)])
    image.is_valid = 1
    # azcam's AZCAM-HEAD card triggers astropy's HIERARCH VerifyWarning, which this
    # project's pytest settings turn into an error that azcam would swallow (dropping
    # the card); on the server it is a mere warning. azcam's uint16 arithmetic may
    # also warn about overflow. Neither changes what is written.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image.write_file(str(path), 1)
    # ExposureArchon.end() appends the controller status afterwards, like this:
    conpars = simulated["CONPARS"].data
    columns = [
        fits.Column(name="Keyword", format="20A", array=list(conpars["Keyword"])),
        fits.Column(name="Value", format="20A", array=list(conpars["Value"])),
    ]
    with fits.open(path, mode="update") as hdulist:
        hdulist.append(fits.BinTableHDU.from_columns(columns, name="CONPARS"))


def _configure_like_mods(focalplane: object, spec: FrameSpec) -> None:
    """The MODS server's detector set-up (set_detpars order), then the observer's ROI, binning."""
    readout = spec.readout
    c0, r0 = REFERENCE_PIXEL
    focalplane.set_ref_pixel([float(c0), float(r0)])  # the MODS configuration gives floats
    focalplane.set_format(2 * c0, 0, 0, 32, 2 * r0, 0, 0, 0, 0)
    focalplane.set_focalplane(1, 1, 2, 2, list(AMP_FLIP))
    focalplane.set_roi(1, 2 * c0, 1, 2 * r0, 1, 1)
    focalplane.set_extension_position([list(position) for position in EXT_POSITION])
    focalplane.set_jpg_order([1, 2, 3, 4])
    focalplane.det_number = [1, 1, 1, 1]
    focalplane.gains = 4 * [GAIN]
    focalplane.rdnoises = 4 * [READ_NOISE]
    focalplane.wcs.scale1 = 4 * [WCS_SCALE]
    focalplane.wcs.scale2 = 4 * [WCS_SCALE]
    focalplane.wcs.rot_deg = 4 * [WCS_ROTATION]
    focalplane.set_roi(*AZCAM_ROI[spec.roi], readout.binning, readout.binning)
    focalplane.update_header()  # Exposure.update_headers() does this before every readout


def _register_observation_headers(spec: FrameSpec) -> None:
    """Load the simulator's observation keywords into azcam header objects, in server order."""
    groups = spec_groups(spec)
    types = {str: "str", int: "int", float: "float"}
    for name, group in groups.items():
        header = Header(group.title)
        for keyword, value, comment in group.cards:
            header.set_keyword(keyword, value, comment, types[type(value)])
        header.set_header(name)
    azcam.db.headerorder[:] = list(HEADER_ORDER)


def cards(header: fits.Header) -> list[tuple[str, object, str]]:
    return [(card.keyword, card.value, card.comment) for card in header.cards]


@pytest.fixture(scope="module", params=CASES)
def frame_pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """(simulator's file, azcam's file) for one readout; written once, shared by the tests."""
    roi, binning, *more = request.param
    spec = FrameSpec(roi=roi, binning=binning, seed=7, pattern="ramp", **(more[0] if more else {}))
    folder = tmp_path_factory.mktemp(f"{roi}-{binning}")
    ours = write_raw_frame(folder, spec)
    theirs = folder / "azcam" / spec.name
    theirs.parent.mkdir()
    with fresh_azcam():
        write_with_azcam(theirs, spec, make_raw_hdulist(spec))
    return ours, theirs


def test_hdu_layout_matches_azcam(frame_pair: tuple) -> None:
    with fits.open(frame_pair[0]) as ours, fits.open(frame_pair[1]) as theirs:
        assert [(h.name, type(h).__name__) for h in ours] == [
            (h.name, type(h).__name__) for h in theirs
        ]
        for index in range(1, 5):
            for keyword in ("BITPIX", "NAXIS1", "NAXIS2", "BZERO", "BSCALE"):
                assert ours[index].header[keyword] == theirs[index].header[keyword], keyword
            assert ours[index].data.dtype == theirs[index].data.dtype == np.uint16
            np.testing.assert_array_equal(ours[index].data, theirs[index].data)


def test_overscan_sits_where_azcam_biassec_says(frame_pair: tuple) -> None:
    with fits.open(frame_pair[0]) as ours, fits.open(frame_pair[1]) as theirs:
        for index, bias in zip(range(1, 5), (1011.0, 1233.0, 1467.0, 1702.0), strict=True):
            x1, x2 = (int(v) for v in theirs[index].header["BIASSEC"][1:].split(",")[0].split(":"))
            overscan = ours[index].data[:, x1 - 1 : x2].astype(float)
            assert x2 == ours[index].header["NAXIS1"]
            assert abs(overscan.mean() - bias) < 0.5
            assert ours[index].data[:, : x1 - 1].mean() > bias + 200


def test_dataman_extension_keywords_match_azcam(frame_pair: tuple) -> None:
    with fits.open(frame_pair[0]) as ours, fits.open(frame_pair[1]) as theirs:
        for index in range(1, 5):
            for keyword in DATAMAN_EXTENSION_KEYWORDS:
                assert ours[index].header[keyword] == theirs[index].header[keyword], (
                    f"IM{index} {keyword}"
                )


def test_every_extension_card_matches_azcam(frame_pair: tuple) -> None:
    with fits.open(frame_pair[0]) as ours, fits.open(frame_pair[1]) as theirs:
        for index in range(1, 6):
            assert cards(ours[index].header) == cards(theirs[index].header), ours[index].name
        np.testing.assert_array_equal(ours["CONPARS"].data, theirs["CONPARS"].data)


def test_primary_header_matches_azcam(frame_pair: tuple) -> None:
    with fits.open(frame_pair[0]) as ours, fits.open(frame_pair[1]) as theirs:
        for keyword in AZCAM_PRIMARY_KEYWORDS:
            assert ours[0].header[keyword] == theirs[0].header[keyword], keyword
        assert cards(ours[0].header) == cards(theirs[0].header)


def test_files_are_byte_identical(frame_pair: tuple) -> None:
    assert frame_pair[0].read_bytes() == frame_pair[1].read_bytes()
