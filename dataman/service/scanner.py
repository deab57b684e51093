"""The periodic scan: raw frames on disk that no one asked for are queued too.

Every ``scanInterval`` (and at start) the channel folders of tonight and last
night are listed; a frame the journal does not know, and that another run
(``dataman process``) has not already delivered, is requested as a scan find.
A scan find runs after every live request (``Source.SCAN``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from dataman.core.config import Config
from dataman.core.earlier import EarlierOutputs, earlier_outputs
from dataman.core.identity import UniqnameRegistry
from dataman.ipc.states import Source
from dataman.service.journal import Journal, JournalError
from dataman.service.queue import FrameRequest
from dataman.service.scan import nights_to_scan, raw_frames

log = logging.getLogger("dataman")


class Scanner:
    """Finds unrequested frames and hands them to ``request_frames``."""

    def __init__(self, config: Config, journal: Journal, *,
                 request_frames: Callable[[list[FrameRequest]], None],
                 now: Callable[[], float]) -> None:
        self.config, self.journal, self.now = config, journal, now
        self._request_frames = request_frames
        self._done_elsewhere: set[str] = set()
        #: Set when the journal was started afresh (a damaged one set aside): frames found
        #: delivered are recorded as delivered, not only passed over.
        self.adopt = False

    async def run(self) -> None:
        """Scan now and every scanInterval (0: never), until cancelled."""
        interval = self.config.service.scan_interval
        if not interval:
            return
        while True:
            try:
                await self.scan_once()
            except Exception as error:  # the next scan may succeed (NFS back, ...)
                log.error("scan failed: %r", error, exc_info=log.isEnabledFor(logging.DEBUG))
            await asyncio.sleep(interval)

    async def scan_once(self) -> None:
        moment = datetime.fromtimestamp(self.now(), UTC)
        nights = nights_to_scan(moment, self.config.site.utc_offset)
        paths = await asyncio.to_thread(raw_frames, self.config.paths.data_dir, nights)
        known = self.journal.known_names([path.name for path in paths])
        unknown = [path for path in paths
                   if path.name not in known and path.name not in self._done_elsewhere]
        found, delivered = await asyncio.to_thread(self._not_done_elsewhere, unknown)
        for path, outputs in delivered:
            self._adopt(path, outputs)
        if found:
            log.info("scan: %d frames on disk were never requested", len(found))
            self._request_frames([FrameRequest(path.name, path.parent.name, path,
                                               Source.SCAN, "scan") for path in found])

    def _not_done_elsewhere(self, paths: list[Path]
                            ) -> tuple[list[Path], list[tuple[Path, EarlierOutputs]]]:
        """Drop the frames another run (``dataman process``) already processed and
        delivered: a frame is delivered once. Each is said once, then remembered.

        Returns the frames to request and, when ``adopt`` is set, the delivered ones
        to record as such (by the caller: the journal is used from the loop only).
        """
        found: list[Path] = []
        done: list[Path] = []
        adopted: list[tuple[Path, EarlierOutputs]] = []
        for path in paths:
            outputs = earlier_outputs(self.config, path.name)
            relearn_uniqname(self.config, path.name, outputs)
            if outputs.complete and self.adopt:
                adopted.append((path, outputs))
                continue
            (done if outputs.complete else found).append(path)
        if done:
            self._done_elsewhere.update(path.name for path in done)
            log.info("scan: %d frames on disk were already delivered by another run, not "
                     "queued: %s", len(done), " ".join(path.name for path in done))
        return found, adopted

    def _adopt(self, path: Path, outputs: EarlierOutputs) -> None:
        """A frame the damaged journal knew as delivered: recorded so again."""
        assert outputs.processed is not None and outputs.delivered is not None
        try:
            self.journal.adopt_delivered(path.name, path, path.parent.name,
                                         outputs.uniqname or path.name, outputs.processed,
                                         outputs.delivered, self.now())
        except JournalError as error:
            log.error("%s: found delivered as %s; cannot record it: %s", path.name,
                      outputs.delivered, error)
            return
        log.info("%s: found delivered as %s (UNIQNAME %s); recorded, not processed again",
                 path.name, outputs.delivered, outputs.uniqname)


def relearn_uniqname(config: Config, raw_name: str, outputs: EarlierOutputs) -> None:
    """A registry started afresh learns again the UNIQNAME the frame's outputs carry, so
    a frame processed again replaces its outputs under the same names."""
    if outputs.uniqname and outputs.processed is not None:
        registry = UniqnameRegistry(config.paths.state_dir)
        if registry.uniqname_of(raw_name) is None:
            registry.bind(raw_name, outputs.uniqname)
