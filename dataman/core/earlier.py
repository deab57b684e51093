"""What an earlier run made of a frame: its processed file and its archive copy.

A frame is delivered once. Reprocessing (``dataman process``, the service's
catch-up scan) asks here first: a frame whose processed file and delivered
copy both exist is skipped unless forced, and a forced run replaces exactly
these files under the same names.

A file counts as this frame's output only if it carries the frame's UNIQNAME,
so a foreign file that happens to have the frame's name is never taken for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dataman.core.config import Config
from dataman.core.identity import UniqnameRegistry
from dataman.core.names import night_of


@dataclass(frozen=True)
class EarlierOutputs:
    uniqname: str | None
    processed: Path | None
    delivered: Path | None

    @property
    def complete(self) -> bool:
        """Processed and delivered: nothing left to do for this frame."""
        return self.processed is not None and self.delivered is not None


def earlier_outputs(config: Config, raw_name: str) -> EarlierOutputs:
    """The outputs this installation already wrote for ``raw_name``, found by name."""
    uniqname = UniqnameRegistry(config.paths.state_dir).uniqname_of(raw_name)
    night_dir = config.paths.proc_dir / (night_of(raw_name) or "")
    processed = _output_in(night_dir, raw_name, uniqname)
    if uniqname is None and processed is not None:  # written before the registry existed
        uniqname = uniqname_in(processed)
    delivered = _output_in(config.paths.repo_dir, raw_name, uniqname) if uniqname else None
    return EarlierOutputs(uniqname, processed, delivered)


def _output_in(folder: Path, raw_name: str, uniqname: str | None) -> Path | None:
    for name in (raw_name, uniqname):
        if name is None:
            continue
        path = folder / name
        carried = uniqname_in(path)
        if carried is not None and (uniqname is None or carried == uniqname):
            return path
    return None


def uniqname_in(path: Path) -> str | None:
    """The UNIQNAME in a file's primary header; None if there is no such readable file."""
    try:
        if not path.is_file():
            return None
    except OSError:  # a stale NFS handle, an I/O error: it cannot be told now
        return None
    # Imported here: the supervisor's catch-up scan asks this module about every frame
    # it finds, but only a frame with outputs needs a header read, and astropy would
    # otherwise add 0.3-0.5 s and 50 MB to every start of the service.
    from astropy.io import fits
    try:
        value = fits.getval(path, "UNIQNAME", ext=0)
    except (OSError, KeyError, ValueError, IndexError):
        return None
    return value.strip() if isinstance(value, str) and value.strip() else None
