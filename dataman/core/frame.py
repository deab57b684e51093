"""Reading a raw MODS frame: headers through astropy, pixels straight into a buffer.

astropy parses the six headers (a few milliseconds); the pixel blocks of
IM1..IM4 are then read with one ``readinto`` each into a caller-supplied buffer
(a shared-memory slot in the service), so pixels are neither copied nor
decoded. The stored bytes are kept as they are: the output file carries them
over bit for bit, and the OTM step reads them through big-endian int16 views.

Buffer layout (``RawFrame.block_size`` bytes per amplifier, FITS padding included)::

    +-----------+-----------+-----------+-----------+
    | IM1 block | IM2 block | IM3 block | IM4 block |   each: NAXIS2 x NAXIS1 '>i2' + padding
    +-----------+-----------+-----------+-----------+
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning

from dataman.core.blocks import BLOCK, padded
from dataman.core.errors import BadFrame, FrameIncomplete, FrameTooLarge
from dataman.core.geometry import AMPLIFIERS

EXPECTED_BZERO = 32768


@dataclass
class AmpImage:
    """One amplifier's extension: its header and its stored pixels (value = stored + 32768)."""

    name: str
    header: fits.Header
    block: memoryview  # the padded data block exactly as stored in the file
    stored: np.ndarray  # (NAXIS2, NAXIS1) '>i2' view of ``block``


@dataclass
class RawFrame:
    """A raw (or previously processed) frame, headers editable, pixels in a buffer."""

    path: Path
    primary: fits.Header
    amps: list[AmpImage]
    conpars_header: fits.Header | None
    conpars_block: bytes
    conpars: dict[str, str]

    @property
    def name(self) -> str:
        return self.path.name


def read_frame(path: str | os.PathLike[str], buffer: memoryview | None = None) -> RawFrame:
    """Read ``path`` read-only; pixel blocks go into ``buffer`` (allocated when None).

    Raises ``BadFrame`` for anything that is not a MODS raw frame and
    ``FrameIncomplete`` when the file is shorter than its headers imply.
    """
    path = Path(path)
    headers, locations, size = _scan_headers(path)
    amp_hdus = _find_amplifiers(path, headers)
    nbytes = [_check_amplifier(path, name, headers[index]) for name, index in amp_hdus]
    if len(set(nbytes)) != 1:
        raise BadFrame(f"{path.name}: IM1..IM4 differ in shape "
                       f"({', '.join(_shape_text(headers[i]) for _, i in amp_hdus)})")
    block_size = padded(nbytes[0])
    for _name, index in amp_hdus:
        _require_data(path, locations[index][0], nbytes[0], size)
    if buffer is None:
        buffer = memoryview(bytearray(4 * block_size))
    elif len(buffer) < 4 * block_size:
        raise FrameTooLarge(f"{path.name}: frame needs {4 * block_size} bytes, buffer holds "
                       f"{len(buffer)}")
    amps = []
    with open(path, "rb", buffering=0) as stream:
        for slot, (name, index) in enumerate(amp_hdus):
            block = buffer[slot * block_size:(slot + 1) * block_size]
            _read_block(stream, locations[index][0], block)
            header = headers[index]
            shape = (header["NAXIS2"], header["NAXIS1"])
            stored = np.frombuffer(block, dtype=">i2", count=shape[0] * shape[1]).reshape(shape)
            amps.append(AmpImage(name, header, block, stored))
        conpars_header, conpars_block = _read_conpars(path, stream, headers, locations, size)
    conpars = _parse_conpars(conpars_header, conpars_block)
    return RawFrame(path, headers[0], amps, conpars_header, conpars_block, conpars)


