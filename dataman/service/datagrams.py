"""The UDP command socket's side of the service: datagrams become frame requests.

A burst of datagrams (``ipc/udp.py`` hands them over together) is parsed, checked
against the sender policy and ``dataDir``, and its ``proc`` requests go to the
supervisor together, to be journaled in one transaction. A rejected datagram is
logged, but a flood of them is counted rather than logged (:class:`RejectionLog`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from dataman.ipc.datagram import ProcRequest, QuitRequest, Rejected, SenderPolicy, parse_datagram
from dataman.ipc.states import Source
from dataman.service.queue import FrameRequest

log = logging.getLogger("dataman")
REJECTIONS_PER_MINUTE = 30  # log lines for rejected datagrams; the rest are counted


class DatagramIntake:
    """Parses each burst of datagrams; ``request_frames`` gets the frames, ``quit`` a
    quit's reason."""

    def __init__(self, policy: SenderPolicy, data_dir: Path, *,
                 request_frames: Callable[[list[FrameRequest]], None],
                 quit: Callable[[str], None], now: Callable[[], float]) -> None:
        self.policy, self.data_dir, self.now = policy, data_dir, now
        self._request_frames, self._quit = request_frames, quit
        self._rejections = RejectionLog()

    def on_datagrams(self, batch: list[tuple[bytes, tuple]]) -> None:
        """A burst of datagrams: their ``proc`` requests are journaled together.

        A datagram repeated within the batch by the same sender (a flood) is parsed
        once.
        """
        wanted = []
        parsed: dict[tuple[bytes, tuple], ProcRequest | QuitRequest | Rejected] = {}
        for payload, sender in batch:
            request = parsed.get((payload, sender))
            if request is None:
                request = parsed[payload, sender] = parse_datagram(payload, sender, self.policy,
                                                                   self.data_dir)
            origin = f"{sender[0]}:{sender[1]}"
            if isinstance(request, Rejected):
                self._rejections.log(request.reason, self.now())
            elif isinstance(request, QuitRequest):
                log.info("quit from %s", origin)
                self._quit(f"quit from {origin}")
            elif isinstance(request, ProcRequest):
                wanted.append(FrameRequest(request.name, request.channel, request.path,
                                           Source.DATAGRAM, origin))
        if wanted:
            self._request_frames(wanted)


class RejectionLog:
    """Log rejected datagrams without letting a flood fill the disk: a budget per minute."""

    def __init__(self) -> None:
        self.window, self.logged, self.suppressed = 0.0, 0, 0

    def log(self, reason: str, now: float) -> None:
        if now - self.window >= 60:
            if self.suppressed:
                log.warning("%d more rejected datagrams were not logged", self.suppressed)
            self.window, self.logged, self.suppressed = now, 0, 0
        if self.logged < REJECTIONS_PER_MINUTE:
            self.logged += 1
            log.warning("datagram rejected %s", reason)
        else:
            self.suppressed += 1
