"""Requests the journal refuses to record (its disk full, a disk error), while it lasts.

A request is journaled before it is queued, so a journal that cannot write
(``database or disk is full``) means requests are dropped as they come: each
is logged as ``NOT recorded``, and the frames are recovered by the raw-folder
scan once the journal writes again. That must not hide behind ``OK``: from
the first refused request until one is recorded again, :attr:`Refusals.problem`
puts ``requests not recorded: <reason>`` on the health line and the console,
and every such episode of the night goes into the night log's summary
(:meth:`Refusals.summary_lines`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

log = logging.getLogger("dataman")


@dataclass
class Episode:
    """A time the journal refused requests: from ``since`` to ``until`` (None: still)."""

    since: float
    reason: str
    refused: int = 0
    until: float | None = None


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S")


class Refusals:
    """The current episode of refused requests, if any, and the earlier ones."""

    def __init__(self) -> None:
        self.current: Episode | None = None
        self.episodes: list[Episode] = []

    @property
    def problem(self) -> str | None:
        episode = self.current
        if episode is None:
            return None
        return (f"requests not recorded: {episode.reason} ({episode.refused} refused since "
                f"{_clock(episode.since)} UTC)")

    def refused(self, count: int, reason: str, now: float, *, where: str = "") -> None:
        """``count`` requests were not recorded by the journal ``where``, for ``reason``."""
        if self.current is None:
            self.current = Episode(now, reason)
            self.episodes.append(self.current)
            log.critical("requests are NOT being recorded: %s%s; frames are recovered by the "
                         "scan once the journal can write again", reason,
                         f" ({where})" if where else "")
        self.current.refused += count
        self.current.reason = reason

    def recorded(self, now: float) -> None:
        """A request was recorded: the episode, if any, is over."""
        episode, self.current = self.current, None
        if episode is not None:
            episode.until = now
            log.warning("requests are recorded again after %.0f s; %d were not recorded (%s)",
                        now - episode.since, episode.refused, episode.reason)

    def summary_lines(self, date: str, start: float, end: float) -> list[str]:
        """The night log summary's lines for the episodes within [start, end)."""
        lines = []
        for episode in self.episodes:
            if episode.since >= end or (episode.until is not None and episode.until < start):
                continue
            until = f"to {_clock(episode.until)}" if episode.until else "until now"
            lines.append(f"night {date} requests not recorded from {_clock(episode.since)} "
                         f"{until} UTC: {episode.refused} refused ({episode.reason})")
        return lines
