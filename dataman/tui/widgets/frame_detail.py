"""The highlighted frame in full: its verdict first, what it is, where it went, its steps.

One verdict heads the panel, the one an observer acts on: the quality verdict
(BAD, WARN, OK) with its flags, FAILED for a frame that could not be processed,
and beside it the processing result only when the frame is not delivered
(``waiting`` for delivery). Every value read from a frame, its file name or
the service is shown exactly as written (:mod:`dataman.tui.markup`).
"""

from __future__ import annotations

from typing import TypeVar

from textual.content import Content
from textual.widgets import Static

from dataman.core.names import without_name
from dataman.core.timings import STEPS
from dataman.ipc.protocol_snapshot import FrameEntry
from dataman.ipc.states import Result
from dataman.tui import palette
from dataman.tui.format import clock, seconds
from dataman.tui.markup import lines, markup

T = TypeVar("T")
#: Results that mean "delivered": the verdict stands alone.
DELIVERED = (Result.OK, Result.WARNING)


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


def verdict(frame: FrameEntry) -> tuple[str, str]:
    """The one word an observer reads first, and its theme colour: FAILED, else the
    quality verdict, else (not checked) OK for a frame processed (the result, such as
    ``waiting``, stands beside it)."""
    if frame.result == Result.FAILED:
        return "FAILED", "text-error"
    if frame.qc_status:
        return frame.qc_status, palette.QUALITY.get(frame.qc_status, "text-warning")
    if frame.result in (*DELIVERED, Result.WAITING):
        return "OK", palette.RESULT["ok"]
    return frame.result.upper(), "text-warning"


class FrameDetail(Static):
    """Verdict and flags, what the frame is, reason and warnings, checks, paths, step bar."""

    DEFAULT_CSS = """
    FrameDetail { height: auto; padding: 0 1; }
    """

    _frame: FrameEntry | None = None
    _pinned = False

    def __init__(self, *, amps: bool = True, **kwargs) -> None:
        """``amps``: each amplifier's values too (not when the quality panel shows them)."""
        super().__init__(**kwargs)
        self.amps = amps
        self.border_title = "Frame"

    def on_resize(self) -> None:
        self.show(self._frame, pinned=self._pinned)

    def show(self, frame: FrameEntry | None, *, pinned: bool = False) -> None:
        """Draw ``frame``; ``pinned``: the observer picked it, new frames do not replace it."""
        self._frame, self._pinned = frame, pinned
        self.border_subtitle = "pinned · n: newest" if pinned and frame else ""
        if frame is None:
            self.update(markup("[$text-muted]no frame selected[/]"))
            return
        width = max(10, self.content_size.width or 40)
        self.update(lines([*heading(frame, amps=self.amps, width=width),
                           *self._steps(frame.timings, frame.latency)]))

    def _steps(self, timings: dict[str, float], latency: float | None) -> list[str]:
        width = max(10, self.content_size.width or 40)
        bar = "".join(f"[${palette.STEP[step]}]{'█' * count}[/]"
                      for step, count in step_cells(timings, width))
        items = [(f"[${palette.STEP[step]}]■[/] {step} {seconds(timings[step])}",
                  len(f"■ {step} {seconds(timings[step])}"))
                 for step in STEPS if step in timings]
        # The steps add up to their sum; the latency (request to delivery) adds the wait.
        steps = sum(timings.get(step, 0.0) for step in STEPS)
        if steps:
            text = f"steps {seconds(steps)}"
            items.append((f"[bold]{text}[/]", len(text)))
        if latency is not None:
            text = f"latency {seconds(latency)}"
            items.append((f"[bold]{text}[/]", len(text)))
        return ([bar] if bar else []) + fill(items, width)


