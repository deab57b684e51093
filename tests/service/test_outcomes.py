"""The ``recent`` list the console gets: one entry per frame, its latest outcome.

A frame that waited for the staging disk and was then delivered, or that failed
and was retried, has two outcomes; the snapshot used to list it twice and every
console attaching afterwards died on the repeated row. These drive a real
journal through :class:`Outcomes` the way the supervisor does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dataman.core.facts import FrameFacts
from dataman.core.quality.report import AmpQuality, Finding, QualityReport
from dataman.ipc.jobs import Cause, JobDone, JobFailed, JobKind
from dataman.ipc.protocol_snapshot import FrameEntry, QualityFinding
from dataman.ipc.states import FrameState
from dataman.service.backlog import DeliveryBacklog
from dataman.service.journal import Journal
from dataman.service.outcomes import RECENT_MAX, Outcomes
from dataman.service.queue import FrameQueue
from dataman.service.waiting import RawFileWait
from dataman.service.worker_process import Assignment

NOW = 1767064366.0


class Recorder:
    """The supervisor's side of Outcomes: which frame items were published."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.queue = FrameQueue()
        self.published: list[FrameEntry] = []
        self.outcomes = Outcomes(journal, self.queue, DeliveryBacklog(1.0),
                                 RawFileWait(journal, self.queue, 0.0), changed=lambda *_: None,
                                 finished=self.published.append)

    def start(self, name: str, now: float) -> Assignment:
        """A frame is requested (if new) and given to a worker."""
        record = self.journal.is_known(name) or self.journal.request(
            name, f"/data/mods1b/{name}", "mods1b", "datagram", now)
        self.journal.start(record.id, pid=4250, now=now)
        return Assignment(record.id, name, None, now)

    def done(self, name: str, now: float) -> JobDone:
        return JobDone(self.journal.is_known(name).id, f"/proc/20251230/{name}", name,
                       delivered=f"/newdata/{name}", instrument="MODS1B")


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Recorder]:
    with Journal.open(tmp_path) as journal:
        yield Recorder(journal)


def names_and_results(recorder: Recorder) -> list[tuple[str, str]]:
    return [(item.name, item.result) for item in recorder.outcomes.recent]


def test_a_frame_failed_then_retried_is_listed_once_as_it_ended_last(recorder):
    job = recorder.start("mods1b.20251230.0007.fits", NOW)
    recorder.outcomes.failed(job, JobFailed(job.frame_id, "BadHeader: no DATE-OBS", Cause.BAD),
                             NOW + 1)
    other = recorder.start("mods1b.20251230.0008.fits", NOW + 2)
    recorder.outcomes.done(other, recorder.done(other.name, NOW + 3), NOW + 3)
    assert names_and_results(recorder) == [("mods1b.20251230.0008.fits", "ok"),
                                           ("mods1b.20251230.0007.fits", "failed")]
    recorder.journal.retry("mods1b.20251230.0007.fits", NOW + 4)
    again = recorder.start("mods1b.20251230.0007.fits", NOW + 5)
    recorder.outcomes.done(again, recorder.done(again.name, NOW + 6), NOW + 6)
    # The retried frame moves to the top, with its new outcome; the old one is gone.
    assert names_and_results(recorder) == [("mods1b.20251230.0007.fits", "ok"),
                                           ("mods1b.20251230.0008.fits", "ok")]
    # Every outcome was still published as it happened (the console updates its row).
    assert [(item.name, item.result) for item in recorder.published] == [
        ("mods1b.20251230.0007.fits", "failed"), ("mods1b.20251230.0008.fits", "ok"),
        ("mods1b.20251230.0007.fits", "ok")]


def test_a_frame_that_waited_for_the_staging_disk_is_listed_once_when_delivered(recorder):
    name = "mods1b.20251230.0009.fits"
    job = recorder.start(name, NOW)
    waiting = JobDone(job.frame_id, f"/proc/20251230/{name}", name,
                      delivery_error="repoDir /newdata: not mounted", instrument="MODS1B")
    recorder.outcomes.done(job, waiting, NOW + 1)
    assert names_and_results(recorder) == [(name, "waiting")]
    delivery = Assignment(job.frame_id, name, None, NOW + 30, kind=JobKind.DELIVER)
    recorder.outcomes.done(delivery, recorder.done(name, NOW + 31), NOW + 31)
    assert names_and_results(recorder) == [(name, "ok")]


