"""``python -m tests.reliability``: run the campaign (tests/reliability) and print the table.

Run from the root of the checkout. Extra arguments go to pytest,
e.g. ``python -m tests.reliability -k flood``. Exit status: pytest's, or 1
when any frame was lost.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.reliability.report import OUTPUT_VARIABLE, load, table, totals

CASES = Path(__file__).resolve().parent
CHECKOUT = CASES.parents[1]


def main(argv: list[str] | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="dm-campaign") as folder:
        output = Path(folder) / "rows.jsonl"
        environment = os.environ | {OUTPUT_VARIABLE: str(output)}
        command = [sys.executable, "-m", "pytest", str(CASES), "-q", "-p", "no:cacheprovider",
                   *(argv if argv is not None else sys.argv[1:])]
        status = subprocess.run(command, cwd=CHECKOUT, env=environment, check=False).returncode
        rows = load(output)
    print()
    print(table(rows))
    summary = totals(rows)
    print(f"\n{summary['cases']} cases: {summary['requested']} frames requested, "
          f"{summary['delivered']} delivered, {summary['failed']} failed with a reason, "
          f"{summary['lost']} lost")
    if summary["not passed"]:
        print("not as expected: " + ", ".join(summary["not passed"]))
    return status or (1 if summary["lost"] else 0)


if __name__ == "__main__":
    sys.exit(main())