def heading(frame: FrameEntry, *, amps: bool = True, width: int = 52) -> list[Content]:
    """Every line above the step bar; ``amps``: each amplifier's values too."""
    word, tone = verdict(frame)
    first = f"[bold ${tone}]$word[/]  [bold]$name[/]"
    if frame.result not in DELIVERED and word != "FAILED":  # e.g. waiting for delivery
        first += "  [$text-muted]$result[/]"
    out = [markup(first, word=word, name=frame.name, result=frame.result)]
    if frame.qc_flags:
        out.append(markup(f"[${tone}]$flags[/]", flags=frame.qc_flags))
    kind = what_it_is(frame)
    out += ([kind] if kind is not None else []) + readout(frame, width)
    if frame.reason:
        why = palette.RESULT.get(frame.result, "text-warning")  # why it failed, or waits
        out.append(markup(f"[${why}]$reason[/]", reason=without_name(frame.reason, frame.name)))
    out += [markup("[$text-warning]⚠ $text[/]", text=text) for text in frame.warnings]
    out += quality_lines(frame, amps=amps)
    # Where it went: the delivered file (its name may be a UNIQNAME), else the written one.
    label, path = (("delivered", frame.delivered) if frame.delivered
                   else ("written", frame.processed))
    if path:
        out.append(markup(f"[$text-muted]{label}[/] $path", path=path))
    return out


def what_it_is(frame: FrameEntry) -> Content | None:
    """``OBJECT  300 s  M42 [OIII] field``: image type, exposure time, object."""
    exptime = "" if frame.exptime is None else f"{frame.exptime:g} s"
    parts = [part for part in (frame.imagetyp, exptime, frame.object_name) if part]
    if not parts:
        return None
    return markup("[bold]$kind[/]  $rest", kind=parts[0], rest="  ".join(parts[1:]))


def readout(frame: FrameEntry, width: int) -> list[Content]:
    """``MODS1B  full  bin 1x1  CCD -110.2 °C  base -81.0 °C  finished 03:12:43 UTC`` in
    lines of ``width``; unknown parts left out."""
    parts = [frame.instrument, frame.roi, f"bin {frame.binning}" if frame.binning else ""]
    for label, value in (("CCD", frame.ccd_temp), ("base", frame.base_temp)):
        if value is not None:
            parts.append(f"{label} {value:.1f} °C")
    items = [(markup("$text", text=part), len(part)) for part in parts if part]
    finished = f"finished {clock(frame.finished_at)} UTC"
    items.append((markup(f"[$text-muted]finished[/] {clock(frame.finished_at)} UTC"),
                  len(finished)))
    return [Content("  ").join(row) for row in rows_of(items, width)]


def fill(items: list[tuple[str, int]], width: int, gap: int = 2) -> list[str]:
    """Lay out (markup, visible length) items in lines of at most ``width`` cells.

    >>> fill([("a", 3), ("b", 3), ("c", 3)], 8)
    ['a  b', 'c']
    """
    return [(" " * gap).join(row) for row in rows_of(items, width, gap)]


def rows_of(items: list[tuple[T, int]], width: int, gap: int = 2) -> list[list[T]]:
    """``items`` (each with its visible length) in rows of at most ``width`` cells."""
    rows: list[list[T]] = []
    used = width + 1
    for item, length in items:
        if used + gap + length > width:
            rows.append([item])
            used = length
        else:
            rows[-1].append(item)
            used += gap + length
    return rows


def quality_lines(frame: FrameEntry, *, amps: bool = True) -> list[Content]:
    """Every failed check with its reason, each amplifier's values (``amps``; the verdict
    heads the panel). Nothing for a frame that was not checked (failed, or checks off).
    """
    if frame.qc_status is None:
        return []
    tone = palette.QUALITY.get(frame.qc_status, "text-warning")
    out = [markup(f"[${tone}]✗ $flag[/] $reason", flag=item.flag, reason=item.reason)
           for item in frame.qc_findings]
    for amp in sorted(frame.qc_bias.keys() | frame.qc_noise.keys()) if amps else ():
        values = [f"bias {frame.qc_bias[amp]:.1f}" if amp in frame.qc_bias else "",
                  f"noise {frame.qc_noise[amp]:.2f}" if amp in frame.qc_noise else "",
                  f"sat {frame.qc_saturated[amp]:.2%}" if amp in frame.qc_saturated else ""]
        out.append(markup("[$text-muted]$amp[/] $values", amp=amp,
                          values="  ".join(v for v in values if v)))
    return out
