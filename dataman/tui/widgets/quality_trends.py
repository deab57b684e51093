"""Each amplifier's bias and noise over the recent frames of one channel, against its bands.

A dead amplifier or a bias that jumped after a controller reset shows as a
step in its line long before anyone opens a file. Bias levels differ from one
channel (and CCD) to the next, so the panel follows one channel at a time: the
channel of the frame highlighted in the recent frames table, else the newest.

Each line has one bar per frame, newest on the right. Every amplifier's line
of a quantity is drawn on one common scale, so equal values are equal bars
(3.5 DN of noise is the same bar on IM2 and IM3): the configured band
(``[quality]`` biasMin..biasMax, noiseMin..noiseMax, sent in the snapshot) is
the scale, its lowest bar the band's low end and its full bar the high end, as
the heading says (``noise ▁2..8█ DN``). A value beyond the band is drawn at that
end, and a bar whose value lies outside the band, or whose frame failed that
amplifier's check (a bias jump, a dead output), in the error colour. Without a
band (its check off) the scale is the values' own range, still one for all
amplifiers. The number after each line is the highlighted frame's value (the
newest frame's when the highlighted one is of another channel).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Label

from dataman.ipc.protocol_snapshot import FrameEntry, QualityBand
from dataman.tui.markup import plain
from dataman.tui.model import ServiceView

AMPS = ("IM1", "IM2", "IM3", "IM4")
KINDS = ("bias", "noise")
#: Recent frames of the channel drawn, at most (oldest on the left).
LIMIT = 60
#: The checks whose flag marks a point of each line (``'IM2:biasjump'`` marks IM2's bias).
CHECKS = {"bias": ("dead", "bias", "biasjump"), "noise": ("dead", "noise")}
#: The least vertical span of a line (DN): a bias that wanders by 0.3 DN stays flat.
LEAST_SPAN = {"bias": 4.0, "noise": 0.4}
BARS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Point:
    """One frame's value on a line, and whether it is out (of band, or flagged)."""

    value: float
    out: bool


def band_of(band: QualityBand | None, kind: str) -> tuple[float | None, float | None]:
    """The (low, high) limits of line ``kind`` in ``band``; (None, None) if not checked."""
    if band is None:
        return None, None
    if kind == "bias":
        return band.bias_min, band.bias_max
    return band.noise_min, band.noise_max


def outside(value: float, limits: tuple[float | None, float | None]) -> bool:
    low, high = limits
    return (low is not None and value < low) or (high is not None and value > high)


def trends(frames: list[FrameEntry], instrument: str, band: QualityBand | None = None,
           limit: int = LIMIT) -> dict[tuple[str, str], list[Point]]:
    """``(amp, 'bias'|'noise')`` → points over the last ``limit`` checked frames of
    ``instrument``, oldest first (``frames`` newest first, as the recent list)."""
    mine = [item for item in frames
            if item.instrument == instrument and item.qc_status is not None][:limit]
    mine.reverse()
    lines: dict[tuple[str, str], list[Point]] = {}
    for amp in AMPS:
        for kind in KINDS:
            limits = band_of(band, kind)
            marks = {f"{amp}:{check}" for check in CHECKS[kind]}
            points = []
            for item in mine:
                values = item.qc_bias if kind == "bias" else item.qc_noise
                if amp in values:
                    flagged = any(finding.flag in marks for finding in item.qc_findings)
                    points.append(Point(values[amp], flagged or outside(values[amp], limits)))
            lines[(amp, kind)] = points
    return lines


def scale(lines: list[list[Point]], limits: tuple[float | None, float | None],
          least_span: float) -> tuple[float, float]:
    """The (low, high) of every line of one quantity: the band when both its ends are
    configured, else the values' range (an end of the band, when set, replaces its
    side), widened to ``least_span`` about its middle.

    >>> scale([[Point(3.0, False)], [Point(9.8, True)]], (2.0, 8.0), 0.4)
    (2.0, 8.0)
    >>> scale([[Point(1000.0, False)], [Point(1030.0, False)]], (None, None), 4.0)
    (1000.0, 1030.0)
    >>> scale([[Point(3.0, False)]], (None, None), 0.4)
    (2.8, 3.2)
    """
    values = [point.value for line in lines for point in line]
    low, high = limits
    low = low if low is not None else min(values, default=0.0)
    high = high if high is not None else max(values, default=0.0)
    if high - low < least_span:
        middle = (low + high) / 2
        low, high = middle - least_span / 2, middle + least_span / 2
    return low, high


def bars(points: list[Point], width: int, span: tuple[float, float]) -> list[tuple[str, bool]]:
    """The last ``width`` points as (bar, out) pairs on the scale ``span`` (low, high);
    a value beyond it is drawn at its end.

    >>> bars([Point(10, False), Point(20, False), Point(15, True)], 5, (10.0, 20.0))
    [('▁', False), ('█', False), ('▅', True)]
    >>> [bar for bar, _ in bars([Point(0.0, True), Point(9.8, True)], 2, (2.0, 8.0))]
    ['▁', '█']
    """
    shown = points[-width:] if width > 0 else []
    low, high = span
    top = len(BARS) - 1
    return [(BARS[min(top, max(0, round((p.value - low) / (high - low) * top)))], p.out)
            for p in shown]


