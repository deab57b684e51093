"""``dataman process``: one line per frame with timings; non-zero exit naming why."""

import os
import subprocess
import sys

import psutil
import pytest
from astropy.io import fits

from dataman.service.lock import InstanceLock
from tests.conftest import make_frame


def run_dataman(*args):
    return subprocess.run([sys.executable, "-m", "dataman", *map(str, args)],
                          capture_output=True, text=True, check=False, timeout=120)


def test_process_prints_timings_and_fails_naming_the_bad_frame(config):
    good = make_frame(config, roi="1kx1k", binning=2, number=1)
    bad = make_frame(config, roi="1kx1k", binning=2, number=2)
    bad.write_bytes(bad.read_bytes()[:10000])
    run = run_dataman("process", good, bad, "-c", config.source)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    ok_line = next(line for line in lines if good.name in line)
    assert ok_line.startswith("ok")
    for step in ("read", "fixes", "otm", "write", "deliver", "total"):
        assert f"{step} " in ok_line
    failed = next(line for line in lines if bad.name in line)
    assert failed.startswith("FAILED") and "truncated" in failed
    assert "1 of 2 frames failed" in run.stderr
    log = next(config.paths.log_dir.glob("mods1dm.*.txt")).read_text()
    assert f"| INFO | {good.name}: delivered" in log
    assert f"| ERROR | {bad.name}: failed:" in log or f"| ERROR | {bad}: failed:" in log


def test_process_succeeds_with_exit_zero(config):
    frame = make_frame(config, roi="3kx3k", binning=2, instrument="MODS2R")
    run = run_dataman("process", frame, "-c", config.source)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (config.paths.repo_dir / "MODS2R.new").read_text() == frame.name + "\n"


def test_bad_configuration_exits_78(tmp_path):
    (tmp_path / "bad.ini").write_text("[workers]\ncount = lots\n")
    run = run_dataman("process", "nothing.fits", "-c", tmp_path / "bad.ini")
    assert run.returncode == 78
    assert "[workers] count" in run.stderr


def _repo_state(config):
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in config.paths.repo_dir.iterdir()}


@pytest.mark.slow  # runs of the command, a process each
def test_a_delivered_frame_is_skipped_and_forced_it_replaces_its_own_outputs(config):
    frame = make_frame(config, roi="1kx1k", binning=2, number=5)
    first = run_dataman("process", frame, "-c", config.source)
    assert first.returncode == 0, first.stdout + first.stderr
    delivered = config.paths.repo_dir / frame.name
    uniqname = fits.getval(delivered, "UNIQNAME")
    before = _repo_state(config)
    night = sorted(p.name for p in (config.paths.proc_dir / "20251230").iterdir())

    again = run_dataman("process", frame, "-c", config.source)
    assert again.returncode == 0
    assert again.stdout.startswith(f"skip   {frame.name}: already delivered as {delivered}")
    assert _repo_state(config) == before

    forced = run_dataman("process", "--force", frame, "-c", config.source)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert forced.stdout.startswith(f"redone {frame.name} -> {delivered}")
    after = _repo_state(config)
    assert sorted(after) == sorted(before) == ["MODS1B.new", frame.name]
    assert after[frame.name] != before[frame.name]  # a new file under the same name
    assert fits.getval(delivered, "UNIQNAME") == uniqname
    assert sorted(p.name for p in (config.paths.proc_dir / "20251230").iterdir()) == night


def test_a_file_not_named_as_a_raw_frame_is_refused(config):
    frame = make_frame(config, roi="1kx1k", binning=2, instrument="MODS2R")
    copy = frame.with_name("x.fits")
    copy.write_bytes(frame.read_bytes())
    run = run_dataman("process", copy, "-c", config.source)
    assert run.returncode == 1
    assert run.stdout.splitlines()[0] == (f"REFUSED {copy}: not a raw frame name (<chan>."
                                          "<YYYYMMDD>.<NNNN>.fits, e.g. mods1b.20251230.0012.fits)")
    assert list(config.paths.repo_dir.iterdir()) == []


def test_process_prints_each_frames_quality_and_logs_the_flagged_ones(config):
    clean = make_frame(config, roi="1kx1k", binning=2, number=1)
    saturated = make_frame(config, roi="1kx1k", binning=2, number=2, saturated={"IM3": 0.05})
    run = run_dataman("process", clean, saturated, "-c", config.source)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert next(line for line in lines if clean.name in line).endswith("  quality OK")
    assert next(line for line in lines if saturated.name in line).endswith(
        "  quality WARN IM3:sat")
    assert "       quality: IM3:sat: IM3 5.00% of pixels at 65535 (limit 1.00%)" in lines
    log = next(config.paths.log_dir.glob("mods1dm.*.txt")).read_text()
    assert f"| WARNING | {saturated.name}: quality WARN IM3:sat (IM3 5.00%" in log
    assert f"{clean.name}: quality" not in log


#: Runs ``dataman process``, then prints the command's own nice value and I/O class: its
#: worker processes, started by it, inherit both.
PROCESS_THEN_PRIORITY = """
import os, sys, psutil
from dataman.cli import main
status = main(sys.argv[1:])
print("priority", os.getpriority(os.PRIO_PROCESS, 0), int(psutil.Process().ionice().ioclass))
sys.exit(status)
"""


@pytest.mark.slow  # runs of the command, a process each
def test_beside_the_running_service_process_says_so_and_runs_one_idle_job(config):
    frames = [make_frame(config, roi="1kx1k", binning=2, number=number) for number in (1, 2)]
    lock = InstanceLock.acquire(config.paths.state_dir)  # this test is the running service
    try:
        run = subprocess.run([sys.executable, "-c", PROCESS_THEN_PRIORITY, "process", *frames,
                              "-c", config.source], capture_output=True, text=True,
                             timeout=120)
        forced = subprocess.run([sys.executable, "-m", "dataman", "process", "--force",
                                 "--jobs", "2", *frames, "-c", config.source],
                                capture_output=True, text=True, timeout=120)
    finally:
        lock.release()
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"dataman process: the service is running (pid {os.getpid()}): frames are " \
           "processed one at a time at idle CPU and I/O priority" in run.stderr
    assert "(1 worker process on this machine)" in run.stderr + run.stdout
    assert run.stdout.splitlines()[-1] == f"priority 19 {psutil.IOPRIO_CLASS_IDLE}"
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert f"dataman process: warning: the service is running (pid {os.getpid()}): " \
           "--jobs 2 honoured, at idle CPU and I/O priority" in forced.stderr
    assert "(2 worker processes on this machine)" in forced.stderr + forced.stdout


def test_without_the_service_process_says_nothing_of_it(config):
    frame = make_frame(config, roi="1kx1k", binning=2, number=3)
    run = run_dataman("process", "--jobs", "1", frame, "-c", config.source)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "service" not in run.stderr
