"""The report's plots, as PNG bytes: the night's activity, each amplifier's bias and noise.

matplotlib is imported here and only here, when a report is written, with the
Agg backend (no display); nothing on the service's or the workers' way to a
delivered frame imports this module.
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dataman.core.config import Bands, QualityConfig
from dataman.core.geometry import AMPLIFIERS
from dataman.service.report.frames import NightFrame

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: One colour per channel, as the four MODS channels are told apart in every plot.
COLOURS = {"MODS1B": "#1f5fbf", "MODS1R": "#c0392b", "MODS2B": "#17a2b8", "MODS2R": "#e67e22"}
FLAGGED = "#d62728"
DPI = 80


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    _pyplot().close(figure)
    return buffer.getvalue()


def _times(frames: Iterable[NightFrame]) -> list[datetime]:
    return [datetime.fromtimestamp(frame.time, UTC) for frame in frames]


def _time_axis(axes: Any) -> None:
    """UTC ticks, each label once: seconds appear only when the ticks are that close."""
    from matplotlib import dates

    locator = dates.AutoDateLocator(minticks=2, maxticks=6, tz=UTC)
    formatter = dates.ConciseDateFormatter(locator, tz=UTC, show_offset=False,
                                           formats=["%Y", "%b", "%d", "%H:%M", "%H:%M",
                                                    "%H:%M:%S"])
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(formatter)
    axes.grid(alpha=0.3)


#: The checks whose flag rings a point of each plot (``'IM2:biasjump'`` rings IM2's bias).
CHECKS = {"bias": ("dead", "bias", "biasjump"), "noise": ("dead", "noise")}
BIN = 900  # seconds: frames are counted per quarter hour of the clock


def quarter_hours(first: float, last: float) -> tuple[float, int]:
    """The start of the clock's quarter hour holding ``first`` and how many quarter hours
    reach ``last`` (epoch seconds), at most 96.

    >>> quarter_hours(3900.0, 4000.0), quarter_hours(3599.0, 3601.0)
    ((3600.0, 1), (2700.0, 2))
    """
    start = first - first % BIN
    return start, max(1, min(96, int((last - start) // BIN) + 1))


def flagged_by(frame: NightFrame, amp: str, value: str) -> bool:
    """Whether this plot's check (bias or noise) flagged ``amp`` of ``frame``."""
    marks = {f"{amp}:{check}" for check in CHECKS[value]}
    return frame.quality is not None and any(
        finding.flag in marks for finding in frame.quality.findings)


def _instrument(frame: NightFrame) -> str:
    return frame.record.channel.upper()


def activity_plot(frames: list[NightFrame]) -> bytes:
    """Frames per 15 minutes (stacked by verdict) and each frame's latency, against the UTC
    of the exposure start (a frame whose exposure time is unknown is left out)."""
    frames = [frame for frame in frames if frame.exposed is not None]
    pyplot = _pyplot()
    figure, (counts, latency) = pyplot.subplots(2, 1, figsize=(10, 4.6), sharex=True)
    figure.subplots_adjust(left=0.07, right=0.98, top=0.92, bottom=0.11, hspace=0.08)
    times = _times(frames)
    start, bins = quarter_hours(min(f.time for f in frames), max(f.time for f in frames))
    first = datetime.fromtimestamp(start, UTC)
    groups = {"OK": "#2ca02c", "WARN": "#ff9f1c", "BAD": FLAGGED, "FAILED": "#555555"}
    stacked = [[t for t, f in zip(times, frames, strict=True) if (f.verdict or "OK") == v]
               for v in groups]
    counts.hist(stacked, bins=bins, range=(_num(first), _num(first) + bins * BIN / 86400),
                stacked=True, color=list(groups.values()), label=list(groups))
    counts.set_ylabel("frames / 15 min")
    # Above the bars, never over them.
    counts.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, ncols=4,
                  frameon=False, borderaxespad=0.1)
    for instrument, colour in COLOURS.items():
        points = [(t, f.latency) for t, f in zip(times, frames, strict=True)
                  if _instrument(f) == instrument and f.latency is not None]
        if points:
            latency.plot(*zip(*points, strict=True), "o", ms=3, color=colour, label=instrument)
    latency.set_ylabel("latency (s)")
    latency.set_xlabel("UTC")
    if latency.get_legend_handles_labels()[0]:
        latency.legend(loc="best", fontsize=8, ncols=4)
    for axes in (counts, latency):
        _time_axis(axes)
    return _png(figure)


