"""Rows of the campaign: recorded by the tests as JSON lines, printed as one table."""

from __future__ import annotations

import json
import os
import textwrap
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: The file the tests append their rows to (set by ``python -m tests.reliability``).
OUTPUT_VARIABLE = "DATAMAN_CAMPAIGN_OUT"
COLUMNS = (("case", 30), ("expected", 34), ("observed", 52))


@dataclass
class Row:
    case: str
    expected: str
    observed: str
    requested: int = 0
    delivered: int = 0
    failed: int = 0
    lost: int = 0
    passed: bool = True


def record(row: Row) -> None:
    """Append ``row`` to the campaign file, if a campaign is running."""
    target = os.environ.get(OUTPUT_VARIABLE)
    if target:
        with open(target, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(asdict(row)) + "\n")


def load(path: Path) -> list[Row]:
    if not path.exists():
        return []
    return [Row(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def table(rows: list[Row]) -> str:
    """The campaign as a fixed-width text table, long cells wrapped."""
    header = [name for name, _ in COLUMNS] + ["req", "deliv", "failed", "lost"]
    widths = [width for _, width in COLUMNS] + [5, 5, 6, 4]
    lines = [_line(header, widths), _line(["-" * w for w in widths], widths)]
    for row in rows:
        cells = [textwrap.wrap(str(getattr(row, name)), width) or [""]
                 for name, width in COLUMNS]
        counts = [str(row.requested), str(row.delivered), str(row.failed), str(row.lost)]
        for index in range(max(len(cell) for cell in cells)):
            texts = [cell[index] if index < len(cell) else "" for cell in cells]
            lines.append(_line(texts + (counts if index == 0 else [""] * 4), widths))
    return "\n".join(lines)


def totals(rows: list[Row]) -> dict[str, Any]:
    return {"cases": len(rows), "requested": sum(r.requested for r in rows),
            "delivered": sum(r.delivered for r in rows),
            "failed": sum(r.failed for r in rows), "lost": sum(r.lost for r in rows),
            "not passed": [r.case for r in rows if not r.passed]}


def _line(cells: list[str], widths: list[int]) -> str:
    return " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