def _scan_headers(path: Path) -> tuple[list[fits.Header], list[tuple[int, int]], int]:
    """Headers and (data offset, padded span) of every HDU, without reading any data."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise BadFrame(f"{path.name}: cannot open: {error.strerror}") from error
    if size == 0:
        raise FrameIncomplete(f"{path.name}: file is empty (0 bytes)")
    headers: list[fits.Header] = []
    locations: list[tuple[int, int]] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", AstropyUserWarning)
            with fits.open(path, mode="readonly", memmap=False, lazy_load_hdus=True,
                           do_not_scale_image_data=True, ignore_missing_simple=False) as hdus:
                for hdu in hdus:
                    info = hdu.fileinfo()
                    headers.append(hdu.header.copy())
                    locations.append((info["datLoc"], info["datSpan"]))
    except (OSError, ValueError, IndexError, KeyError, AstropyUserWarning,
            UnicodeDecodeError) as error:
        if headers and "smaller than the expected size" in str(error):
            raise FrameIncomplete(  # astropy: the data of the next HDU end past the file
                f"{path.name}: truncated in the data after {_extname(headers[-1])}, "
                f"still being written? ({' '.join(str(error).split())})") from error
        _require_fits_signature(path, size)  # only now: it costs another open (NFS)
        raise _classify_open_error(path, size, error) from error
    return headers, locations, size


def _extname(header: fits.Header) -> str:
    return str(header.get("EXTNAME", "PRIMARY")).strip() or "PRIMARY"


def _is_conpars(header: fits.Header) -> bool:
    return str(header.get("EXTNAME", "")).strip().upper() == "CONPARS"


def _require_fits_signature(path: Path, size: int) -> None:
    """Tell 'not FITS at all' apart from 'FITS still being written' by the first card."""
    signature = b"SIMPLE  ="
    try:
        with open(path, "rb") as stream:
            start = stream.read(len(signature))
    except OSError as error:
        raise BadFrame(f"{path.name}: cannot read: {error.strerror}") from error
    if not signature.startswith(start) and not start.startswith(signature):
        raise BadFrame(f"{path.name}: not a readable FITS file (starts with {start!r})")
    if size < BLOCK:
        raise FrameIncomplete(f"{path.name}: truncated in the primary header ({size} bytes)")


def _classify_open_error(path: Path, size: int, error: Exception) -> Exception:
    text = " ".join((str(error) or type(error).__name__).split())
    incomplete = size % BLOCK != 0 or "truncat" in text.lower() or "END card" in text
    if incomplete:
        return FrameIncomplete(f"{path.name}: truncated or still being written in a header "
                               f"({size} bytes): {text}")
    return BadFrame(f"{path.name}: not a readable FITS file: {text}")


def _find_amplifiers(path: Path, headers: list[fits.Header]) -> list[tuple[str, int]]:
    names = {str(h.get("EXTNAME", "")).strip().upper(): i for i, h in enumerate(headers)}
    missing = [name for name in AMPLIFIERS if name not in names]
    if missing:
        raise BadFrame(f"{path.name}: missing extension {', '.join(missing)}")
    return [(name, names[name]) for name in AMPLIFIERS]


def _shape_text(header: fits.Header) -> str:
    return f"{header.get('NAXIS1')}x{header.get('NAXIS2')}"


def _check_amplifier(path: Path, name: str, header: fits.Header) -> int:
    """Validate one IMn header and return its data size in bytes."""
    if header.get("BITPIX") != 16:
        raise BadFrame(f"{path.name}: {name} has BITPIX {header.get('BITPIX')}, expected 16")
    if header.get("NAXIS") != 2:
        raise BadFrame(f"{path.name}: {name} has NAXIS {header.get('NAXIS')}, expected 2")
    if header.get("BZERO", 0) != EXPECTED_BZERO or header.get("BSCALE", 1) != 1:
        raise BadFrame(f"{path.name}: {name} is not uint16 (BZERO {header.get('BZERO')}, "
                       f"BSCALE {header.get('BSCALE')})")
    columns, rows = header.get("NAXIS1"), header.get("NAXIS2")
    if not (isinstance(columns, int) and isinstance(rows, int) and columns > 0 and rows > 0):
        raise BadFrame(f"{path.name}: {name} has no image ({_shape_text(header)})")
    return columns * rows * 2


def _require_data(path: Path, offset: int, nbytes: int, size: int) -> None:
    if offset + nbytes > size:
        raise FrameIncomplete(f"{path.name}: truncated: pixels end at byte {offset + nbytes} "
                              f"but the file has {size} bytes")


def _read_block(stream, offset: int, block: memoryview) -> None:
    """Fill ``block`` from ``offset``; the file ending early means it is being rewritten."""
    stream.seek(offset)
    done = 0
    while done < len(block):
        count = stream.readinto(block[done:])
        if not count:
            raise FrameIncomplete(f"{Path(stream.name).name}: file ended at byte "
                                  f"{offset + done} while reading (still being written?)")
        done += count


def _read_conpars(path, stream, headers, locations, size) -> tuple[fits.Header | None, bytes]:
    for index, header in enumerate(headers):
        if _is_conpars(header):
            offset, span = locations[index]
            nbytes = header.get("NAXIS1", 0) * header.get("NAXIS2", 0) + header.get("PCOUNT", 0)
            _require_data(path, offset, nbytes, size)
            block = memoryview(bytearray(span))
            _read_block(stream, offset, block)
            return header, bytes(block)
    return None, b""


def _parse_conpars(header: fits.Header | None, block: bytes) -> dict[str, str]:
    """Keyword -> Value of the CONPARS table, decoded from the block as read.

    Empty when the table is absent or lacks the two columns; fixTemps then
    reports the temperatures as not read.
    """
    if header is None:
        return {}
    try:
        rows = fits.BinTableHDU.fromstring(header.tostring().encode("ascii") + block).data
        return {str(k).strip(): str(v).strip()
                for k, v in zip(rows["Keyword"], rows["Value"], strict=True)}
    except (KeyError, ValueError, TypeError, AttributeError):
        return {}
