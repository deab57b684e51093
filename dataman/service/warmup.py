"""A worker's warm-up: one small synthetic frame through the whole pipeline before it is ready.

The first frame a fresh process handles pays for what Python and the libraries do
once: astropy's FITS reader and header formatting taking their first calls,
numpy's first ufunc loops, ERFA, the makeOTM and delivery thread pools, the first
``link``/``rename`` in a new folder. That is tens of milliseconds on top of a
frame of about 0.1 s, and it would fall on the first frame after every start,
recycle or crash. So a worker processes a frame of its own first, and only then
tells the supervisor it is ready (``Hello``): every real frame, including the
first one it takes, runs at the steady pace.

The frame is a small simulated one (1kx1k binned 2x2, as azcam writes it), made
in a temporary folder together with its outputs and removed afterwards; nothing
reaches dataDir, procDir, repoDir, stateDir (thumbnails, the UNIQNAME registry,
the newest-frame records), the journal or the log. Its name,
``mods1b.00000000.0000.fits``, is one no camera writes (night 00000000 is no
date, azcam numbers from 1): even a stray copy could never be taken for a real
frame, nor give a real frame its UNIQNAME or thumbnail. It goes through private
buffers, not a slot: another worker may be using any slot at that moment. (The
slots' own first-touch cost is taken care of by ``ipc.mappings``.) A warm-up that
fails is logged by the caller; the worker serves anyway, only its first frame is
slower.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from dataman.core.buffers import Buffers
from dataman.core.config import Config
from dataman.core.pipeline import FrameResult, prepare, write_and_deliver
from dataman.sim.frames import FrameSpec, write_raw_frame

#: The warm-up frame: every step of a real one, a hundredth of the pixels, an impossible name.
SPEC = FrameSpec(instrument="MODS1B", roi="1kx1k", binning=2, night="00000000", number=0)


def warm_up(config: Config) -> float:
    """Process one synthetic frame with ``config``'s processing options; seconds taken.

    Raises what the pipeline raises (``DataManError``, ``OSError``) if it fails.
    """
    begun = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dataman-warmup-") as folder:
        local = _local_config(config, Path(folder))
        raw = write_raw_frame(local.paths.data_dir / SPEC.instrument.lower(), SPEC)
        size = raw.stat().st_size  # the raw blocks fit in it; the float32 image in twice it
        buffers = Buffers(raw=memoryview(bytearray(size)), merged=memoryview(bytearray(2 * size)))
        result = FrameResult(raw.name)
        prepared = prepare(raw, local, result, buffers)
        try:
            write_and_deliver(prepared, local, result, datetime.now(UTC))
        finally:
            del prepared  # its arrays view the buffers
    return time.perf_counter() - begun


def _local_config(config: Config, folder: Path) -> Config:
    """``config`` with every folder the pipeline touches moved into ``folder``."""
    paths = dataclasses.replace(config.paths, data_dir=folder / "data",
                                proc_dir=folder / "proc", repo_dir=folder / "newdata",
                                state_dir=folder / "state")
    for path in (paths.data_dir, paths.proc_dir, paths.repo_dir, paths.state_dir):
        path.mkdir()
    return dataclasses.replace(config, paths=paths)
