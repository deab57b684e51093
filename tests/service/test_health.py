"""The health verdict and status line, from literal snapshots at an injected time."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dataman.ipc.protocol_snapshot import QueueEntry, Snapshot
from dataman.service.health import (
    Health,
    ProcessInfo,
    assess,
    down_line,
    duration,
    health_line,
    process_in,
)
from tests import protocol_fixtures as pf

NOW = 1767064366.0
LAST = "mods1b.20251230.0143.fits"
SNAPSHOT = pf.snapshot(
    service=pf.service_info(started_at=NOW - 11520),
    counts=pf.counts(running=1, processed=143, delivered=143),
    workers=[pf.worker(index=1, pid=4243, state="idle"),
             pf.worker(index=2, pid=4244, state="busy", frame=LAST)],
    recent=[pf.frame(name=LAST, finished_at=NOW - 14.5)],
    last=pf.last_delivered(LAST, 0.62, NOW - 14.2))
PROCESS = ProcessInfo(pid=4242, started_at=NOW - 11520, cpu_percent=2.4,
                      rss=310 * 2**20 + 12345, children=2)
OK_LINE = ("dataMan OK pid 4242 up 3h12m cpu 2% rss 310MB workers 2/2 queue 0 done 143 "
           f"failed 0 last {LAST} 0.62s 14s ago")


def snapshot_with(**changes: Any) -> Snapshot:
    """SNAPSHOT with some sections changed: ``service={"state": "paused"}`` changes fields
    of a section, a list or an object replaces it."""
    sections = {}
    for section, value in changes.items():
        if isinstance(value, dict):
            sections[section] = replace(getattr(SNAPSHOT, section), **value)
        else:
            sections[section] = tuple(value) if isinstance(value, list) else value
    return replace(SNAPSHOT, **sections)


def problems(**changes: Any) -> list[str]:
    return assess(snapshot_with(**changes), NOW).problems


def test_a_running_service_with_nothing_wrong_is_ok():
    assert assess(SNAPSHOT, NOW) == Health(0, "OK", [])


def test_ok_line_with_process_numbers():
    assert health_line(assess(SNAPSHOT, NOW), SNAPSHOT, PROCESS, NOW) == OK_LINE


def test_ok_line_without_psutil_numbers_takes_pid_and_uptime_from_the_snapshot():
    assert health_line(assess(SNAPSHOT, NOW), SNAPSHOT, None, NOW) == (
        f"dataMan OK pid 4242 up 3h12m workers 2/2 queue 0 done 143 failed 0 last {LAST} "
        "0.62s 14s ago")


def test_line_before_any_frame_was_delivered_has_no_last():
    snapshot = snapshot_with(last=None)
    assert health_line(assess(snapshot, NOW), snapshot, PROCESS, NOW) == (
        "dataMan OK pid 4242 up 3h12m cpu 2% rss 310MB workers 2/2 queue 0 done 143 failed 0")


def test_problems_follow_the_line_after_a_colon_separated_by_semicolons():
    snapshot = snapshot_with(service={"state": "paused"},
                             transfers={"repo_reachable": False,
                                        "repo_reason": "repoDir not writable",
                                        "awaiting_delivery": ("a.fits", "b.fits", "c.fits")})
    health = assess(snapshot, NOW)
    assert (health.level, health.verdict) == (1, "WARNING")
    assert health_line(health, snapshot, PROCESS, NOW) == (
        OK_LINE.replace("OK", "WARNING") + " : intake paused; "
        "delivery stalled: 3 frames waiting (repoDir not writable)")


def test_unanswered_socket_line_uses_the_process_numbers_only():
    health = Health.of(["control socket not answering (no reply within 0.5 s)"])
    assert health_line(health, None, PROCESS, NOW) == (
        "dataMan WARNING pid 4242 up 3h12m cpu 2% rss 310MB workers 2 : "
        "control socket not answering (no reply within 0.5 s)")


def test_down_line_names_the_state_directory():
    assert down_line(Path("/home/dts/dataman/state")) == (
        "dataMan DOWN: not running (state /home/dts/dataman/state)")
    assert Health.of([], level=2) == Health(2, "DOWN", [])


def test_a_newline_in_a_reason_does_not_split_the_line():
    snapshot = snapshot_with(transfers={"repo_reachable": False,
                                        "repo_reason": "stale NFS handle\non /newdata",
                                        "awaiting_delivery": (LAST,)})
    line = health_line(assess(snapshot, NOW), snapshot, None, NOW)
    assert line.endswith(" : delivery stalled: 1 frame waiting (stale NFS handle on /newdata)")
    assert "\n" not in line


@pytest.mark.parametrize(("state", "expected"), [
    ("running", []), ("paused", ["intake paused"]), ("stopping", ["service stopping"])])
def test_service_state(state: str, expected: list[str]):
    assert problems(service={"state": state}) == expected


def test_an_exited_worker_is_a_missing_worker():
    workers = [pf.worker(index=1, pid=4243, state="idle"),
               pf.worker(index=2, pid=4244, state="exited")]
    assert problems(workers=workers) == ["workers missing: 1/2 alive"]


def test_a_worker_still_starting_counts_as_missing_until_it_says_hello():
    workers = [pf.worker(index=1, pid=4243, state="idle"),
               pf.worker(index=2, pid=4244, state="starting")]
    assert problems(workers=workers) == ["workers missing: 1/2 alive"]
    workers[1] = replace(workers[1], state="busy")
    assert problems(workers=workers) == []


def test_a_frame_free_to_run_waiting_over_a_minute_means_the_queue_backs_up():
    queue = [pf.queue_entry(name="a.fits", requested_at=NOW - 125, not_before=None),
             pf.queue_entry(name="b.fits", requested_at=NOW - 300, not_before=NOW + 10)]
    assert problems(queue=queue, counts={"queued": 2, "queue_total": 2}) == [
        "queue backing up: 2 queued, oldest waiting 2m05s"]


@pytest.mark.parametrize("queue", [
    [pf.queue_entry(name="a.fits", requested_at=NOW - 60, not_before=None)],
    [pf.queue_entry(name="a.fits", requested_at=NOW - 600, not_before=NOW - 5)],
], ids=["exactly-a-minute", "deliberately-deferred"])
def test_a_queue_that_is_not_backing_up(queue: list[QueueEntry]):
    assert problems(queue=queue, counts={"queued": 1, "queue_total": 1}) == []


def test_the_queue_counts_every_frame_waiting_not_only_the_ones_listed():
    """The snapshot lists the first 200 of the queue; its total is ``counts.queue_total``."""
    queue = [pf.queue_entry(name="a.fits", requested_at=NOW - 125, not_before=None)]
    snapshot = snapshot_with(queue=queue, counts={"queued": 7, "queue_total": 10_000})
    assert assess(snapshot, NOW).problems == [
        "queue backing up: 10000 queued, oldest waiting 2m05s"]
    assert " queue 10000 " in health_line(assess(snapshot, NOW), snapshot, None, NOW)


def test_failures_in_the_last_15_minutes_are_reported_with_the_newest_reason():
    recent = [
        pf.frame(name="mods1b.20251230.0150.fits", result="failed", finished_at=NOW - 60,
                 reason="FrameIncomplete: file is 100 bytes shorter than its headers imply"),
        pf.frame(name="mods1b.20251230.0149.fits", result="failed", finished_at=NOW - 600,
                 reason="BadHeader: DETSEC missing"),
        pf.frame(name="mods1b.20251230.0120.fits", result="failed", finished_at=NOW - 901,
                 reason="too old to matter"),
        pf.frame(name=LAST, result="ok", finished_at=NOW - 14.5, reason=None),
    ]
    # The number is tonight's (counts.failed, as the status line and the console header
    # show it), never a second count of a different set of frames beside it.
    assert problems(recent=recent, counts={"failed": 3}) == [
        "3 failed tonight, last mods1b.20251230.0150.fits "
        "(FrameIncomplete: file is 100 bytes shorter than its heade...)"]
    # A failure of a frame requested before tonight began: tonight counts none.
    assert problems(recent=recent, counts={"failed": 0}) == [
        "last failure mods1b.20251230.0150.fits "
        "(FrameIncomplete: file is 100 bytes shorter than its heade...)"]
    assert problems(recent=recent[2:]) == []  # older than 15 minutes: no longer a problem


def test_delivery_stalled_while_repo_dir_is_unreachable():
    transfers = {"repo_reachable": False, "repo_reason": None, "awaiting_delivery": (LAST,)}
    assert problems(transfers=transfers) == [
        "delivery stalled: 1 frame waiting (repoDir unreachable)"]


def test_delivery_stalled_when_a_frame_waits_over_a_minute_for_a_reachable_repo_dir():
    recent = [pf.frame(name=LAST, result="waiting", finished_at=NOW - 90)]
    assert problems(recent=recent, transfers={"awaiting_delivery": (LAST,)}) == [
        "delivery stalled: 1 frame waiting, oldest 1m30s"]


def test_a_frame_that_just_started_waiting_is_not_a_stall():
    recent = [pf.frame(name=LAST, result="waiting", finished_at=NOW - 30)]
    assert problems(recent=recent, transfers={"awaiting_delivery": (LAST,)}) == []


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (14.7, "14s"), (59.9, "59s"), (60, "1m00s"), (725, "12m05s"),
    (3600, "1h00m"), (11520, "3h12m"), (86399, "23h59m"), (183600, "2d03h"), (-5, "0s")])
def test_duration(seconds: float, text: str):
    assert duration(seconds) == text


def test_the_services_own_figures_are_used_once_it_has_measured_them():
    assert process_in(SNAPSHOT) is None  # before the first measurement
    measured = snapshot_with(service={"cpu_percent": 2.4, "rss": 3 * 2**20})
    assert process_in(measured) == ProcessInfo(pid=4242, started_at=NOW - 11520,
                                               cpu_percent=2.4, rss=3145728, children=2)


# --- the same quality check failing frame after frame --------------------------------


def checked(number: int, flags: str, *, channel: str = "MODS1B") -> Any:
    return pf.frame(name=f"{channel.lower()}.20251230.{number:04d}.fits", instrument=channel,
                    qc_status="BAD" if "dead" in flags else "WARN" if flags else "OK",
                    qc_flags=flags, finished_at=NOW - 100 + number)


def test_three_frames_of_a_channel_failing_the_same_check_is_a_warning():
    recent = [checked(44, "IM2:dead"), checked(43, "IM2:dead IM3:noise"), checked(42, "IM2:dead"),
              checked(41, ""), checked(40, "IM2:dead")]
    health = assess(snapshot_with(recent=recent), NOW)
    assert (health.level, health.problems) == (1, ["MODS1B IM2:dead on 3 frames"])
    assert health_line(health, snapshot_with(recent=recent), PROCESS, NOW).endswith(
        " : MODS1B IM2:dead on 3 frames")


def test_the_count_says_how_far_back_the_check_keeps_failing_per_channel():
    recent = [checked(6, "IM1:sat", channel="MODS1R"), *(checked(n, "IM4:biasjump")
                                                         for n in (5, 4, 3, 2)),
              checked(5, "IM1:sat", channel="MODS1R"), checked(4, "IM1:sat", channel="MODS1R")]
    assert problems(recent=recent) == ["MODS1B IM4:biasjump on 4 frames",
                                       "MODS1R IM1:sat on 3 frames"]


@pytest.mark.parametrize("recent", [
    [checked(3, "IM2:dead"), checked(2, "IM2:dead"), checked(1, "")],  # only two
    [checked(3, "IM2:dead"), checked(2, "IM2:dead"), checked(1, "IM3:dead")],  # not the same
    [checked(3, ""), checked(2, "IM2:dead"), checked(1, "IM2:dead"), checked(0, "IM2:dead")],
    [checked(3, "IM2:dead"), checked(2, "IM2:dead", channel="MODS1R"), checked(1, "IM2:dead")],
], ids=["two", "different-checks", "newest-clean", "two-channels"])
def test_a_check_failing_on_fewer_than_the_last_three_frames_is_not_a_problem(recent):
    assert problems(recent=recent) == []


def test_a_frame_not_checked_neither_breaks_nor_extends_the_run():
    failed = pf.frame(name="mods1b.20251230.0003.fits", result="failed", reason="bad",
                      finished_at=NOW - 20 * 60)  # outside the failure window
    recent = [checked(5, "IM2:dead"), failed, checked(2, "IM2:dead"), checked(1, "IM2:dead")]
    assert problems(recent=recent) == ["MODS1B IM2:dead on 3 frames"]


def test_image_type_flags_are_for_observers_not_the_health_line():
    recent = [checked(n, "COMP:lines IM1:sat") for n in (3, 2, 1)]
    assert problems(recent=recent) == ["MODS1B IM1:sat on 3 frames"]
    assert problems(recent=[checked(n, "OBJECT:dark") for n in (3, 2, 1)]) == []


def test_the_line_counts_tonights_flagged_frames_when_there_are_any():
    flagged = snapshot_with(counts={"bad": 1, "warn": 2})
    assert health_line(assess(flagged, NOW), flagged, PROCESS, NOW) == OK_LINE.replace(
        "done 143 failed 0", "done 143 BAD 1 WARN 2 failed 0")


def test_a_failure_reason_does_not_repeat_the_frame_name():
    recent = [pf.frame(name="mods1b.20261207.0018.fits", result="failed", finished_at=NOW - 60,
                       reason="mods1b.20261207.0018.fits: truncated (IM3 1544 of 3088 rows)")]
    assert problems(recent=recent, counts={"failed": 1}) == [
        "1 failed tonight, last mods1b.20261207.0018.fits (truncated (IM3 1544 of 3088 rows))"]
