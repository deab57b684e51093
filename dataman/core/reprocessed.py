"""What ``dataman process`` did to each frame, kept for the night report.

The night report covers every frame of a night this installation processed,
live by the service or afterwards by ``dataman process`` (a night reprocessed
next morning, a season on a cluster). The service's frames are in its
journal; a batch run's are here, one JSON object per line in
``<stateDir>/processed/<night>.jsonl``, the night taken from the frame's name.

Why a file of its own and not the journal: the journal belongs to the service
(one writer, a state machine for live requests that a reprocessed frame never
goes through), and ``dataman process`` runs beside it, even while it runs.
Why not the processed files' headers: they hold the verdict but not the
step times, and reading a season's MERGED headers back costs a read of every
file. The run's parent process, the one writer of its night log, appends one
line per frame as each outcome arrives, so the report reads what the workers
found at no extra cost; a frame processed again later has a newer line, and
the newest line of a name is the one the report shows.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> append(folder, {"name": "mods1b.20251230.0001.fits", "state": "delivered"})
>>> [item["name"] for item in read(folder, "20251230")]
['mods1b.20251230.0001.fits']
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dataman.core.names import night_of

FOLDER = "processed"


def path_of(state_dir: Path, night: str) -> Path:
    """``<stateDir>/processed/<night>.jsonl``."""
    return Path(state_dir) / FOLDER / f"{night}.jsonl"


def append(state_dir: Path, record: dict[str, Any]) -> None:
    """Add ``record`` (it has the frame's ``name``) to its night's file.

    One ``write`` of one line to a file opened for appending, so two runs of
    ``dataman process`` at once never interleave within a line.
    """
    night = night_of(str(record["name"]))
    if night is None:
        return  # not a raw frame name: the batch refuses those before processing
    path = path_of(state_dir, night)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


def read(state_dir: Path, night: str) -> list[dict[str, Any]]:
    """Every frame's newest record of ``night``, in the order first recorded; a line
    that is not a JSON object with a name (cut short by a crash) is passed over."""
    try:
        text = path_of(state_dir, night).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    records: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            records[item["name"]] = item
    return list(records.values())