def _num(moment: datetime) -> float:
    from matplotlib import dates

    return float(dates.date2num(moment))


def amplifier_plot(frames: list[NightFrame], settings: QualityConfig, value: str) -> bytes:
    """``value`` ('bias' or 'noise') of IM1..IM4 against UTC, one panel per amplifier.

    Every line is named in the legend above the panels. Noise: each channel's
    configured band, dashed and shaded. Bias: the configured band is usually
    far wider than the night's spread, so it is drawn where it falls in view
    and otherwise named in the panel ("band 200..5000 DN, off scale"); the band
    the jump check allows, the night's median ± biasJump, is dotted. A value
    that this plot's check flagged (dead, bias or bias jump; dead or noise) is
    ringed in red; a flag of another check does not ring it.
    """
    pyplot = _pyplot()
    figure, panels = pyplot.subplots(1, 4, figsize=(12, 3.1), sharex=True)
    figure.subplots_adjust(left=0.045, right=0.99, top=0.78, bottom=0.11, wspace=0.25)
    unit = "DN" if value == "bias" else "DN rms"
    for axes, amp in zip(panels, AMPLIFIERS, strict=True):
        _amplifier_panel(axes, frames, settings, amp, value)
        axes.set_title(f"{amp} {'bias level' if value == 'bias' else 'read noise'} ({unit})",
                       fontsize=9)
        _time_axis(axes)
        axes.tick_params(labelsize=7)
    figure.legend(handles=_legend(frames, value), loc="upper center", ncols=6, fontsize=8,
                  frameon=False)
    return _png(figure)


def _legend(frames: list[NightFrame], value: str) -> list[Any]:
    """One entry per kind of line: each channel's points, the bands, the rings."""
    from matplotlib.lines import Line2D

    present = {_instrument(frame) for frame in frames if frame.amps}
    entries = [Line2D([], [], ls="", marker=".", color=colour, label=instrument)
               for instrument, colour in COLOURS.items() if instrument in present]
    entries.append(Line2D([], [], ls="--", color="#555555", label="configured band"))
    if value == "bias":
        entries.append(Line2D([], [], ls=":", color="#555555",
                              label="night median ± biasJump"))
    entries.append(Line2D([], [], ls="", marker="o", mfc="none", color=FLAGGED,
                          label=f"flagged by the {value} checks"))
    return entries


def _amplifier_panel(axes: Any, frames: list[NightFrame], settings: QualityConfig, amp: str,
                     value: str) -> None:
    seen: list[float] = []  # every value that must be in view
    for instrument, colour in COLOURS.items():
        points, flagged = [], []
        for frame in frames:
            if _instrument(frame) != instrument:
                continue
            for item in frame.amps if frame.exposed is not None else ():
                if item.amp == amp:
                    number = item.bias if value == "bias" else item.noise
                    moment = datetime.fromtimestamp(frame.time, UTC)
                    points.append((moment, number))
                    if flagged_by(frame, amp, value):
                        flagged.append((moment, number))
        if not points:
            continue
        numbers = [number for _, number in points]
        seen += numbers
        axes.plot(*zip(*points, strict=True), ".", ms=4, color=colour, label=instrument)
        if flagged:
            axes.plot(*zip(*flagged, strict=True), "o", ms=8, mfc="none", color=FLAGGED)
        seen += _band(axes, settings.bands.get(instrument), value, colour)
        if value == "bias":
            middle = statistics.median(numbers)
            for edge in (middle - settings.bias_jump, middle + settings.bias_jump):
                axes.axhline(edge, color=colour, ls=":", lw=1.0)
                seen.append(edge)
    if seen:
        low, high = min(seen), max(seen)
        margin = max((high - low) * 0.08, 0.5 if value == "noise" else 2.0)
        axes.set_ylim(low - margin, high + margin)
        _name_bands_off_scale(axes, {_instrument(frame) for frame in frames if frame.amps},
                              settings, value, (low - margin, high + margin))


def _view(axes: Any, seen: list[float], value: str) -> tuple[float, float] | None:
    """Set the y range to hold ``seen`` with a margin; returns it (None: nothing seen)."""
    if not seen:
        return None
    low, high = min(seen), max(seen)
    margin = max((high - low) * 0.08, 0.5 if value == "noise" else 2.0)
    axes.set_ylim(low - margin, high + margin)
    return low - margin, high + margin


