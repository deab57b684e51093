"""Assembling the processed file: headers, raw blocks bit for bit, and MERGED.

The output is written piece by piece from the buffers the frame was read into,
so the raw pixels are carried over exactly as stored and the merged image is
written straight from its big-endian buffer, without astropy re-encoding data.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning

from dataman.core.blocks import BLOCK, padded
from dataman.core.frame import RawFrame
from dataman.core.otm import QuadrantStats
from dataman.core.quality import QualityReport, header_cards

#: Primary keywords that describe the primary HDU's own structure, not the observation.
STRUCTURAL = {"SIMPLE", "BITPIX", "NAXIS", "EXTEND", "NEXTEND", "PCOUNT", "GCOUNT",
              "BZERO", "BSCALE", "XTENSION", "EXTNAME", "EXTVER", "BLANK", "CHECKSUM",
              "DATASUM"}


def merged_header(primary: fits.Header, shape: tuple[int, int], stats: list[QuadrantStats],
                  quality: QualityReport | None = None) -> fits.Header:
    """MERGED extension header: structure, every observation keyword, Qn bias and noise,
    and the quality verdict (QCSTATUS, QCFLAGS, Qn saturated fraction) when checked."""
    header = fits.Header([
        ("XTENSION", "IMAGE", "Image extension"),
        ("BITPIX", -32, "IEEE single precision floating point"),
        ("NAXIS", 2, "Number of axes"),
        ("NAXIS1", shape[1], "Columns"),
        ("NAXIS2", shape[0], "Rows"),
        ("PCOUNT", 0, "No extra parameters"),
        ("GCOUNT", 1, "One data group"),
        ("EXTNAME", "MERGED", "Overscan-subtracted, trimmed, merged image"),
    ])
    with comments_truncated_quietly():
        for card in primary.cards:
            if card.keyword not in STRUCTURAL and not card.keyword.startswith("NAXIS"):
                header.append(fits.Card.fromstring(card.image), end=True)  # HIERARCH-safe copy
    ordered = sorted(stats, key=lambda item: item.quadrant)
    for item in ordered:
        header[f"Q{item.quadrant}BIAS"] = (item.bias, f"Q{item.quadrant} overscan median [DN]")
    for item in ordered:
        header[f"Q{item.quadrant}STD"] = (item.noise, f"Q{item.quadrant} overscan std dev [DN]")
    if quality is not None:
        for keyword, value, comment in header_cards(quality):
            header[keyword] = (value, comment)
    return header


def output_pieces(frame: RawFrame, merged: np.ndarray | None,
                  merged_hdr: fits.Header | None) -> list[bytes | memoryview]:
    """The processed file as a list of buffers to write in order."""
    pieces: list[bytes | memoryview] = [_header_bytes(frame.primary)]
    for amp in frame.amps:
        pieces += [_header_bytes(amp.header), amp.block]
    if frame.conpars_header is not None:
        pieces += [_header_bytes(frame.conpars_header), frame.conpars_block]
    if merged is not None and merged_hdr is not None:
        data = merged.reshape(-1).view(np.uint8).data
        pieces += [_header_bytes(merged_hdr), data, bytes(padded(len(data)) - len(data))]
    return pieces


@contextlib.contextmanager
def comments_truncated_quietly() -> Iterator[None]:
    """Write a card whose value leaves too little room for its comment with the comment
    cut to fit, without astropy's VerifyWarning: the value is whole, which is what the
    archive reads, and a damaged keyword is reported by name by the header fixes."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Card is too long, comment will be truncated",
                                category=VerifyWarning)
        yield


def _header_bytes(header: fits.Header) -> bytes:
    with comments_truncated_quietly():
        text = header.tostring(sep="", endcard=True, padding=True).encode("ascii")
    assert len(text) % BLOCK == 0
    return text


def size_of(pieces: list[bytes | memoryview]) -> int:
    return sum(len(piece) for piece in pieces)
