"""A sparkline of the latest frames' latencies, datagram to delivery, with its range."""

from __future__ import annotations

import statistics

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline

from dataman.tui.format import seconds
from dataman.tui.model import ServiceView


class LatencyChart(Vertical):
    """Latency of the last frames, oldest on the left; min / median / max below."""

    DEFAULT_CSS = """
    LatencyChart { height: auto; padding: 0 1; }
    LatencyChart Sparkline { height: 1; }
    LatencyChart Label { color: $text-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Latency"
        self.sparkline = Sparkline([], summary_function=max)
        self.summary = Label("no frames yet")

    def compose(self) -> ComposeResult:
        yield self.sparkline
        yield self.summary

    def show(self, view: ServiceView) -> None:
        values = view.latencies()
        self.sparkline.data = values
        label = self.summary
        if not values:
            label.update("no frames yet")
            return
        label.update(f"last {len(values)}: min {seconds(min(values))}  median "
                     f"{seconds(statistics.median(values))}  max {seconds(max(values))}")