def _name_bands_off_scale(axes: Any, instruments: set[str], settings: QualityConfig,
                          value: str, view: tuple[float, float]) -> None:
    """Write in the panel each channel's band whose edges are both out of view."""
    notes = []
    for instrument in sorted(instruments):
        bands = settings.bands.get(instrument)
        if bands is None:
            continue
        low, high = ((bands.bias_min, bands.bias_max) if value == "bias"
                     else (bands.noise_min, bands.noise_max))
        if not (view[0] <= low <= view[1] or view[0] <= high <= view[1]):
            notes.append(f"{instrument} band {low:g}..{high:g}, off scale")
    if notes:
        axes.text(0.02, 0.03, "\n".join(notes), transform=axes.transAxes, fontsize=7,
                  color="#555555", va="bottom")


def _band(axes: Any, bands: Bands | None, value: str, colour: str) -> list[float]:
    """Shade the configured band; returns its edges when they must be in view (noise)."""
    if bands is None:
        return []
    low, high = ((bands.bias_min, bands.bias_max) if value == "bias"
                 else (bands.noise_min, bands.noise_max))
    axes.axhspan(low, high, color=colour, alpha=0.07, lw=0)
    for edge in (low, high):
        axes.axhline(edge, color=colour, ls="--", lw=0.8, alpha=0.7)
    return [low, high] if value == "noise" else []


def trend_plot(table: dict[str, dict[str, Any]], settings: QualityConfig,
               nights: list[str]) -> bytes:
    """Each amplifier's nightly median bias (top row) and noise (middle row), and the CCD
    temperature (bottom), per channel against the night, with the configured bands."""
    pyplot = _pyplot()
    figure = pyplot.figure(figsize=(12, 7.4))
    grid = figure.add_gridspec(3, 4, left=0.05, right=0.99, top=0.9, bottom=0.09,
                               hspace=0.45, wspace=0.25)
    where = {night: index for index, night in enumerate(nights)}
    channels = sorted({channel for values in table.values() for channel in values})
    for row, value in enumerate(("bias", "noise")):
        for column, amp in enumerate(AMPLIFIERS):
            axes = figure.add_subplot(grid[row, column])
            seen: list[float] = []
            for channel in channels:
                points = [(where[night], getattr(values[channel], value)[amp])
                          for night, values in table.items()
                          if channel in values and amp in getattr(values[channel], value)]
                colour = COLOURS.get(channel, "#333333")
                if points:
                    axes.plot(*zip(*points, strict=True), "o-", ms=3, lw=0.8, color=colour)
                    seen += [number for _, number in points]
                    seen += _band(axes, settings.bands.get(channel), value, colour)
            view = _view(axes, seen, value)
            if view is not None:
                _name_bands_off_scale(axes, set(channels), settings, value, view)
            _night_axis(axes, nights)
            axes.set_title(f"{amp} {'bias level' if value == 'bias' else 'read noise'} (DN)",
                           fontsize=9)
    axes = figure.add_subplot(grid[2, :])
    for channel in channels:
        points = [(where[night], values[channel].ccd_temp) for night, values in table.items()
                  if channel in values and values[channel].ccd_temp is not None]
        if points:
            axes.plot(*zip(*points, strict=True), "o-", ms=3, lw=0.8,
                      color=COLOURS.get(channel, "#333333"))
    axes.set_title("CCD temperature (°C), nightly median", fontsize=9)
    _night_axis(axes, nights, labels=10)
    _trend_legend(figure, channels)
    return _png(figure)


def _night_axis(axes: Any, nights: list[str], labels: int = 4) -> None:
    """Nights as ``MM-DD``, about ``labels`` of them, the whole span in view."""
    step = max(1, -(-len(nights) // labels))
    axes.set_xticks(range(0, len(nights), step),
                    [f"{night[4:6]}-{night[6:]}" for night in nights[::step]])
    axes.set_xlim(-0.5, len(nights) - 0.5)
    axes.tick_params(labelsize=7)
    axes.grid(alpha=0.3)


def _trend_legend(figure: Any, channels: list[str]) -> None:
    from matplotlib.lines import Line2D

    entries = [Line2D([], [], marker="o", ms=3, lw=0.8, color=COLOURS.get(channel, "#333333"),
                      label=channel) for channel in channels]
    entries.append(Line2D([], [], ls="--", color="#555555", label="configured band"))
    figure.legend(handles=entries, loc="upper center", ncols=len(entries), fontsize=8,
                  frameon=False)