def test_a_frame_delivered_late_shows_the_readout_the_journal_holds(recorder):
    """The delivery job from the backlog reads no header: readout and binning are the
    journal's, from the job that processed the frame."""
    name = "mods1b.20251230.0010.fits"
    job = recorder.start(name, NOW)
    waiting = JobDone(job.frame_id, f"/proc/20251230/{name}", name,
                      delivery_error="repoDir /newdata: not mounted", instrument="MODS1B",
                      facts=FrameFacts(roi="3kx3k", binning="2x2", imagetyp="OBJECT"))
    recorder.outcomes.done(job, waiting, NOW + 1)
    delivery = Assignment(job.frame_id, name, None, NOW + 30, kind=JobKind.DELIVER)
    recorder.outcomes.done(delivery, recorder.done(name, NOW + 31), NOW + 31)
    (item,) = recorder.outcomes.recent
    assert (item.result, item.roi, item.binning, item.imagetyp) == ("ok", "3kx3k", "2x2",
                                                                     "OBJECT")


def test_recent_keeps_the_newest_frames_up_to_its_bound(recorder):
    for number in range(1, RECENT_MAX + 6):
        job = recorder.start(f"mods1b.20251230.{number:04d}.fits", NOW + number)
        recorder.outcomes.done(job, recorder.done(job.name, NOW + number), NOW + number)
    names = [name for name, _ in names_and_results(recorder)]
    assert len(names) == RECENT_MAX
    assert names[0] == f"mods1b.20251230.{RECENT_MAX + 5:04d}.fits"
    assert names[-1] == "mods1b.20251230.0006.fits"  # 1 to 5 fell off the end


# --- how a job ended → what the journal, queue and backlog say (table) -------------------

DIED = "worker 0 (pid 4250) killed by SIGKILL during otm"


def _job_in_state(recorder: Recorder, name: str, setup: str) -> Assignment:
    """A job of ``name`` as the supervisor holds it: a first or second attempt of a frame,
    or a delivery from the backlog (processed, repoDir missing)."""
    job = recorder.start(name, NOW)
    if setup == "second attempt":
        recorder.journal.requeue(job.frame_id, DIED, NOW + 1)
        job = recorder.start(name, NOW + 2)
    elif setup == "delivery":
        recorder.journal.processed(job.frame_id, f"/proc/20251230/{name}", name, {}, 0, NOW + 1)
        recorder.outcomes.backlog.add(job.frame_id, name, NOW + 1, "repoDir missing")
        job = Assignment(job.frame_id, name, None, NOW + 2, kind=JobKind.DELIVER)
    return job


@pytest.mark.parametrize(("setup", "stopping", "state", "queued", "reason"), [
    ("first attempt", False, "queued", True, DIED),  # tried again once, at once
    ("second attempt", False, "failed", False, f"{DIED} (second attempt)"),
    ("first attempt", True, "queued", False, f"service stopped: {DIED}"),  # next start
    ("second attempt", True, "queued", False, f"service stopped: {DIED}"),
    ("delivery", False, "processed", False, DIED),  # delivered later, from procDir
])
def test_a_job_whose_worker_died_ends_as_its_kind_says(recorder, setup, stopping, state,
                                                       queued, reason):
    name = "mods1b.20251230.0011.fits"
    job = _job_in_state(recorder, name, setup)
    recorder.outcomes.lost(job, DIED, NOW + 3, stopping=stopping)
    record = recorder.journal.get(job.frame_id)
    assert (str(record.state), job.frame_id in recorder.queue, record.reason) == (
        state, queued, reason)
    assert (job.frame_id in recorder.outcomes.backlog) is (setup == "delivery")


