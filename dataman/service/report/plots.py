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
    from matplotlib import dates

    axes.xaxis.set_major_locator(dates.AutoDateLocator(minticks=2, maxticks=6, tz=UTC))
    axes.xaxis.set_major_formatter(dates.DateFormatter("%H:%M", tz=UTC))
    axes.grid(alpha=0.3)


def _instrument(frame: NightFrame) -> str:
    return frame.record.channel.upper()


def activity_plot(frames: list[NightFrame]) -> bytes:
    """Frames per 15 minutes (stacked by verdict) and each frame's latency, against UTC."""
    pyplot = _pyplot()
    figure, (counts, latency) = pyplot.subplots(2, 1, figsize=(10, 4.4), sharex=True)
    figure.subplots_adjust(left=0.07, right=0.98, top=0.97, bottom=0.11, hspace=0.08)
    times = _times(frames)
    first, last = min(times), max(times)
    span = max((last - first).total_seconds(), 1.0)
    bins = max(1, min(96, int(span // 900) + 1))
    groups = {"OK": "#2ca02c", "WARN": "#ff9f1c", "BAD": FLAGGED, "FAILED": "#555555"}
    stacked = [[t for t, f in zip(times, frames, strict=True) if (f.verdict or "OK") == v]
               for v in groups]
    counts.hist(stacked, bins=bins, range=(_num(first), _num(first) + bins * 900 / 86400),
                stacked=True, color=list(groups.values()), label=list(groups))
    counts.set_ylabel("frames / 15 min")
    counts.legend(loc="upper right", fontsize=8, ncols=4)
    for instrument, colour in COLOURS.items():
        points = [(t, f.latency) for t, f in zip(times, frames, strict=True)
                  if _instrument(f) == instrument and f.latency is not None]
        if points:
            latency.plot(*zip(*points, strict=True), "o", ms=3, color=colour, label=instrument)
    latency.set_ylabel("latency (s)")
    latency.set_xlabel("UTC")
    if latency.get_legend_handles_labels()[0]:
        latency.legend(loc="upper right", fontsize=8, ncols=4)
    for axes in (counts, latency):
        _time_axis(axes)
    return _png(figure)


def _num(moment: datetime) -> float:
    from matplotlib import dates

    return float(dates.date2num(moment))


def amplifier_plot(frames: list[NightFrame], settings: QualityConfig, value: str) -> bytes:
    """``value`` ('bias' or 'noise') of IM1..IM4 against UTC, one panel per amplifier.

    Noise: each channel's configured band, shaded. Bias: the configured band is
    usually far wider than the night's spread, so it is shaded where it falls in
    view, and the band the jump check allows, the night's median ± biasJump, is
    dotted. Flagged values are ringed in red.
    """
    pyplot = _pyplot()
    figure, panels = pyplot.subplots(1, 4, figsize=(12, 2.8), sharex=True)
    figure.subplots_adjust(left=0.045, right=0.99, top=0.9, bottom=0.12, wspace=0.25)
    unit = "DN" if value == "bias" else "DN rms"
    for axes, amp in zip(panels, AMPLIFIERS, strict=True):
        _amplifier_panel(axes, frames, settings, amp, value)
        axes.set_title(f"{amp} {'bias level' if value == 'bias' else 'read noise'} ({unit})",
                       fontsize=9)
        _time_axis(axes)
        axes.tick_params(labelsize=7)
    return _png(figure)


def _amplifier_panel(axes: Any, frames: list[NightFrame], settings: QualityConfig, amp: str,
                     value: str) -> None:
    seen: list[float] = []  # every value that must be in view
    for instrument, colour in COLOURS.items():
        points, flagged = [], []
        for frame in frames:
            if _instrument(frame) != instrument:
                continue
            for item in frame.amps:
                if item.amp == amp:
                    number = item.bias if value == "bias" else item.noise
                    moment = datetime.fromtimestamp(frame.time, UTC)
                    points.append((moment, number))
                    if frame.quality and any(f.flag.startswith(f"{amp}:") for f in
                                             frame.quality.findings):
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
