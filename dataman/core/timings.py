"""How per-step timings read in logs and summaries: ``read 13ms fixes 2ms otm 19ms ...``.

Its own small module so the supervisor and the demo can format timings without
importing the processing pipeline (numpy, astropy).
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
