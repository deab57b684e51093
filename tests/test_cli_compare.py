"""``dataman compare``: two trees of processed frames, differences put in with astropy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dataman.core.config import load_config
from dataman.core.pipeline import process_frame
from tests.compare_fixtures import (
    NEW_OBJECT,
    STEP,
    change_by_design,
    copy_tree,
    inject_differences,
    section,
)
from tests.conftest import make_frame, write_config

NIGHT = "20251230"
NAMES = [f"mods1b.{NIGHT}.0001.fits", f"mods1b.{NIGHT}.0002.fits", f"mods1r.{NIGHT}.0003.fits"]


def run_compare(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dataman", "compare", *map(str, args)],
                          capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    """procDir of three small frames processed by dataMan (not delivered)."""
    folder = tmp_path_factory.mktemp("ours")
    config = load_config(write_config(folder))
    for number, instrument in ((1, "MODS1B"), (2, "MODS1B"), (3, "MODS1R")):
        raw = make_frame(config, instrument=instrument, night=NIGHT, number=number,
                         seed=number, roi="1kx1k", binning=2)
        process_frame(raw, config, deliver=False)
    assert sorted(path.name for path in (config.paths.proc_dir / NIGHT).iterdir()) == NAMES
    return config.paths.proc_dir


def test_an_injected_header_and_pixel_difference_and_nothing_else_are_unexpected(
        processed, tmp_path):
    old = copy_tree(processed / NIGHT, tmp_path / "old")
    before, _ = inject_differences(old / NAMES[1])
    run = run_compare(old, processed, "--night", NIGHT)
    assert run.returncode == 1, run.stdout + run.stderr
    assert section(run.stdout, "Frames only in one folder") == ["(none)"]
    assert section(run.stdout, "Unexpected header differences") == [
        "frame extension keyword old new",
        f"{NAMES[1]} PRIMARY OBJECT '{NEW_OBJECT}' '{before}'"]
    assert section(run.stdout, "Pixel differences") == [
        "frame extension pixels max |diff|", f"{NAMES[1]} IM2 1 {STEP}"]
    assert section(run.stdout, "Expected header differences (dataMan changes these by "
                               "design)") == ["(none)"]  # a copy: same UNIQNAME
    assert run.stdout.splitlines()[-1] == (
        f"night {NIGHT}: 3 frames compared, 0 only in old, 0 only in new; 0 expected header "
        "differences; 1 unexpected header differences, 1 extensions with different pixels: "
        "UNEXPECTED DIFFERENCES")


def test_differences_made_by_design_alone_exit_zero_and_are_listed_apart(processed, tmp_path):
    old = copy_tree(processed / NIGHT, tmp_path / "old")
    for name in NAMES[:2]:
        change_by_design(old / name)
    run = run_compare(old, processed / NIGHT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert section(run.stdout, "Expected header differences (dataMan changes these by "
                               "design)") == ["keyword extensions frames", "DETSEC IM1 2",
                                              "HJD-OBS PRIMARY 2", "QCFLAGS MERGED 2",
                                              "QCSTATUS MERGED 2"]
    assert section(run.stdout, "Unexpected header differences") == ["(none)"]
    assert section(run.stdout, "Pixel differences") == ["(none)"]
    assert run.stdout.splitlines()[-1].endswith(": only expected")


def test_frames_only_in_one_folder_are_listed_and_unexpected(processed, tmp_path):
    old = copy_tree(processed / NIGHT, tmp_path / "old")
    (old / NAMES[2]).unlink()
    (old / f"mods1b.{NIGHT}.0009.fits").write_bytes((old / NAMES[0]).read_bytes())
    run = run_compare(old, processed, "--night", NIGHT)
    assert run.returncode == 1
    assert section(run.stdout, "Frames only in one folder") == [
        "frame", f"only in old mods1b.{NIGHT}.0009.fits", f"only in new {NAMES[2]}"]


def test_a_night_s_procdir_folder_is_found_and_other_nights_are_left_out(processed, tmp_path):
    old = copy_tree(processed, tmp_path / "old")
    other = old / NIGHT / "mods1b.20251231.0001.fits"
    other.write_bytes((old / NIGHT / NAMES[0]).read_bytes())
    run = run_compare(old, processed, "--night", NIGHT)
    assert run.returncode == 0, run.stdout
    assert run.stdout.splitlines()[:2] == [f"old: {old / NIGHT} (3 frames)",
                                           f"new: {processed / NIGHT} (3 frames)"]


def test_an_unreadable_file_is_an_unexpected_difference_not_a_traceback(processed, tmp_path):
    old = copy_tree(processed / NIGHT, tmp_path / "old")
    (old / NAMES[0]).write_bytes(b"not FITS at all")
    run = run_compare(old, processed / NIGHT)
    assert run.returncode == 1
    assert "Traceback" not in run.stdout + run.stderr
    assert section(run.stdout, "Unexpected header differences")[1].startswith(
        f"{NAMES[0]} (file) cannot read:")


@pytest.mark.parametrize("which", ["old", "new"])
def test_a_missing_folder_is_named_with_exit_2(processed, tmp_path, which):
    missing = tmp_path / "nowhere"
    args = (missing, processed) if which == "old" else (processed, missing)
    run = run_compare(*args)
    role = "OLD_DIR" if which == "old" else "NEW_DIR"
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == f"dataman compare: {role} {missing}: no such folder\n"


def test_a_bad_night_is_a_usage_error(processed):
    run = run_compare(processed, processed, "--night", "2025-12-30")
    assert run.returncode == 2
    assert "not a night YYYYMMDD: '2025-12-30'" in run.stderr
