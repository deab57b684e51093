"""FITS files are made of 2880-byte blocks: the one fact every size computation needs.

Kept apart from :mod:`dataman.core.frame` so that what only sizes buffers (the
supervisor's shared-memory slots) does not import astropy to do it.
"""

from __future__ import annotations

#: Bytes in a FITS logical record; every header and data unit fills whole blocks.
BLOCK = 2880


def padded(size: int) -> int:
    """Bytes a FITS data or header unit of ``size`` bytes occupies on disk."""
    return -(-size // BLOCK) * BLOCK
