"""A minimal PNG writer for 8-bit grey images: zlib and the file layout, nothing else.

The worker makes a thumbnail of every frame; an image library would cost
memory and start-up time in every worker for one function this small.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_grey(image: np.ndarray, level: int = 6) -> bytes:
    """The PNG file of a 2-D uint8 array, first row at the top.

    >>> png_grey(np.zeros((1, 2), np.uint8))[:8] == SIGNATURE
    True
    """
    if image.ndim != 2 or image.dtype != np.uint8 or 0 in image.shape:
        raise ValueError(f"need a non-empty 2-D uint8 image, not {image.shape} {image.dtype}")
    height, width = image.shape
    rows = np.zeros((height, width + 1), dtype=np.uint8)  # each row: filter type 0, pixels
    rows[:, 1:] = image
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level)) + _chunk(b"IEND", b""))
