"""Preallocated memory a frame is read into and merged in.

Its own module, free of astropy and numpy, so the shared-memory side of ``ipc``
(``ipc/mappings.py``) can hand a worker its slot as ``Buffers`` without importing
the pipeline that fills them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Buffers:
    """Preallocated memory for one frame (a shared-memory slot in the service)."""

    raw: memoryview
    merged: memoryview
