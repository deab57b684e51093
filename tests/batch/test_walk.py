"""Which files a PATH stands for: raw frame names only, each frame once, in exposure order."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dataman.batch.walk import select_frames


def touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_folder_is_walked_for_raw_names_in_exposure_order(tmp_path):
    data = tmp_path / "data"
    for name in ("mods1b.20251231.0002.fits", "mods1b.20251230.0010.fits",
                 "mods1b.20251230.0009.fits", "notes.txt", "mods1b.20251230.0009.fits.bak",
                 "flat.fits", ".mods1b.20251230.0003.fits.host-1-0badcafe.part"):
        touch(data / "mods1b" / name)
    touch(data / "mods2r" / "deep" / "mods2r.20251230.0001.fits")
    touch(data / ".hidden" / "mods1r.20251230.0001.fits")

    selection = select_frames([data])

    assert [p.relative_to(data).as_posix() for p in selection.frames] == [
        "mods2r/deep/mods2r.20251230.0001.fits", "mods1b/mods1b.20251230.0009.fits",
        "mods1b/mods1b.20251230.0010.fits", "mods1b/mods1b.20251231.0002.fits"]
    assert selection.refusals == []


def test_outputs_are_neither_walked_nor_taken(tmp_path):
    data, proc = tmp_path / "data", tmp_path / "data" / "proc"
    raw = touch(data / "mods1b.20251230.0001.fits")
    output = touch(proc / "20251230" / "mods1b.20251230.0001.fits")

    walked = select_frames([data], outputs=[proc])
    named = select_frames([output, proc], outputs=[proc])

    assert walked.frames == [raw] and walked.refusals == []
    assert named.frames == []
    assert [(r.path, r.reason) for r in named.refusals] == [
        (str(output), f"is in {proc}, where dataMan writes its outputs (not raw frames)"),
        (str(proc), f"is in {proc}, where dataMan writes its outputs (not raw frames)")]


def test_each_bad_path_is_refused_with_its_reason(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    touch(empty / "notes.txt")
    odd = touch(tmp_path / "x.fits")
    missing = tmp_path / "nothing"

    selection = select_frames([empty, odd, missing])

    assert selection.frames == []
    form = "<chan>.<YYYYMMDD>.<NNNN>.fits, e.g. mods1b.20251230.0012.fits"
    assert [(r.path, r.reason) for r in selection.refusals] == [
        (str(empty), f"no raw frames in this folder (names like {form})"),
        (str(odd), f"not a raw frame name ({form})"),
        (str(missing), "no such file or folder")]


def test_the_same_file_twice_is_one_frame_and_a_second_file_of_its_name_is_refused(tmp_path):
    first = touch(tmp_path / "a" / "mods1b.20251230.0001.fits")
    other = touch(tmp_path / "b" / "mods1b.20251230.0001.fits")

    selection = select_frames([first, tmp_path / "a", tmp_path / "a" / ".." / "a", other])

    assert selection.frames == [first]
    assert [(r.path, r.reason) for r in selection.refusals] == [
        (str(other), f"another file of this frame name is taken: {first}; "
                     "a frame is processed once")]


def test_night_keeps_frames_of_those_nights_and_sets_named_others_aside(tmp_path):
    data = tmp_path / "data"
    keep = touch(data / "mods1b.20251231.0001.fits")
    touch(data / "mods1b.20251230.0001.fits")
    named = touch(tmp_path / "mods1r.20251229.0004.fits")
    other = tmp_path / "other"
    touch(other / "mods1b.20251229.0001.fits")

    selection = select_frames([data, named, other], nights={"20251231"})

    assert selection.frames == [keep]
    assert selection.other_nights == [named]
    assert [(r.path, r.reason[:38]) for r in selection.refusals] == [
        (str(other), "no raw frames of night 20251231 in thi")]


#: The walk in a child process, printing what it selected and refused as JSON.
WALK = """
import json, sys
from pathlib import Path
from dataman.batch.walk import select_frames
selection = select_frames([Path(sys.argv[1])])
print(json.dumps([[str(p) for p in selection.frames],
                  [[r.path, r.reason] for r in selection.refusals]]))
"""


def walk_without_privileges(folder: Path) -> tuple[list[str], list[list[str]]]:
    """``select_frames`` as an operator's account would run it. Root reads any folder, so
    as root the walk runs without capabilities (as the systemd unit runs the service):
    ``setpriv`` drops them all, and a folder of mode 0 is then closed to it too."""
    command = [sys.executable, "-c", WALK, str(folder)]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root, and setpriv (util-linux) is not installed to drop capabilities")
        command = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", *command]
    run = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    frames, refusals = json.loads(run.stdout)
    return frames, refusals


def test_a_folder_that_cannot_be_listed_is_said_and_the_rest_is_walked(tmp_path):
    frame = touch(tmp_path / "open" / "mods1b.20251230.0001.fits")
    closed = tmp_path / "closed"
    touch(closed / "mods1b.20251230.0002.fits")
    closed.chmod(0)
    try:
        frames, refusals = walk_without_privileges(tmp_path)
    finally:
        closed.chmod(0o755)
    assert frames == [str(frame)]
    assert refusals == [[str(closed), "cannot be read: Permission denied"]]
