"""What a killed writer leaves among the thumbnails is swept like what it leaves in procDir.

The temporaries here are real leftovers: a child process creates one the way a worker
does (locked, hidden, named after the final file) and is killed with SIGKILL holding it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from dataman.core.publish import TEMPORARY, _create_temporary, _open_folder
from dataman.core.quality.thumbnail import keep_thumbnail, thumbnail_path
from dataman.service.leftovers import clear_installation, remove_leftovers

FRAME = "mods1b.20251230.0007.fits"
OTHER = "mods1r.20251230.0008.fits"

#: A writer that makes its temporary for a final name, says so, and waits to be killed.
KILLED_WRITER = """
import sys, time
from dataman.core.publish import _create_temporary, _open_folder
fd, name = _create_temporary(_open_folder(sys.argv[1]), sys.argv[2])
print(name, flush=True)
time.sleep(60)
"""


def killed_writer_leaves(folder: Path, final_name: str) -> Path:
    """The temporary of a writer of ``final_name`` in ``folder`` killed mid-write."""
    folder.mkdir(parents=True, exist_ok=True)
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(folder), final_name],
                              stdout=subprocess.PIPE, text=True)
    try:
        temporary = folder / writer.stdout.readline().strip()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()
    assert TEMPORARY.match(temporary.name) and temporary.exists()
    return temporary


def test_a_dead_worker_s_thumbnail_temporary_is_removed_with_its_frame_s(config):
    paths = config.paths
    thumbnail = thumbnail_path(paths.state_dir, "20251230", FRAME)
    abandoned = killed_writer_leaves(thumbnail.parent, thumbnail.name)
    output = killed_writer_leaves(paths.proc_dir / "20251230", FRAME)
    others = killed_writer_leaves(thumbnail.parent, thumbnail_path(
        paths.state_dir, "20251230", OTHER).name)  # another frame's: not this sweep's

    removed = remove_leftovers(paths, [FRAME])

    assert sorted(removed) == sorted([abandoned, output])
    assert not abandoned.exists() and not output.exists() and others.exists()


def test_the_start_sweep_removes_thumbnail_temporaries_of_any_night(config):
    paths = config.paths
    thumbnails = [thumbnail_path(paths.state_dir, night, FRAME)
                  for night in ("20251229", "20251230")]
    abandoned = [killed_writer_leaves(path.parent, path.name) for path in thumbnails]
    live_folder = thumbnail_path(paths.state_dir, "20251230", OTHER).parent
    folder_fd = _open_folder(live_folder)
    fd, live = _create_temporary(folder_fd, "being-written.png")  # we hold its lock
    try:
        removed = clear_installation(paths)
        assert (live_folder / live).exists(), "a temporary a live writer holds was removed"
    finally:
        os.close(fd)
        os.close(folder_fd)
    assert sorted(removed) == sorted(abandoned)


def test_a_thumbnail_is_written_whole_and_leaves_no_temporary(tmp_path):
    merged = np.arange(64 * 64, dtype=">f4").reshape(64, 64)
    for _ in range(2):  # the second replaces the first
        assert keep_thumbnail(merged, tmp_path, "20251230", FRAME) is None
    folder = thumbnail_path(tmp_path, "20251230", FRAME).parent
    assert [path.name for path in folder.iterdir()] == ["mods1b.20251230.0007.png"]
    assert (folder / "mods1b.20251230.0007.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
