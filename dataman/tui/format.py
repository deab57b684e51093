"""Short, fixed-width renderings of durations, sizes and times for the console panels."""

from __future__ import annotations

import time

from dataman.core.timings import duration as long_duration

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def duration(seconds: float | None) -> str:
    """``0.42 s``, ``42 s``, ``12m05s``, ``3h12m``, ``2d03h``; ``-`` when unknown.

    >>> duration(0.423), duration(42.4), duration(725), duration(11520), duration(183600)
    ('0.42 s', '42 s', '12m05s', '3h12m', '2d03h')
    """
    if seconds is None:
        return "-"
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    return long_duration(seconds)  # from a minute on, as ``dataman health`` writes it


def seconds(value: object) -> str:
    """A step time or latency: ``15ms`` under a second, ``1.82s`` above; ``-`` when unknown.

    >>> seconds(0.0153), seconds(1.823), seconds(None)
    ('15ms', '1.82s', '-')
    """
    if not isinstance(value, int | float):
        return "-"
    if value < 0.9995:
        return f"{value * 1000:.0f}ms"
    return f"{value:.2f}s" if value < 100 else duration(value)


def size(count: float | None) -> str:
    """Bytes in decimal units: ``512 B``, ``1.5 MB``, ``120 GB``; ``-`` when unknown.

    >>> size(512), size(1_500_000), size(120e9)
    ('512 B', '1.5 MB', '120 GB')
    """
    if count is None:
        return "-"
    value = float(count)
    for unit in _UNITS:
        if value < 1000 or unit == _UNITS[-1]:
            break
        value /= 1000
    if unit == "B":
        return f"{value:.0f} B"
    return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"


def clock(epoch: float | None) -> str:
    """UTC time of day, ``HH:MM:SS`` (the night log's time scale); ``-`` when unknown.

    >>> clock(1767064366.1)
    '03:12:46'
    """
    if epoch is None:
        return "-"
    return time.strftime("%H:%M:%S", time.gmtime(epoch))


def since(epoch: float | None, now: float) -> str:
    """How long ago ``epoch`` was, as :func:`duration`; ``-`` when unknown."""
    return "-" if epoch is None else duration(now - epoch)


def short_name(name: object) -> str:
    """A frame name without its ``.fits`` suffix, to save table width.

    >>> short_name("mods1b.20251230.0143.fits")
    'mods1b.20251230.0143'
    """
    text = "" if name is None else str(name)
    return text.removesuffix(".fits")
