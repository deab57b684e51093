"""The staging disk missing, read-only or full for a while; log and state folders
unusable (procDir and stateDir full: test_full_disks.py). Frames wait (never dropped)
or fail with the reason; nothing partial."""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys

import pytest

from tests.service_harness import frames, wait_until

pytestmark = pytest.mark.slow
WAITS = "frames wait in procDir, delivered in order once the disk is back; none lost"


def fill(path) -> bool:
    """Write ``path`` until its file system is full; True once it is."""
    with open(path, "wb", buffering=0) as stream:
        try:
            while True:
                stream.write(b"x" * 4096)
        except OSError as error:
            return error.errno == errno.ENOSPC


def staging_fault(service, mounts, fault: str):
    """Make repoDir unusable; return a function that repairs it."""
    repo = service.config.paths.repo_dir
    if fault == "missing":
        unmounted = repo.with_name("newdata-unmounted")
        repo.rename(unmounted)
        return lambda: unmounted.rename(repo)
    if fault == "read-only":
        mounts.read_only(repo)
        return lambda: mounts.release(repo)
    mounts.tmpfs(repo, "1m")  # "full": a small frame is 1.7 MB
    return lambda: mounts.resize(repo, "64m")


@pytest.mark.parametrize("fault", ["missing", "read-only", "full"])
def test_the_staging_disk_unusable_for_a_while(service_factory, mounts, campaign, fault):
    service = service_factory(service={"deliveryRetryMax": 1}).start()
    repair = staging_fault(service, mounts, fault)
    raws = frames(service, 3)
    names = [raw.name for raw in raws]
    for raw in raws:
        service.send(raw)
    service.wait_states(names, "processed")
    reason = service.snapshot().transfers.repo_reason
    repair()
    campaign.settle(service, names)
    tally = campaign.count(service, names)
    order = [service.record(name)["delivered_at"] for name in names]
    observed = f"waited with reason {reason!r}; after repair delivered {tally.delivered}, " \
               f"{'in order' if order == sorted(order) else 'OUT OF ORDER'}"
    campaign.conclude(f"staging disk {fault}, then back", WAITS, observed, tally,
                      tally.delivered == 3 and order == sorted(order) and reason is not None)


def test_an_unwritable_log_folder_does_not_stop_processing(service_factory, mounts, campaign):
    service = service_factory()
    log_dir = service.config.paths.log_dir
    mounts.tmpfs(log_dir, "64k")
    filler_written = fill(log_dir / "filler")  # the night log cannot grow
    service.start()
    raws = frames(service, 2)
    for raw in raws:
        service.send(raw)
    names = [raw.name for raw in raws]
    campaign.settle(service, names)
    (log_dir / "filler").unlink()
    def retried() -> bool:
        service.send_raw(b"nudge")  # a rejected datagram: one more log line to write
        return "is writable again" in service.stderr()
    wait_until(retried, 30, what="the night log to be retried", interval=1.0)
    tally = campaign.count(service, names)
    stderr = service.stderr()
    said = stderr.count("cannot write the night log")
    observed = (f"stderr said once ({said}x) 'cannot write the night log ... No space left',"
                f" lines went to stderr, frames delivered; log file resumed; "
                f"{stderr.count('Traceback')} tracebacks")
    ok = filler_written and said == 1 and "Traceback" not in stderr and \
        f"{names[0]}: delivered" in stderr
    campaign.conclude("log folder unwritable (full)", "processing goes on, logs to stderr, "
                      "said once, file resumes", observed, tally, ok)


def test_a_read_only_state_folder_is_a_clear_refusal_to_start(service_factory, mounts,
                                                               campaign):
    service = service_factory()
    state = service.config.paths.state_dir
    shutil.rmtree(state)
    mounts.tmpfs(state, "1m", read_only=True)
    result = subprocess.run(
        [sys.executable, "-m", "dataman.cli", "run", "-c", str(service.config_path)],
        capture_output=True, text=True, timeout=60, check=False)
    line = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    observed = f"exit {result.returncode}: {line.split(' | ')[-1][:120]}"
    ok = result.returncode == 78 and "cannot be written (Read-only file system)" in line and \
        "Traceback" not in result.stderr
    campaign.conclude("state folder read-only", "refuses to start, exit 78, says why",
                      observed, campaign.count(service, []), ok)
