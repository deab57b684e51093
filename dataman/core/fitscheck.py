"""Is a FITS file whole? Its headers say exactly how long it must be.

A FITS file is a sequence of HDUs, each a header of 2880-byte blocks ending
with an ``END`` card and a data part whose length follows from ``BITPIX``,
``NAXISn``, ``PCOUNT`` and ``GCOUNT``, padded to a whole block. So walking the
headers, without reading any data, tells a complete file from one a power cut
left empty, short, or with a block of zeros where a header was: the check
after an unclean stop (:mod:`dataman.service.powercut`). It needs no astropy
and reads a few kilobytes per file.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "empty.fits"
>>> path.write_bytes(b"")
0
>>> fits_problem(path)
'empty'
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import BinaryIO

BLOCK = 2880
CARD = 80


def fits_problem(path: Path, expected_size: int | None = None) -> str | None:
    """What is wrong with the FITS file ``path``, in words; None if it is whole.

    ``expected_size`` (bytes, as recorded when it was written) is checked first.
    Raises ``OSError`` if the file cannot be read at all.
    """
    size = path.stat().st_size
    if size == 0:
        return "empty"
    if expected_size is not None and size != expected_size:
        return f"{size} bytes, {expected_size} were written"
    with open(path, "rb") as stream:
        offset = 0
        while offset < size:
            problem, length = _hdu_length(stream, offset, first=offset == 0)
            if problem:
                return problem
            offset += length
    if offset != size:
        return f"{size} bytes where its headers describe {offset}"
    return None


def _hdu_length(stream: BinaryIO, offset: int, *, first: bool) -> tuple[str | None, int]:
    """(problem, bytes of header and padded data) of the HDU at ``offset``."""
    stream.seek(offset)
    cards: dict[str, str] = {}
    blocks = 0
    while True:
        block = stream.read(BLOCK)
        if len(block) < BLOCK:
            return f"cut short in a header at byte {offset + blocks * BLOCK}", 0
        if blocks == 0 and not block.startswith(b"SIMPLE  =" if first else b"XTENSION="):
            return f"no FITS header at byte {offset}", 0
        blocks += 1
        for start in range(0, BLOCK, CARD):
            card = block[start:start + CARD].decode("ascii", "replace")
            keyword = card[:8].strip()
            if keyword == "END":
                return None, blocks * BLOCK + _data_length(cards)
            if card[8:10] == "= ":
                cards[keyword] = card[10:].split("/", 1)[0].strip()


def _data_length(cards: dict[str, str]) -> int:
    """Bytes of the data part, padded to whole blocks (FITS standard 4.0, section 4.4.1)."""
    def number(keyword: str, default: int) -> int:
        try:
            return int(cards.get(keyword, default))
        except ValueError:
            return default
    axes = [number(f"NAXIS{index}", 0) for index in range(1, number("NAXIS", 0) + 1)]
    if not axes:
        return 0
    bits = abs(number("BITPIX", 8)) * number("GCOUNT", 1) * (
        number("PCOUNT", 0) + math.prod(axes))
    return math.ceil(bits // 8 / BLOCK) * BLOCK
