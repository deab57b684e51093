"""A frame's identity: the one UNIQNAME it gets, kept for every later attempt.

The LBT Archive keys on ``UNIQNAME``, so a name may be given to one frame only,
ever, by anything this installation runs: the service's workers, ``dataman
process``, tonight or next year. The name is made from the processing time
(``mods1b.20251231.031246.fits``), so frames of different nights processed in
the same second would otherwise share it.

The registry lives in ``<stateDir>/uniqnames/`` as two small trees of marker
files, which any number of processes can use at once without a server:

.. code-block:: text

    uniqnames/names/20251231/mods1b.20251231.031246.fits   -> "mods1b.20251230.0143.fits"
    uniqnames/frames/20251230/mods1b.20251230.0143.fits    -> "mods1b.20251231.031246.fits"

A name is claimed by hard-linking a complete marker to its final path, which
fails if the name is taken (atomic across processes, also on NFS). The second
tree binds the raw frame to its name, so a retry, a restart or a reprocessing
finds the same UNIQNAME instead of claiming a new one.

>>> import tempfile, pathlib
>>> from datetime import datetime, UTC
>>> registry = UniqnameRegistry(pathlib.Path(tempfile.mkdtemp()))
>>> when = datetime(2025, 12, 31, 3, 12, 46, tzinfo=UTC)
>>> registry.assign("mods1b.20251230.0143.fits", "MODS1B", when)
'mods1b.20251231.031246.fits'
>>> registry.assign("mods1b.20251229.0007.fits", "MODS1B", when)
'mods1b.20251231.031246_2.fits'
>>> registry.assign("mods1b.20251230.0143.fits", "MODS1B", when)
'mods1b.20251231.031246.fits'
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from dataman.core.names import ANY_NAME, night_of

FOLDER = "uniqnames"
#: Where dataMan 0.1 kept its reservations: ``<procDir>/<night>/.uniqnames/<name>``.
LEGACY_FOLDER = ".uniqnames"


def uniqname_candidates(instrument: str, when: datetime) -> Iterator[str]:
    """``mods1b.20251230.031246.fits``, then ``..._2.fits``, ``..._3.fits`` ..."""
    stem = f"{instrument.lower()}.{when.astimezone(UTC):%Y%m%d.%H%M%S}"
    yield f"{stem}.fits"
    number = 2
    while True:
        yield f"{stem}_{number}.fits"
        number += 1


class UniqnameRegistry:
    """Every UNIQNAME this installation gave, and the raw frame it was given to."""

    def __init__(self, state_dir: Path) -> None:
        self.root = Path(state_dir) / FOLDER

    def uniqname_of(self, raw_name: str) -> str | None:
        """The UNIQNAME given to ``raw_name`` earlier, if any."""
        try:
            text = self._frame_marker(raw_name).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return text or None

    def assign(self, raw_name: str, instrument: str, when: datetime,
               taken: Callable[[str], bool] = lambda name: False) -> str:
        """The frame's UNIQNAME: the one it was given before, else a new one claimed now.

        ``taken`` says whether a candidate is in use by a file this registry
        does not know (written before it existed): such a name is passed over.
        Two processes assigning the same frame at once agree on one name.
        """
        known = self.uniqname_of(raw_name)
        if known:
            return known
        for candidate in uniqname_candidates(instrument, when):
            if not taken(candidate) and _claim(self._name_marker(candidate), raw_name):
                break
        return self.bind(raw_name, candidate)

    def bind(self, raw_name: str, uniqname: str) -> str:
        """Record that ``raw_name`` is known by ``uniqname`` (a file that carried it
        already); returns the name the frame is bound to, which stays the first one."""
        _claim(self._name_marker(uniqname), raw_name)
        if _claim(self._frame_marker(raw_name), uniqname):
            return uniqname
        return self.uniqname_of(raw_name) or uniqname

    def import_legacy(self, proc_dir: Path) -> int:
        """Take over the per-night reservations of dataMan 0.1 and remove them.

        They were hidden folders in the processed tree, which must hold
        nothing of ours but final files. Returns how many were taken over.
        """
        count = 0
        for folder in sorted(Path(proc_dir).glob(f"*/{LEGACY_FOLDER}")):
            markers = sorted(folder.iterdir(), key=lambda path: path.stat().st_mtime_ns)
            for marker in markers:
                raw_name = marker.read_text(encoding="ascii", errors="replace").strip()
                _claim(self._name_marker(marker.name), raw_name or "?")
                if raw_name:
                    self.bind(raw_name, marker.name)
                marker.unlink()
                count += 1
            folder.rmdir()
        return count

    def _name_marker(self, uniqname: str) -> Path:
        match = ANY_NAME.match(uniqname)
        return self.root / "names" / (match.group(2) if match else "other") / uniqname

    def _frame_marker(self, raw_name: str) -> Path:
        return self.root / "frames" / (night_of(raw_name) or "other") / raw_name


def _claim(marker: Path, content: str) -> bool:
    """Create ``marker`` holding ``content`` unless it exists: True if this call made it.

    The content is written to a private file first and then hard-linked, so a
    reader never sees an empty marker and two claimers cannot both win.
    """
    marker.parent.mkdir(parents=True, exist_ok=True)
    private = marker.parent / f".{marker.name}.{os.getpid()}-{secrets.token_hex(4)}"
    private.write_text(content + "\n", encoding="ascii", errors="replace")
    try:
        os.link(private, marker)
    except FileExistsError:
        return False
    finally:
        private.unlink()
    return True
