"""The highlighted frame in full: result and reason, quality checks, where it went, its steps."""

from __future__ import annotations

from textual.markup import escape
from textual.widgets import Static

from dataman.ipc.protocol_snapshot import FrameEntry
from dataman.tui import palette
from dataman.tui.format import clock, seconds
from dataman.tui.model import STEPS


def step_cells(timings: dict[str, float], width: int) -> list[tuple[str, int]]:
    """Split ``width`` cells among the steps in proportion to their times.

    Every step that took any time gets at least one cell; the rounding error
    goes to the longest step, so the cells always add up to ``width``.

    >>> step_cells({"read": 0.3, "fixes": 0.01, "otm": 0.1, "write": 0.1, "deliver": 0.0}, 20)
    [('read', 11), ('fixes', 1), ('otm', 4), ('write', 4)]
    """
    times = [(step, timings.get(step, 0.0)) for step in STEPS]
    times = [(step, value) for step, value in times if value > 0]
    total = sum(value for _, value in times)
    if not times or width <= 0:
        return []
    cells = [(step, max(1, round(width * value / total))) for step, value in times]
    longest = max(range(len(cells)), key=lambda index: times[index][1])
    step, count = cells[longest]
    cells[longest] = (step, max(1, count + width - sum(count for _, count in cells)))
    return cells


class FrameDetail(Static):
    """Name, readout, result with reason and warnings, output paths, per-step bar."""

    DEFAULT_CSS = """
    FrameDetail { height: auto; padding: 0 1; }
    """

    _frame: FrameEntry | None = None

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Frame"

    def on_resize(self) -> None:
        self.show(self._frame)

    def show(self, frame: FrameEntry | None) -> None:
        self._frame = frame
        if frame is None:
            self.update("[$text-muted]no frame selected[/]")
            return
        result = frame.result
        tone = palette.RESULT.get(result, "text-warning")
        name, readout = escape(frame.name), _readout(frame)
        lines = [f"[bold]{name}[/]  [bold ${tone}]{result.upper()}[/]",
                 f"{readout}  finished {clock(frame.finished_at)}"]
        if frame.reason:
            lines.append(f"[${tone}]{escape(frame.reason)}[/]")
        lines += [f"[$text-warning]⚠ {escape(text)}[/]" for text in frame.warnings]
        lines += quality_lines(frame)
        for label, path in (("written to  ", frame.processed),
                            ("delivered to", frame.delivered)):
            if path:
                lines.append(f"[$text-muted]{label}[/] {_where(path, frame.name)}")
        lines += self._steps(frame.timings, frame.latency)
        self.update("\n".join(lines))

    def _steps(self, timings: dict[str, float], latency: float | None) -> list[str]:
        width = max(10, self.content_size.width or 40)
        bar = "".join(f"[${palette.STEP[step]}]{'█' * count}[/]"
                      for step, count in step_cells(timings, width))
        items = [(f"[${palette.STEP[step]}]■[/] {step} {seconds(timings[step])}",
                  len(f"■ {step} {seconds(timings[step])}"))
                 for step in STEPS if step in timings]
        if latency is not None:
            total = f"total {seconds(latency)}"
            items.append((f"[bold]{total}[/]", len(total)))
        return ([bar] if bar else []) + fill(items, width)


def fill(items: list[tuple[str, int]], width: int, gap: int = 2) -> list[str]:
    """Lay out (markup, visible length) items in lines of at most ``width`` cells.

    >>> fill([("a", 3), ("b", 3), ("c", 3)], 8)
    ['a  b', 'c']
    """
    lines: list[list[str]] = []
    used = width + 1
    for markup, length in items:
        if used + gap + length > width:
            lines.append([markup])
            used = length
        else:
            lines[-1].append(markup)
            used += gap + length
    return [(" " * gap).join(line) for line in lines]


def quality_lines(frame: FrameEntry) -> list[str]:
    """The quality verdict, every failed check with its reason, each amplifier's values.

    Nothing for a frame that was not checked (failed, or the checks are off).
    """
    status = frame.qc_status
    if status is None:
        return []
    tone = palette.QUALITY.get(status, "text-warning")
    lines = [f"[$text-muted]quality[/] [bold ${tone}]{escape(status)}[/]"]
    lines += [f"[${tone}]✗ {escape(item.flag)}[/] {escape(item.reason)}"
              for item in frame.qc_findings]
    for amp in sorted(frame.qc_bias.keys() | frame.qc_noise.keys()):
        values = [f"bias {frame.qc_bias[amp]:.1f}" if amp in frame.qc_bias else "",
                  f"noise {frame.qc_noise[amp]:.2f}" if amp in frame.qc_noise else "",
                  f"sat {frame.qc_saturated[amp]:.2%}" if amp in frame.qc_saturated else ""]
        lines.append(f"[$text-muted]{escape(amp)}[/] " + "  ".join(v for v in values if v))
    return lines


def _where(path: object, name: object) -> str:
    """The folder a frame went to (its name is the panel's first line), else the path."""
    text = str(path)
    folder, _, base = text.rpartition("/")
    return escape(f"{folder}/" if base == name and folder else text)


def _readout(frame: FrameEntry) -> str:
    """``MODS1B  3kx3k  bin 1x1``."""
    return escape(f"{frame.instrument or '?'}  {frame.roi or '?'}  "
                  f"bin {frame.binning or '?'}")
