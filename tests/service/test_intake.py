"""What a request does, by what the journal already knows of its frame (table).

A real journal in a temporary folder; no service, no worker.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dataman.ipc.states import Source
from dataman.service.intake import Intake
from dataman.service.journal import Journal
from dataman.service.queue import FrameQueue, FrameRequest
from dataman.service.waiting import RawFileWait

NOW = 1767064366.0
NAME = "mods1b.20251230.0021.fits"


def _known_as(journal: Journal, path: Path, known: str) -> None:
    """Put the frame in the journal as ``known`` says, before the request under test."""
    if known in ("unknown", "queued by a scan"):  # the latter: the test's scan queues it
        return
    record = journal.request(NAME, path, "mods1b", "datagram", NOW - 10)
    if known in ("delivered", "failed", "running"):
        journal.start(record.id, pid=4250, now=NOW - 9)
    if known == "delivered":
        journal.processed(record.id, "/proc/x.fits", NAME, {}, 0, NOW - 8,
                          delivered_path=f"/newdata/{NAME}")
    elif known == "failed":
        journal.failed(record.id, "BadHeader: no DATE-OBS", NOW - 8)


@pytest.mark.parametrize(("known", "source", "there", "queued", "log"), [
    ("unknown", Source.DATAGRAM, True, "datagram", "requested by 127.0.0.1:40000 (1 queued)"),
    ("unknown", Source.SCAN, True, "scan", "requested by scan (1 queued)"),
    ("unknown", Source.DATAGRAM, False, "datagram", "waiting for the raw file"),
    ("queued by a scan", Source.DATAGRAM, True, "datagram", None),  # promoted
    ("delivered", Source.DATAGRAM, True, None, "already delivered /newdata/"),
    ("failed", Source.DATAGRAM, True, "datagram", "requested by"),  # asked again: tried again
    ("running", Source.DATAGRAM, True, None, "already running"),
    ("delivered", Source.SCAN, True, None, None),  # the scan's finds are not logged
])
def test_a_request_queues_a_frame_once(tmp_path, caplog, known, source, there, queued, log):
    path = tmp_path / "data" / "mods1b" / NAME
    if there:
        path.parent.mkdir(parents=True)
        path.write_bytes(b"raw")
    queue = FrameQueue()
    with Journal.open(tmp_path) as journal:
        _known_as(journal, path, known)
        if known == "queued by a scan":  # as the service holds it after a restart or scan
            intake = Intake(journal, queue, RawFileWait(journal, queue, 120.0))
            intake.take([FrameRequest(NAME, "mods1b", path, Source.SCAN, "scan")], NOW - 10)
        intake = Intake(journal, queue, RawFileWait(journal, queue, 120.0))
        caplog.clear()
        caplog.set_level(logging.INFO, logger="dataman")
        origin = "scan" if source is Source.SCAN else "127.0.0.1:40000"
        assert intake.take([FrameRequest(NAME, "mods1b", path, source, origin)], NOW)
        frames = queue.ordered()
        assert [str(frame.source) for frame in frames] == ([queued] if queued else [])
        if queued and not there:
            assert frames[0].not_before == NOW + 0.25  # looked at again shortly
        messages = [record.getMessage() for record in caplog.records]
        if log is None:
            assert messages == []
        else:
            assert all(message.startswith(NAME) for message in messages)
            assert log in messages[-1]


def test_a_flood_of_the_same_request_is_logged_once_a_minute(tmp_path, caplog):
    path = tmp_path / "data" / "mods1b" / NAME
    queue = FrameQueue()
    with Journal.open(tmp_path) as journal:
        _known_as(journal, path, "delivered")
        intake = Intake(journal, queue, RawFileWait(journal, queue, 120.0))
        caplog.set_level(logging.INFO, logger="dataman")
        request = FrameRequest(NAME, "mods1b", path, Source.DATAGRAM, "127.0.0.1:40000")
        for second in (0, 1, 2, 59, 61):
            intake.take([request], NOW + second)
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert messages[1].endswith("(3 more such requests not logged)")