@pytest.mark.parametrize(("cause", "waited", "state", "queued"), [
    ("missing", 0.0, "queued", True),  # postponed (its queue entry waits for not_before)
    ("incomplete", 119.0, "queued", True),
    ("missing", 120.0, "failed", False),  # waitForWrite (120 s) reached
    ("bad", 0.0, "failed", False),
    ("output", 0.0, "failed", False),
    ("internal", 0.0, "failed", False),
])
def test_a_failed_job_waits_for_its_raw_file_or_fails(tmp_path, cause, waited, state, queued):
    with Journal.open(tmp_path) as journal:
        recorder = Recorder(journal)
        recorder.outcomes.waiting = RawFileWait(journal, recorder.queue, 120.0)
        name = "mods1b.20251230.0012.fits"
        job = recorder.start(name, NOW)
        if cause in ("missing", "incomplete"):  # first found not ready at NOW, then looked
            recorder.outcomes.failed(job, JobFailed(job.frame_id, "not there", cause), NOW)
            assert journal.get(job.frame_id).state is FrameState.QUEUED
            job = recorder.start(name, NOW + waited)  # at again by a worker
        recorder.outcomes.failed(job, JobFailed(job.frame_id, "not there", cause),
                                 NOW + waited)
        record = journal.get(job.frame_id)
        assert (str(record.state), job.frame_id in recorder.queue) == (state, queued)
        if state == "failed":
            assert [item.result for item in recorder.published] == ["failed"]


# --- the quality checks' verdict in the recent list -----------------------------------

DEAD_IM2 = QualityReport(
    (Finding("IM2:dead", "IM2 data constant at 1012 DN"),
     Finding("hdr:DATE-OBS", "DATE-OBS '2025-12-30' has no time")),
    (AmpQuality("IM1", 1, 1010.5, 3.25, 0.0), AmpQuality("IM2", 2, 1012.0, 0.5, 0.0),
     AmpQuality("IM3", 3, 998.0, 3.5, 0.001), AmpQuality("IM4", 4, 1003.25, 3.75, 0.0)))


def test_a_delivered_frame_carries_its_quality_verdict_findings_and_values(recorder):
    name = "mods1b.20251230.0020.fits"
    job = recorder.start(name, NOW)
    done = JobDone(job.frame_id, f"/proc/20251230/{name}", name, delivered=f"/newdata/{name}",
                   instrument="MODS1B", quality=DEAD_IM2)
    recorder.outcomes.done(job, done, NOW + 1)
    (item,) = recorder.outcomes.recent
    assert (item.qc_status, item.qc_flags) == ("BAD", "IM2:dead hdr:DATE-OBS")
    assert item.qc_findings == (
        QualityFinding("IM2:dead", "IM2 data constant at 1012 DN"),
        QualityFinding("hdr:DATE-OBS", "DATE-OBS '2025-12-30' has no time"))
    assert item.qc_bias == {"IM1": 1010.5, "IM2": 1012.0, "IM3": 998.0, "IM4": 1003.25}
    assert item.qc_noise == {"IM1": 3.25, "IM2": 0.5, "IM3": 3.5, "IM4": 3.75}
    assert item.qc_saturated == {"IM1": 0.0, "IM2": 0.0, "IM3": 0.001, "IM4": 0.0}


def test_a_frame_delivered_late_keeps_the_verdict_the_journal_holds(recorder):
    """The delivery job from the backlog carries no quality report: the journal has it."""
    name = "mods1b.20251230.0021.fits"
    job = recorder.start(name, NOW)
    recorder.outcomes.done(job, JobDone(job.frame_id, f"/proc/20251230/{name}", name,
                                        delivery_error="repoDir /newdata: not mounted",
                                        instrument="MODS1B", quality=DEAD_IM2), NOW + 1)
    assert recorder.outcomes.recent[0].qc_status == "BAD"
    delivery = Assignment(job.frame_id, name, None, NOW + 30, kind=JobKind.DELIVER)
    recorder.outcomes.done(delivery, recorder.done(name, NOW + 31), NOW + 31)
    (item,) = recorder.outcomes.recent
    assert (item.result, item.qc_status, item.qc_flags) == ("ok", "BAD", "IM2:dead hdr:DATE-OBS")
    assert item.qc_noise["IM2"] == 0.5


def test_an_unchecked_or_failed_frame_has_no_verdict(recorder):
    name = "mods1b.20251230.0022.fits"
    job = recorder.start(name, NOW)
    recorder.outcomes.done(job, recorder.done(name, NOW + 1), NOW + 1)  # checks off
    job = recorder.start("mods1b.20251230.0023.fits", NOW + 2)
    recorder.outcomes.failed(job, JobFailed(job.frame_id, "BadHeader: no DATE-OBS", Cause.BAD),
                             NOW + 3)
    assert [(item.qc_status, item.qc_flags, item.qc_bias) for item in
            recorder.outcomes.recent] == [(None, "", {}), (None, "", {})]
