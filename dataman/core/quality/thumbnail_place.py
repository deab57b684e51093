"""Where thumbnails are kept, without the imaging: the sweeps need the place, not numpy."""

from __future__ import annotations

from pathlib import Path

#: Under stateDir: ``thumbnails/<night>/<frame>.png``.
FOLDER = "thumbnails"


def thumbnail_path(state_dir: Path, night: str, frame_name: str) -> Path:
    """Where the thumbnail of raw frame ``frame_name`` of ``night`` is kept."""
    return state_dir / FOLDER / night / (frame_name.removesuffix(".fits") + ".png")
