"""What became of the frames a case requested, from the journal and the folders alone.

A frame is *delivered* when the journal says so and its copy in repoDir is
complete (same size as the processed file, whole FITS blocks); *failed* when
the journal says failed and gives a reason; anything else is *lost*. The
folders are checked too: a visible file that is not complete (``partial``),
an output no requested frame accounts for (``extra``: a UNIQNAME copy made by
a retry), and hidden temporaries left behind (``leftovers``), also among the
thumbnails in stateDir.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataman.core.blocks import BLOCK
from dataman.core.publish import TEMPORARY
from dataman.core.quality.thumbnail_place import FOLDER as THUMBNAILS
from dataman.service.records import FILE_NAME as JOURNAL_FILE


@dataclass
class Tally:
    requested: int = 0
    delivered: int = 0
    failed: int = 0
    lost: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # failed name -> reason
    partial: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.partial or self.extra or self.leftovers)

def journal_rows(state_dir: Path) -> dict[str, dict[str, Any]]:
    """name -> row of the journal, read-only (the service may be running)."""
    path = state_dir / JOURNAL_FILE
    if not path.exists():
        return {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        return {row["name"]: dict(row) for row in db.execute("SELECT * FROM frames")}


def account(state_dir: Path, proc_dir: Path, repo_dir: Path,
            requested: Iterable[str]) -> Tally:
    rows, names = journal_rows(state_dir), sorted(set(requested))
    tally = Tally(requested=len(names))
    for name in names:
        row = rows.get(name)
        if row and row["state"] == "delivered" and _complete_copy(row):
            tally.delivered += 1
        elif row and row["state"] == "failed" and (row["reason"] or "").strip():
            tally.failed += 1
            tally.reasons[name] = row["reason"]
        else:
            tally.lost.append(f"{name}: {row['state'] if row else 'not in the journal'}")
    accounted = {Path(row["delivered_path"]).name for row in rows.values()
                 if row["delivered_path"]}
    tally.extra = sorted(p.name for p in _outputs(repo_dir) if p.name not in accounted)
    thumbnails = _night_folders(state_dir / THUMBNAILS)
    for folder in [repo_dir, *_night_folders(proc_dir), *thumbnails]:
        tally.partial += [str(p) for p in _outputs(folder) if not _whole_blocks(p)]
        tally.leftovers += [str(p) for p in _hidden_temporaries(folder)]
    return tally


def _complete_copy(row: dict[str, Any]) -> bool:
    delivered = Path(row["delivered_path"] or "")
    processed = Path(row["processed_path"] or "")
    try:
        return delivered.stat().st_size == processed.stat().st_size and _whole_blocks(delivered)
    except OSError:
        return False


def _whole_blocks(path: Path) -> bool:
    try:
        size = path.stat().st_size
        with open(path, "rb") as stream:
            return size > 0 and size % BLOCK == 0 and stream.read(9) == b"SIMPLE  ="
    except OSError:
        return False


def _outputs(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.suffix == ".fits" and not p.name.startswith(".")]
    except OSError:
        return []


def _night_folders(proc_dir: Path) -> list[Path]:
    try:
        return [p for p in proc_dir.iterdir() if p.is_dir()]
    except OSError:
        return []


def _hidden_temporaries(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if TEMPORARY.match(p.name)]
    except OSError:
        return []
