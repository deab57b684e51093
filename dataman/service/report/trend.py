"""Detector health across nights (``dataman report --trend``): "is IM3 noisier than last
month?", answered from what this installation recorded, with no frame read again.

For each of the last N observing nights (30 by default) and each channel, the
median over the night's checked frames of each amplifier's bias level and read
noise, and the median CCD temperature; drawn per night with the configured
bands, and listed in a table, on one self-contained HTML page beside the night
reports: ``<logDir>/<hostid>dm.trend.<last night>.html``. The medians shrug off
a few odd frames (a saturated flat, a dead amplifier on one frame); an
amplifier that went bad and stayed bad moves its median.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from pathlib import Path

from dataman.core.config import Config
from dataman.core.geometry import AMPLIFIERS
from dataman.core.nightlog import default_hostid
from dataman.service.report.frames import NightFrame, night_frames
from dataman.service.summary import night_window

NIGHTS = 30


@dataclass
class ChannelNight:
    """One channel's medians over one night's checked frames."""

    frames: int = 0
    bias: dict[str, float] = field(default_factory=dict)
    noise: dict[str, float] = field(default_factory=dict)
    ccd_temp: float | None = None


def nights_before(last: str, count: int) -> list[str]:
    """The ``count`` nights ending with ``last``, oldest first.

    >>> nights_before("20260102", 3)
    ['20251231', '20260101', '20260102']
    """
    end = datetime.strptime(last, "%Y%m%d")
    return [(end - timedelta(days=back)).strftime("%Y%m%d") for back in range(count - 1, -1, -1)]


def summarize(frames: list[NightFrame]) -> dict[str, ChannelNight]:
    """Channel (``MODS1B``) → its medians over ``frames`` that were checked."""
    values: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, int] = {}
    for frame in frames:
        if not frame.amps:
            continue
        channel = frame.record.channel.upper()
        counts[channel] = counts.get(channel, 0) + 1
        mine = values.setdefault(channel, {})
        for amp in frame.amps:
            mine.setdefault(f"bias {amp.amp}", []).append(amp.bias)
            mine.setdefault(f"noise {amp.amp}", []).append(amp.noise)
        if frame.record.ccd_temp is not None:
            mine.setdefault("ccd", []).append(frame.record.ccd_temp)
    out = {}
    for channel, mine in values.items():
        night = ChannelNight(frames=counts[channel])
        for key, numbers in mine.items():
            median = statistics.median(numbers)
            if key == "ccd":
                night.ccd_temp = median
            else:
                kind, name = key.split()
                (night.bias if kind == "bias" else night.noise)[name] = median
        out[channel] = night
    return out


def collect(config: Config, last: str, count: int = NIGHTS) -> dict[str, dict[str, ChannelNight]]:
    """Night → channel → medians, for the ``count`` nights to ``last`` that have any."""
    table = {}
    for night in nights_before(last, count):
        start, end = night_window(night, config.site.utc_offset)
        summary = summarize(night_frames(config.paths.state_dir, start, end, night))
        if summary:
            table[night] = summary
    return table


def trend_path(config: Config, last: str) -> Path:
    hostid = config.server.hostid or default_hostid()
    return config.paths.log_dir / f"{hostid}dm.trend.{last}.html"


def render(table: dict[str, dict[str, ChannelNight]], figure: bytes, *, last: str,
           count: int, written_at: datetime, source: str) -> str:
    """The page: the plot, then one row per night and channel."""
    from dataman.service.report.page import STYLE, data_uri

    title = f"dataMan detector trend: {count} nights to {last}"
    head = ("<tr><th>night</th><th>channel</th><th>frames</th><th>CCD (°C)</th>"
            + "".join(f"<th>{amp} bias</th>" for amp in AMPLIFIERS)
            + "".join(f"<th>{amp} noise</th>" for amp in AMPLIFIERS) + "</tr>")
    rows = []
    for night, channels in table.items():
        for channel, values in sorted(channels.items()):
            temp = "" if values.ccd_temp is None else f"{values.ccd_temp:.1f}"
            cells = [night, channel, str(values.frames), temp,
                     *(_number(values.bias.get(amp), ".1f") for amp in AMPLIFIERS),
                     *(_number(values.noise.get(amp), ".2f") for amp in AMPLIFIERS)]
            rows.append("<tr>" + "".join(f'<td class="num">{escape(cell)}</td>'
                                         for cell in cells) + "</tr>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1>"
            f'<p class="meta">Written {written_at:%Y-%m-%d %H:%M:%S} UTC from '
            f"{escape(source)}. Each value is the median over a night's checked frames of "
            f"one channel ({len(table)} of the {count} nights have any); dashed, the "
            f"configured bands.</p>"
            f'<img class="plot" alt="{escape(title)}" src="{data_uri(figure)}">'
            f"<h2>Per night</h2><table>{head}{''.join(rows)}</table></body></html>\n")


def _number(value: float | None, form: str) -> str:
    return "" if value is None else format(value, form)