class BandTrend(Widget):
    """One line of bars, newest on the right; bars out of band in the error colour."""

    COMPONENT_CLASSES = {"bandtrend--in", "bandtrend--out"}  # noqa: RUF012
    DEFAULT_CSS = """
    BandTrend { height: 1; }
    BandTrend > .bandtrend--in { color: $success; }
    BandTrend > .bandtrend--out { color: $error; text-style: bold; }
    """
    points: reactive[list[Point]] = reactive(list, always_update=True)
    span: tuple[float, float] = (0.0, 1.0)

    def render(self) -> Text:
        width = self.size.width
        styles = {False: self.get_component_rich_style("bandtrend--in"),
                  True: self.get_component_rich_style("bandtrend--out")}
        drawn = bars(self.points, width, self.span)
        text = Text(" " * (width - len(drawn)), no_wrap=True)
        for bar, out in drawn:
            text.append(bar, styles[out])
        return text


class QualityTrends(Vertical):
    """One line per amplifier, IM1..IM4: its bias and its noise as trend lines, each
    followed by the newest value (DN); the title names the channel drawn, the
    heading the bands."""

    DEFAULT_CSS = """
    QualityTrends { height: auto; padding: 0 1; }
    QualityTrends Horizontal { height: 1; }
    QualityTrends .name { width: 4; color: $text-muted; }
    QualityTrends BandTrend { width: 1fr; }
    QualityTrends .value { width: 8; text-align: right; margin-right: 1; }
    QualityTrends .value.-out { color: $error; text-style: bold; }
    QualityTrends .heading { color: $text-muted; width: 1fr; }
    QualityTrends #quality-empty { color: $text-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Quality"
        self.instrument: str | None = None
        self.lines = {(amp, kind): BandTrend() for amp in AMPS for kind in KINDS}
        self.values = {key: Label("", classes="value") for key in self.lines}
        self.rows = {amp: Horizontal() for amp in AMPS}
        self.headings = {kind: Label(f"{kind} DN", classes="heading") for kind in KINDS}
        self.heading = Horizontal(Label("", classes="name"), *self.headings.values())
        self.empty = Label("no checked frames yet", id="quality-empty")

    def compose(self) -> ComposeResult:
        yield self.empty
        yield self.heading
        for amp in AMPS:
            with self.rows[amp]:
                yield Label(amp, classes="name")
                for kind in KINDS:
                    yield self.lines[(amp, kind)]
                    yield self.values[(amp, kind)]

    def show(self, view: ServiceView, selected: FrameEntry | None = None) -> None:
        """Draw the channel of ``selected`` (else of the newest checked frame)."""
        checked = [item for item in view.recent if item.qc_status is not None]
        instrument = (selected.instrument if selected is not None and selected.qc_status
                      else checked[0].instrument if checked else None)
        self.instrument = instrument
        self.border_title = plain(f"Quality {instrument}" if instrument else "Quality")
        self.empty.display = instrument is None
        self.heading.display = instrument is not None
        band = view.quality_bands.get(instrument) if instrument else None
        lines = trends(view.recent, instrument, band) if instrument else {}
        spans = {kind: scale([lines.get((amp, kind), []) for amp in AMPS], band_of(band, kind),
                             LEAST_SPAN[kind]) for kind in KINDS}
        for kind, heading in self.headings.items():
            heading.update(heading_text(kind, spans[kind]))
        shown = selected if selected is not None and selected.instrument == instrument \
            and selected.qc_status else (checked[0] if checked else None)
        for key, line in self.lines.items():
            line.span = spans[key[1]]
            line.points = lines.get(key, [])
            self._value(key, shown, band)
        for amp in AMPS:
            self.rows[amp].display = any(lines.get((amp, kind)) for kind in KINDS)

    def _value(self, key: tuple[str, str], frame: FrameEntry | None,
               band: QualityBand | None) -> None:
        """The value of ``frame`` (the highlighted one) after the line, red when out."""
        amp, kind = key
        values = (frame.qc_bias if kind == "bias" else frame.qc_noise) if frame else {}
        label = self.values[key]
        if amp not in values:
            label.update("")
            label.set_class(False, "-out")
            return
        marks = {f"{amp}:{check}" for check in CHECKS[kind]}
        assert frame is not None
        out = outside(values[amp], band_of(band, kind)) or any(
            finding.flag in marks for finding in frame.qc_findings)
        label.update(f"{values[amp]:.{1 if kind == 'bias' else 2}f}")
        label.set_class(out, "-out")


def heading_text(kind: str, span: tuple[float, float]) -> str:
    """``'noise ▁2..8█ DN'``: the line and its scale, lowest and full bar.

    >>> heading_text("noise", (0.5, 8.0))
    'noise ▁0.5..8█ DN'
    """
    low, high = span
    return f"{kind} {BARS[0]}{low:.4g}..{high:.4g}{BARS[-1]} DN"
