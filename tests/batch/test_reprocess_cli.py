"""``dataman process`` over folders: parallel, resumable, forced, interrupted, bad input.

Frames are small (roi 1kx1k, binning 2) and made once per module, then copied
into each test's dataDir. Expected names are written out by hand.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from astropy.io import fits

from tests.batch.conftest import (
    NAMES,
    NIGHT,
    delivered,
    files_state,
    hidden_files,
    lines_starting,
    run_dataman,
    uniqnames,
)
from tests.conftest import make_frame


@pytest.mark.slow
def test_twelve_frames_with_two_jobs_then_a_rerun_skips_and_force_replaces(config, frames):
    first = run_dataman("process", "--jobs", "2", config.paths.data_dir, "-c", config.source)
    assert first.returncode == 0, first.stdout + first.stderr
    done = lines_starting(first, "ok     ")
    assert sorted(line.split()[1] for line in done) == NAMES
    assert delivered(config) == NAMES
    assert sorted(os.listdir(config.paths.proc_dir / NIGHT)) == NAMES
    assert (config.paths.repo_dir / "MODS1B.new").read_text() == "mods1b.20251230.0012.fits\n"
    assert "  processed   12  new outputs" in first.stdout
    assert "2 worker processes on this machine" in first.stdout
    names_before = uniqnames(config.paths.repo_dir)
    assert len(set(names_before.values())) == 12
    paths = config.paths
    before = files_state(paths.repo_dir, paths.proc_dir, paths.state_dir / "uniqnames")

    again = run_dataman("process", "--jobs", "2", config.paths.data_dir, "-c", config.source)
    assert again.returncode == 0, again.stdout + again.stderr
    skipped = lines_starting(again, "skip   ")
    assert sorted(line.split()[1].rstrip(":") for line in skipped) == NAMES
    assert all("already delivered as" in line for line in skipped)
    assert lines_starting(again, "ok") == []
    assert files_state(paths.repo_dir, paths.proc_dir, paths.state_dir / "uniqnames") == before

    forced = run_dataman("process", "--jobs", "2", "--force", config.paths.data_dir,
                         "-c", config.source)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert len(lines_starting(forced, "redone ")) == 12
    assert sorted(os.listdir(paths.repo_dir)) == sorted([*NAMES, "MODS1B.new"])
    assert sorted(os.listdir(paths.proc_dir / NIGHT)) == NAMES
    assert uniqnames(paths.repo_dir) == names_before  # replaced under the same names
    after = files_state(paths.repo_dir)
    replaced = [name for name in before if name in after and after[name][0] != before[name][0]]
    assert len(replaced) == 13  # twelve frames and MODS1B.new, each a new file


@pytest.mark.slow
def test_a_corrupt_frame_fails_alone_and_the_exit_status_says_so(config, frames):
    corrupt = frames / NAMES[4]
    corrupt.write_bytes(corrupt.read_bytes()[:10000])
    run = run_dataman("process", "--jobs", "2", frames, "-c", config.source)
    assert run.returncode == 1
    assert delivered(config) == [name for name in NAMES if name != NAMES[4]]
    failed = lines_starting(run, "FAILED")
    assert len(failed) == 1 and failed[0].startswith(f"FAILED {corrupt}: ") \
        and "truncated" in failed[0]
    assert "1 of 12 frames failed" in run.stderr
    assert f"  failed: {corrupt}: " in run.stdout  # the reason again, in the summary


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_a_rerun_finishes_without_duplicates(config, frames):
    process = subprocess.Popen(
        [sys.executable, "-m", "dataman", "process", "--jobs", "2", frames, "-c", config.source],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not delivered(config):  # the condition: a first frame is in the archive
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no frame delivered within 120 s"
            time.sleep(0.005)
        os.killpg(process.pid, signal.SIGINT)  # as a terminal does: to every process of the group
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    done_first = sorted(line.split()[1] for line in stdout.splitlines() if line.startswith("ok"))
    assert 1 <= len(done_first) < 12, stdout
    assert delivered(config) == done_first  # every frame said done is whole in the archive
    assert hidden_files(config) == []
    not_started = int(re.search(r"^  not started +(\d+)", stdout, re.M).group(1))
    assert not_started == 12 - len(done_first)
    assert f"interrupted: {not_started} frames not started" in stderr

    rerun = run_dataman("process", "--jobs", "2", frames, "-c", config.source)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert sorted(line.split()[1].rstrip(":") for line in lines_starting(rerun, "skip")) \
        == done_first
    assert len(lines_starting(rerun, "ok")) == 12 - len(done_first)
    assert delivered(config) == NAMES
    assert sorted(os.listdir(config.paths.proc_dir / NIGHT)) == NAMES
    assert len(set(uniqnames(config.paths.repo_dir).values())) == 12
    assert hidden_files(config) == []


def test_bad_input_gets_a_line_each_and_the_good_frame_is_processed(config, tmp_path):
    good = make_frame(config, roi="1kx1k", binning=2, number=7)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no frames here")
    odd = tmp_path / "frame7.fits"
    odd.write_bytes(good.read_bytes())
    missing = tmp_path / "mods1b.20251230.0099.fits"

    run = run_dataman("process", "--jobs", "1", empty, odd, missing, good, "-c", config.source)

    assert run.returncode == 1
    form = "<chan>.<YYYYMMDD>.<NNNN>.fits, e.g. mods1b.20251230.0012.fits"
    lines = run.stdout.splitlines()
    assert lines[:3] == [
        f"REFUSED {empty}: no raw frames in this folder (names like {form})",
        f"REFUSED {odd}: not a raw frame name ({form})",
        f"REFUSED {missing}: no such file or folder"]
    assert lines[3].startswith(f"ok     {good.name} -> {config.paths.repo_dir / good.name}  ")
    assert delivered(config) == [good.name]
    assert "3 of 4 frames failed" in run.stderr


def test_a_folder_without_frames_alone_exits_1(config, tmp_path):
    run = run_dataman("process", tmp_path, "-c", config.source)
    assert run.returncode == 1
    assert run.stdout.startswith(f"REFUSED {tmp_path}: no raw frames in this folder")


def test_night_selects_frames_and_says_what_it_passed_over(config):
    wanted = make_frame(config, roi="1kx1k", binning=2, night="20251231", number=3)
    other = make_frame(config, roi="1kx1k", binning=2, night="20251230", number=3)
    run = run_dataman("process", "--jobs", "1", "--night", "20251231", wanted.parent, other,
                      "-c", config.source)
    assert run.returncode == 0, run.stdout + run.stderr
    assert lines_starting(run, "skip") == [
        f"skip   {other.name}: not of night 20251231 (--night)"]
    assert delivered(config) == [wanted.name]

    bad = run_dataman("process", "--night", "2025-12-31", wanted, "-c", config.source)
    assert bad.returncode == 2
    assert "not a night YYYYMMDD: '2025-12-31'" in bad.stderr


@pytest.mark.slow
def test_no_deliver_writes_procdir_only_and_a_later_run_delivers_the_same_file(config):
    frame = make_frame(config, roi="1kx1k", binning=2, number=4)
    local = run_dataman("process", "--no-deliver", frame, "-c", config.source)
    assert local.returncode == 0, local.stdout + local.stderr
    processed = config.paths.proc_dir / NIGHT / frame.name
    assert local.stdout.startswith(f"ok     {frame.name} -> {processed} (not delivered)")
    assert list(config.paths.repo_dir.iterdir()) == []
    uniqname = fits.getval(processed, "UNIQNAME")

    again = run_dataman("process", "--no-deliver", frame, "-c", config.source)
    assert again.stdout.startswith(f"skip   {frame.name}: already processed as {processed}")

    full = run_dataman("process", frame, "-c", config.source)
    assert full.returncode == 0, full.stdout + full.stderr
    assert full.stdout.startswith(f"redone {frame.name} -> {config.paths.repo_dir / frame.name}")
    assert sorted(os.listdir(config.paths.repo_dir)) == ["MODS1B.new", frame.name]
    assert os.listdir(config.paths.proc_dir / NIGHT) == [frame.name]
    assert fits.getval(config.paths.repo_dir / frame.name, "UNIQNAME") == uniqname


def test_scheduler_without_dask_says_how_to_install_it(config):
    frame = make_frame(config, roi="1kx1k", binning=2)
    hide_dask = ("import sys; sys.modules['distributed'] = None; from dataman.cli import main; "
                 "sys.exit(main(sys.argv[1:]))")
    run = subprocess.run([sys.executable, "-c", hide_dask, "process", "--scheduler",
                          "tcp://127.0.0.1:1", str(frame), "-c", str(config.source)],
                         capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 2
    assert "pip install 'dask[distributed]>=2024.1'" in run.stderr
    assert list(config.paths.repo_dir.iterdir()) == []


def test_jobs_must_be_a_positive_number(config):
    run = run_dataman("process", "--jobs", "0", "x.fits", "-c", config.source)
    assert run.returncode == 2
    assert "'0' is not a number of processes (1 or more)" in run.stderr
