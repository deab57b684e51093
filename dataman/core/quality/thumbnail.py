"""A thumbnail of every MERGED image, made from the image in memory, for the night report.

The merged image (up to 3088 x 8192) is shrunk first to at most ``WIDTH``
pixels on its longer side, by averaging blocks; to keep this to a few
milliseconds only ``ROW_SAMPLES`` evenly spaced rows of each block are read,
all of its columns (an arc line, a column, is never missed; a trace, a few
rows, is caught at the usual binnings). The small image is then stretched
with zscale, as astronomers look at a frame, and written as an 8-bit grey
PNG with detector row 1 at the bottom, as a FITS viewer shows it.

Kept in ``<stateDir>/thumbnails/<night>/<frame>.png`` beside the journal,
never in procDir or repoDir: they are dataMan's own, not the archive's. Written
like the outputs, through a locked hidden temporary, so what a worker killed mid-write
leaves is removed by the same sweeps (after the worker's death, and at start).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dataman.core.errors import DeliveryFailed
from dataman.core.publish import replace_bytes
from dataman.core.quality.png import png_grey
from dataman.core.quality.thumbnail_place import thumbnail_path
from dataman.core.quality.zscale import zscale_limits

WIDTH = 256
ROW_SAMPLES = 4


def shrink(image: np.ndarray, width: int = WIDTH) -> np.ndarray:
    """Block means of ``image`` (any float dtype, any byte order), at most ``width`` a side."""
    rows, columns = image.shape
    factor = max(1, math.ceil(max(rows, columns) / width))
    height, wide = max(1, rows // factor), max(1, columns // factor)
    if rows < factor or columns < factor:  # a thin image: pick pixels, do not average
        return image[::factor, ::factor].astype(np.float32)
    step = max(1, factor // ROW_SAMPLES)
    blocks = image[:height * factor, :wide * factor].reshape(height, factor, wide * factor)
    sampled = blocks[:, ::step]  # a view: whole rows, evenly spaced in each block
    per_block = sampled.sum(axis=1, dtype=np.float32)
    return per_block.reshape(height, wide, factor).sum(axis=2) / np.float32(
        sampled.shape[1] * factor)


def stretch(image: np.ndarray) -> np.ndarray:
    """uint8 grey levels of ``image`` between its zscale limits."""
    finite = image[np.isfinite(image)]
    if finite.size == 0:
        return np.zeros(image.shape, dtype=np.uint8)
    low, high = zscale_limits(finite)
    if not high > low:
        low, high = float(finite.min()), float(finite.max())
    if not high > low:
        return np.full(image.shape, 128, dtype=np.uint8)
    scaled = (np.nan_to_num(image, nan=low) - low) * (255.0 / (high - low))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def thumbnail_png(merged: np.ndarray, width: int = WIDTH) -> bytes:
    """The PNG thumbnail of a MERGED image (numpy row 0 = FITS row 1, shown at the bottom)."""
    return png_grey(stretch(shrink(merged, width))[::-1])


def keep_thumbnail(merged: np.ndarray, state_dir: Path, night: str,
                   frame_name: str) -> str | None:
    """Write the thumbnail atomically; returns a warning instead of raising when it cannot."""
    path = thumbnail_path(state_dir, night, frame_name)
    try:
        data = thumbnail_png(merged)
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_bytes(path, data)
    except DeliveryFailed as error:  # says the path and the reason already
        return f"thumbnail not kept: {error}"
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        return f"thumbnail not kept in {path.parent}: {reason}"
    return None
