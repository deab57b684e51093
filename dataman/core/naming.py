"""The MODS channel a frame belongs to, from its header (docs/processing.md).

The name patterns themselves are in :mod:`dataman.core.names`, which needs no
astropy; UNIQNAMEs are given by :mod:`dataman.core.identity`.
"""

from __future__ import annotations

from astropy.io import fits

from dataman.core.keywords import text_value
from dataman.core.names import INSTRUMENTS, channel_of


def instrument_of(primary: fits.Header, name: str) -> str | None:
    """INSTRUME when it names a MODS channel, else the channel of the file name."""
    instrume = (text_value(primary, "INSTRUME") or "").upper()
    if instrume in INSTRUMENTS:
        return instrume
    channel = channel_of(name)
    return channel.upper() if channel else None
