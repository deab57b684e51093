"""The night report: one self-contained HTML page per observing night (``dataman report``).

It is made from what dataMan already keeps, with no second read of a frame:
the journal (every frame, its latency, its quality values), the frames
``dataman process`` did (``<stateDir>/processed/``, :mod:`dataman.core.reprocessed`)
and the thumbnails the workers left in ``<stateDir>/thumbnails/``. It goes beside the night log,
``<logDir>/<hostid>dm.<night>.html``; the service writes it when the night ends,
``dataman report`` at any time (a night in progress is marked "so far").
matplotlib is imported only while the plots are drawn.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dataman.core.config import Config
from dataman.core.nightlog import default_hostid
from dataman.core.quality.thumbnail import thumbnail_path
from dataman.service.report import page, plots, trend
from dataman.service.report.frames import NightFrame, night_frames
from dataman.service.summary import night_window


@dataclass(frozen=True)
class Written:
    """What :func:`write_report` did: ``path`` None when the night has no frames."""

    night: str
    frames: int
    path: Path | None


def report_path(config: Config, night: str) -> Path:
    """``<logDir>/<hostid>dm.<night>.html``, beside the night log."""
    hostid = config.server.hostid or default_hostid()
    return config.paths.log_dir / f"{hostid}dm.{night}.html"


def write_report(config: Config, night: str, out: Path | None = None, *,
                 now: float | None = None) -> Written:
    """Write the report of ``night`` (YYYYMMDD) to ``out`` (default :func:`report_path`).

    Raises ``JournalError`` when the journal cannot be read and ``OSError`` when
    the page cannot be written; a night without frames writes nothing.
    """
    now = time.time() if now is None else now
    start, end = night_window(night, config.site.utc_offset)
    frames = night_frames(config.paths.state_dir, start, end, night)
    if not frames:
        return Written(night, 0, None)
    figures = {}
    if any(frame.exposed is not None for frame in frames):
        figures["Frames and latency over the night"] = plots.activity_plot(frames)
    if any(frame.amps for frame in frames):
        figures["Bias level per amplifier"] = plots.amplifier_plot(frames, config.quality,
                                                                   "bias")
        figures["Read noise per amplifier"] = plots.amplifier_plot(frames, config.quality,
                                                                   "noise")
    html = page.render(night, frames, figures, _thumbnail_reader(config), partial=now < end,
                       written_at=datetime.fromtimestamp(now, UTC), source=str(config.source))
    path = out or report_path(config, night)
    _write_atomically(path, html.encode("utf-8"))
    return Written(night, len(frames), path)


def write_trend(config: Config, last: str, count: int = trend.NIGHTS,
                out: Path | None = None, *, now: float | None = None) -> Written:
    """Write the detector trend of the ``count`` nights to ``last`` (default
    ``trend.trend_path``); ``frames`` of the answer counts the checked frames, ``path`` is
    None when none of those nights has one."""
    now = time.time() if now is None else now
    table = trend.collect(config, last, count)
    if not table:
        return Written(last, 0, None)
    figure = plots.trend_plot(table, config.quality, trend.nights_before(last, count))
    html = trend.render(table, figure, last=last, count=count,
                        written_at=datetime.fromtimestamp(now, UTC), source=str(config.source))
    path = out or trend.trend_path(config, last)
    _write_atomically(path, html.encode("utf-8"))
    return Written(last, sum(item.frames for night in table.values()
                             for item in night.values()), path)


def _thumbnail_reader(config: Config):
    def read(frame: NightFrame) -> bytes | None:
        if frame.night is None:
            return None
        try:
            return thumbnail_path(config.paths.state_dir, frame.night, frame.name).read_bytes()
        except OSError:
            return None
    return read


def _write_atomically(path: Path, data: bytes) -> None:
    """A reader (a browser, a web server) never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
