"""A bug in a worker costs one frame, and leaves its traceback where it can be found."""

from __future__ import annotations

import logging
import socket
import uuid

from dataman.ipc.jobs import Job, JobFailed, LogLine, decode
from dataman.ipc.mappings import SlotMappings
from dataman.ipc.slots import FrameBudget, SlotPool
from dataman.service import worker
from tests.conftest import make_frame


def test_an_internal_error_fails_the_frame_and_sends_its_traceback_at_debug(config,
                                                                           monkeypatch):
    raw = make_frame(config, instrument="MODS1B", roi="1kx1k", binning=2, number=3)

    def broken(*args, **kwargs):
        return {}["DETSEC"]  # stands for a bug in a header fix: a KeyError

    monkeypatch.setattr(worker, "prepare", broken)
    ours, theirs = socket.socketpair()
    with ours, theirs, SlotPool.create(f"w{uuid.uuid4().hex[:8]}", 1,
                                       FrameBudget(4096, 4096)) as pool:
        slot = pool.acquire()
        assert slot is not None
        mappings = SlotMappings()
        try:
            reply, _ = worker.run_job(Job(7, str(raw), slot.to_dict()), config,
                                      worker.Channel(theirs), mappings)
        finally:
            mappings.close()
        theirs.shutdown(socket.SHUT_WR)
        sent = [decode(line) for line in ours.makefile("rb")]
    assert isinstance(reply, JobFailed)
    assert reply.detail.startswith("Traceback (most recent call last):")
    assert reply.detail.endswith("KeyError: 'DETSEC'")
    assert (reply.cause, reply.reason) == ("internal", f"{raw.name}: internal error: "
                                                       "KeyError('DETSEC')")
    [line] = [message for message in sent if isinstance(message, LogLine)]
    assert line.level == logging.DEBUG
    assert line.message.startswith(f"{raw.name}: internal error in worker pid ")
    assert "Traceback (most recent call last):" in line.message
    assert 'return {}["DETSEC"]' in line.message and line.message.endswith(
        "KeyError: 'DETSEC'")
