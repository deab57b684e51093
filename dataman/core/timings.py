"""How times read in logs, summaries and displays: ``read 13ms fixes 2ms otm 19ms ...``, ``12m05s``.

Its own small module so the supervisor, the demo, ``dataman health`` and the console
format times alike without importing the processing pipeline (numpy, astropy).
"""

from __future__ import annotations

from collections.abc import Mapping

STEPS = ("read", "fixes", "otm", "checks", "write", "deliver", "thumbnail")


def format_step_timings(timings: Mapping[str, float], *, total: bool = False) -> str:
    """The steps present, in pipeline order, in milliseconds; ``total`` appends their sum.

    >>> format_step_timings({"otm": 0.019, "read": 0.0131}, total=True)
    'read 13ms otm 19ms total 32ms'
    """
    parts = [f"{step} {timings[step] * 1e3:.0f}ms" for step in STEPS if step in timings]
    if total:
        parts.append(f"total {sum(timings.values()) * 1e3:.0f}ms")
    return " ".join(parts)


def duration(seconds: float) -> str:
    """``14s``, ``12m05s``, ``3h12m``, ``2d03h``: two units at most, for a narrow display.

    >>> duration(14.7), duration(725), duration(11520), duration(183600)
    ('14s', '12m05s', '3h12m', '2d03h')
    """
    total = max(0, int(seconds))
    minutes, secs = divmod(total, 60)
    hours, mins = divmod(minutes, 60)
    days, hrs = divmod(hours, 24)
    if days:
        return f"{days}d{hrs:02d}h"
    if hours:
        return f"{hours}h{mins:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
