"""Which theme colour says what, so the console reads the same in dark and light themes.

Panels drawn with Textual markup use the theme variables directly (``$text-success``);
Rich renderables (table cells, log lines) get the same colours resolved from the
app's current theme by :func:`rich_style`.
"""

from __future__ import annotations

from collections.abc import Mapping

RESULT = {"ok": "text-success", "warning": "text-warning", "waiting": "text-accent",
          "failed": "text-error"}
STATE = {"running": "text-success", "paused": "text-warning", "stopping": "text-warning",
         "disconnected": "text-error"}
WORKER = {"busy": "text-primary", "idle": "text-success", "starting": "text-warning",
          "stopping": "text-warning", "exited": "text-error"}
QUALITY = {"OK": "text-success", "WARN": "text-warning", "BAD": "text-error"}
LEVEL = {"WARNING": "text-warning", "ERROR": "text-error", "CRITICAL": "text-error"}
HEALTH = {0: "text-success", 1: "text-warning", 2: "text-error"}
#: One colour per step of ``dataman.core.timings.STEPS``, in pipeline order.
STEP = {"read": "primary", "fixes": "secondary", "otm": "accent",
        "checks": "primary-lighten-3", "write": "success", "deliver": "warning",
        "thumbnail": "secondary-lighten-3"}


def rich_style(variables: Mapping[str, str], tone: str | None, *, bold: bool = False) -> str:
    """A Rich style string for a theme variable name (``dim`` when there is none)."""
    colour = variables.get(tone, "") if tone else ""
    style = colour if colour.startswith("#") and len(colour) == 7 else ("" if tone else "dim")
    return f"bold {style}".strip() if bold else style
