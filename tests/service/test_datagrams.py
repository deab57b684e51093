"""A burst of datagrams becomes one batch of requests (no socket: the batch is given)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dataman.ipc.datagram import SenderPolicy
from dataman.ipc.states import Source
from dataman.service.datagrams import REJECTIONS_PER_MINUTE, DatagramIntake, RejectionLog
from dataman.service.queue import FrameRequest

NAME = "mods1b.20251230.0031.fits"
AZCAM = ("127.0.0.1", 40000)


def intake_for(data_dir: Path, batches: list[list[FrameRequest]],
               quits: list[str]) -> DatagramIntake:
    return DatagramIntake(SenderPolicy.from_config(["127.0.0.1"]), data_dir,
                          request_frames=batches.append, quit=quits.append, now=lambda: 0.0)


@pytest.mark.parametrize(("batch", "requested", "quits"), [
    ([(f"proc {NAME}".encode(), AZCAM)], [NAME], []),
    ([(f"proc {NAME}".encode(), AZCAM)] * 3, [NAME] * 3, []),  # each one is a request
    ([(b"quit", AZCAM)], None, ["quit from 127.0.0.1:40000"]),
    ([(f"proc {NAME}".encode(), ("127.0.0.9", 5)), (b"frobnicate", AZCAM)], None, []),
    ([(b"proc notes.txt", AZCAM), (f"proc {NAME}".encode(), AZCAM)], [NAME], []),
])
def test_a_burst_of_datagrams_is_one_batch_of_requests(tmp_path, batch, requested, quits):
    batches: list[list[FrameRequest]] = []
    said: list[str] = []
    intake_for(tmp_path, batches, said).on_datagrams(batch)
    if requested is None:
        assert batches == []
    else:
        [requests] = batches
        assert [(r.name, r.channel, r.path, r.source, r.origin) for r in requests] == [
            (name, "mods1b", tmp_path / "mods1b" / name, Source.DATAGRAM, "127.0.0.1:40000")
            for name in requested]
    assert said == quits


def test_rejections_are_logged_up_to_a_budget_per_minute_then_counted(caplog):
    caplog.set_level(logging.WARNING, logger="dataman")
    rejections = RejectionLog()
    for second in range(REJECTIONS_PER_MINUTE + 5):
        rejections.log(f"from 127.0.0.9: not allowed ({second})", now=1000.0 + second / 100)
    rejections.log("from 127.0.0.9: not allowed (later)", now=1061.0)
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == REJECTIONS_PER_MINUTE + 2
    assert messages[-2:] == ["5 more rejected datagrams were not logged",
                             "datagram rejected from 127.0.0.9: not allowed (later)"]
