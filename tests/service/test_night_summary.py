"""The log gets a night summary when an observing night ends (supervisor tick, injected time),
old nights' thumbnails are removed then, and a retry never makes a second UNIQNAME copy of a
frame."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import pytest

from dataman.core.pipeline import process_frame, same_uniqname
from dataman.core.publish import publish, write_pieces
from dataman.ipc.slots import FrameBudget, SlotPool
from dataman.service.journal import Journal
from dataman.service.supervisor import Supervisor
from tests.conftest import make_frame


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.value = moment.timestamp()

    def __call__(self) -> float:
        return self.value


@pytest.mark.slow  # the report is written by a real child process
def test_the_night_summary_is_logged_and_the_report_written_when_the_night_ends(config, caplog):
    clock = Clock(datetime(2025, 12, 31, 3, 0, tzinfo=UTC))  # night 20251231
    with Journal.open(config.paths.state_dir) as journal, \
            SlotPool.create(f"night{uuid.uuid4().hex[:8]}", 1, FrameBudget(4096, 4096)) as slots:
        supervisor = Supervisor(config, journal, slots, now=clock)
        for number, state in ((1, "delivered"), (2, "failed")):
            name = f"mods1b.20251231.{number:04d}.fits"
            request = journal.request(name, f"/data/{name}", "mods1b", "datagram", clock())
            journal.start(request.id, pid=1, now=clock() + 1)
            if state == "failed":
                journal.failed(request.id, "not FITS", now=clock() + 2)
            else:
                journal.processed(request.id, "/proc/x", "u.fits", {}, 0, now=clock() + 1)
                journal.delivered(request.id, "/newdata/x", now=clock() + 2)
        thumbnails = config.paths.state_dir / "thumbnails"
        for night in ("20251031", "20251101", "20251231"):  # 61, 60 and 0 nights old
            (thumbnails / night).mkdir(parents=True)
            (thumbnails / night / "mods1b.x.png").write_bytes(b"png")
        caplog.set_level(logging.INFO, logger="dataman")
        supervisor.tick()
        assert "summary" not in caplog.text
        clock.value = datetime(2025, 12, 31, 19, 0, tzinfo=UTC).timestamp()  # local noon
        supervisor.tick()
    assert ("night 20251231 summary: 2 requested, 1 delivered, 1 failed, "
            "latency median 2.00s max 2.00s") in caplog.text
    assert "night 20251231 failed: mods1b.20251231.0002.fits: not FITS" in caplog.text
    assert supervisor.night.date == "20260101"
    # ... and the night's report is written beside the night log, off the loop
    [thread] = supervisor.reports.threads
    thread.join(120)
    page = config.paths.log_dir / "mods1dm.20251231.html"
    assert not thread.is_alive() and page.is_file(), caplog.text
    html = page.read_text()
    assert "mods1b.20251231.0001.fits" in html and "mods1b.20251231.0002.fits" in html
    assert f"night 20251231: 2 frames, report written to {page}" in caplog.text
    # ... and then the thumbnails of nights more than 60 (thumbnailNights) before it removed
    assert sorted(path.name for path in thumbnails.iterdir()) == ["20251101", "20251231"]


@pytest.mark.parametrize("ours", [True, False])
def test_publish_replaces_only_an_earlier_attempt_of_the_same_frame(config, ours):
    raw = make_frame(config, instrument="MODS1B", roi="1kx1k", binning=2, number=1)
    first = process_frame(raw, config)
    folder = config.paths.repo_dir
    again = first.delivered.read_bytes()
    uniqname = first.uniqname if ours else "mods1b.20251230.999999.fits"
    path = publish(folder, [raw.name, "other.fits"], write_pieces([again]),
                   ours=same_uniqname(uniqname))
    assert path.name == (raw.name if ours else "other.fits")
    assert sorted(p.name for p in folder.glob("*.fits")) == sorted(
        {raw.name, path.name})
