"""Each amplifier's bias and noise over the recent frames of one channel, as sparklines.

A dead amplifier or a bias that jumped after a controller reset shows as a
step in its line long before anyone opens a file. Bias levels differ from one
channel (and CCD) to the next, so the panel follows one channel at a time: the
channel of the frame highlighted in the recent frames table, else the newest.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Sparkline

from dataman.ipc.protocol_snapshot import FrameEntry
from dataman.tui.model import ServiceView

AMPS = ("IM1", "IM2", "IM3", "IM4")
KINDS = ("bias", "noise")
#: Recent frames of the channel drawn, at most (oldest on the left).
LIMIT = 60


def trends(frames: list[FrameEntry], instrument: str,
           limit: int = LIMIT) -> dict[tuple[str, str], list[float]]:
    """``(amp, 'bias'|'noise')`` → values over the last ``limit`` checked frames of
    ``instrument``, oldest first (``frames`` newest first, as the recent list)."""
    mine = [item for item in frames
            if item.instrument == instrument and item.qc_status is not None][:limit]
    mine.reverse()
    values: dict[tuple[str, str], list[float]] = {}
    for amp in AMPS:
        values[(amp, "bias")] = [item.qc_bias[amp] for item in mine if amp in item.qc_bias]
        values[(amp, "noise")] = [item.qc_noise[amp] for item in mine if amp in item.qc_noise]
    return values


class QualityTrends(Vertical):
    """One line per amplifier, IM1..IM4: its bias and its noise as sparklines, each
    followed by the newest value (DN); the title names the channel drawn."""

    DEFAULT_CSS = """
    QualityTrends { height: auto; padding: 0 1; }
    QualityTrends Horizontal { height: 1; }
    QualityTrends .name { width: 4; color: $text-muted; }
    QualityTrends Sparkline { width: 1fr; height: 1; }
    QualityTrends .value { width: 8; text-align: right; margin-right: 1; }
    QualityTrends .heading { color: $text-muted; width: 1fr; }
    QualityTrends #quality-empty { color: $text-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Quality"
        self.instrument: str | None = None
        self.lines = {(amp, kind): Sparkline([], summary_function=max)
                      for amp in AMPS for kind in KINDS}
        self.values = {key: Label("", classes="value") for key in self.lines}
        self.rows = {amp: Horizontal() for amp in AMPS}
        self.heading = Horizontal(
            Label("", classes="name"), Label("bias (DN)", classes="heading"),
            Label("noise (DN)", classes="heading"))
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
        self.border_title = f"Quality {instrument}" if instrument else "Quality"
        self.empty.display = instrument is None
        self.heading.display = instrument is not None
        values = trends(view.recent, instrument) if instrument else {}
        for key, line in self.lines.items():
            data = values.get(key, [])
            line.data = data
            digits = 1 if key[1] == "bias" else 2
            self.values[key].update(f"{data[-1]:.{digits}f}" if data else "")
        for amp in AMPS:
            self.rows[amp].display = any(values.get((amp, kind)) for kind in KINDS)
