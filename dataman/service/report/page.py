"""The night report as one self-contained HTML page: styles and images inline, no network.

The frames are grouped by the UTC hour their exposure started, one table
each. Every frame has its row; thumbnails (``data:`` PNGs) are inlined for
the first ``THUMBNAILS_PER_HOUR`` frames of each hour and for every flagged
or failed one, so that a night of thousands of frames (a long series of
biases) still makes a page a browser opens at once; the section says how
many were left out.
"""

from __future__ import annotations

import base64
import statistics
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from itertools import groupby

from dataman.service.report.checklist import checklist_section
from dataman.service.report.frames import NightFrame

THUMBNAILS_PER_HOUR = 40
#: Flagged frames listed at the top, each linked to its row; the rest are in the tables.
FLAGGED_LISTED = 200
STYLE = """
body { font: 14px/1.35 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { margin-top: 1.6em; font-size: 1.2em; }
.meta { color: #666; } .plot { max-width: 100%; display: block; margin: 0.6em 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: left;
         vertical-align: middle; }
th { background: #f3f3f3; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.name { font-family: ui-monospace, monospace; white-space: nowrap; }
.OK { color: #1e7b1e; } .WARN { color: #b36b00; font-weight: 600; }
.BAD, .FAILED { color: #c0221f; font-weight: 700; }
tr.flagged { background: #fff5e6; } tr.bad { background: #fdecec; }
img.thumb { height: 48px; image-rendering: auto; display: block; }
.summary td { border: none; padding: 2px 12px 2px 0; }
"""


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _hour(frame: NightFrame) -> str:
    if frame.exposed is None:
        return "Exposure time unknown"
    return datetime.fromtimestamp(frame.exposed, UTC).strftime("%Y-%m-%d %H:00 UTC")


def _number(value: float | None, form: str) -> str:
    return "" if value is None else format(value, form)


#: The states a frame of the night can be in, as the summary names them, in its order.
STATES = {"delivered": "delivered", "processed": "awaiting delivery", "failed": "failed",
          "running": "being processed", "queued": "queued"}


def counts_line(frames: list[NightFrame]) -> str:
    """``20 frames: 17 delivered, 1 awaiting delivery, 1 failed, 1 queued``: every frame in
    exactly one count (a state left out when no frame is in it, but for delivered and
    failed), and how many of them ``dataman process`` did."""
    states = Counter(str(frame.record.state) for frame in frames)
    parts = [f"{states.get(state, 0)} {words}" for state, words in STATES.items()
             if states.get(state) or state in ("delivered", "failed")]
    batch = sum(frame.batch for frame in frames)
    again = f" ({batch} of them by dataman process)" if batch else ""
    return f"{len(frames)} frames{again}: " + ", ".join(parts)


def types_line(frames: list[NightFrame]) -> str:
    """``OBJECT 12, FLAT 5, BIAS 3, type unknown 1``: frames per image type, most first."""
    kinds = Counter(frame.record.imagetyp or "type unknown" for frame in frames)
    return ", ".join(f"{kind} {count}" for kind, count in
                     sorted(kinds.items(), key=lambda item: (-item[1], item[0])))


def _summary(frames: list[NightFrame]) -> str:
    verdicts = Counter(frame.verdict or "unchecked" for frame in frames)
    latencies = [f.latency for f in frames if f.latency is not None]
    channels = Counter(frame.record.channel.upper() for frame in frames)
    checked = sum(verdicts.get(v, 0) for v in ("OK", "WARN", "BAD"))
    rows = [
        ("frames", counts_line(frames)),
        ("image types", types_line(frames)),
        ("quality", ", ".join(f"{verdicts.get(v, 0)} {v}" for v in ("OK", "WARN", "BAD"))
         + f" ({len(frames) - checked} not checked)"),
        ("latency", f"median {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s"
         if latencies else "n/a"),
        ("channels", ", ".join(f"{name} {count}" for name, count in sorted(channels.items()))),
    ]
    cells = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="summary">{cells}</table>'


def _flagged_list(frames: list[NightFrame]) -> str:
    flagged = [f for f in frames if f.verdict in ("WARN", "BAD", "FAILED")]
    if not flagged:
        return "<p>No frame was flagged.</p>"
    items = "".join(
        f'<li><a href="#{escape(f.name)}">{escape(f.name)}</a> '
        f'<span class="{f.verdict}">{f.verdict}</span> '
        f'{escape(f.record.qc_flags or "")} {escape(f.reason)}</li>'
        for f in flagged[:FLAGGED_LISTED])
    more = (f"<p>… and {len(flagged) - FLAGGED_LISTED} more flagged frames, marked in the "
            f"tables below.</p>" if len(flagged) > FLAGGED_LISTED else "")
    return f"<p>{len(flagged)} frames flagged or failed.</p><ul>{items}</ul>{more}"


def _row(frame: NightFrame, thumbnail: bytes | None, left_out: bool) -> str:
    record = frame.record
    moment = ("" if frame.exposed is None
              else datetime.fromtimestamp(frame.exposed, UTC).strftime("%H:%M:%S"))
    latency = "reprocessed" if frame.batch else _number(frame.latency, ".2f")
    readout = " ".join(part for part in (record.roi or "", record.binning or "") if part)
    verdict = frame.verdict
    css = {"WARN": "flagged", "BAD": "bad", "FAILED": "bad"}.get(verdict, "")
    if thumbnail is not None:
        picture = (f'<img class="thumb" alt="{escape(frame.name)}" '
                   f'src="{data_uri(thumbnail)}">')
    else:
        picture = "…" if left_out else ""
    cells = [
        f'<td class="num">{moment}</td>',
        f'<td class="name">{escape(frame.name)}</td>',
        f"<td>{escape(record.imagetyp or '')}</td>",
        f"<td>{escape(readout)}</td>",
        f'<td class="num">{_number(record.exptime, "g")}</td>',
        f"<td>{escape(record.object_name or '')}</td>",
        f'<td class="num">{_number(record.ccd_temp, ".1f")}</td>',
        f'<td class="num">{latency}</td>',
        f'<td class="{escape(verdict)}">{escape(verdict)} {escape(record.qc_flags or "")}</td>',
        f"<td>{escape(frame.reason)}</td>",
        f"<td>{picture}</td>",
    ]
    return f'<tr id="{escape(frame.name)}" class="{css}">{"".join(cells)}</tr>'


HEADER = ("<tr><th>exposed (UTC)</th><th>frame</th><th>type</th><th>ROI, binning</th>"
          "<th>exp (s)</th><th>object</th><th>CCD (°C)</th><th>latency (s)</th>"
          "<th>quality</th><th>reason</th><th>thumbnail</th></tr>")


def _section(hour: str, frames: list[NightFrame],
             thumbnails: Callable[[NightFrame], bytes | None]) -> str:
    rows, left_out = [], 0
    for index, frame in enumerate(frames):
        keep = index < THUMBNAILS_PER_HOUR or frame.verdict in ("WARN", "BAD", "FAILED")
        left_out += not keep
        rows.append(_row(frame, thumbnails(frame) if keep else None, not keep))
    note = (f'<p class="meta">Thumbnails of the first {THUMBNAILS_PER_HOUR} frames of this '
            f"hour and of every flagged one; {left_out} more left out (…) to keep the page "
            f"small.</p>" if left_out else "")
    return (f"<h2>{escape(hour)}: {len(frames)} frames</h2>{note}"
            f"<table>{HEADER}{''.join(rows)}</table>")


def render(night: str, frames: list[NightFrame], plots: dict[str, bytes],
           thumbnails: Callable[[NightFrame], bytes | None], *, partial: bool,
           written_at: datetime, source: str) -> str:
    """The whole page; ``plots`` maps a caption to a PNG, shown in that order."""
    title = f"dataMan night report {night}" + (" (so far)" if partial else "")
    figures = "".join(f'<h2>{escape(caption)}</h2><img class="plot" alt="{escape(caption)}" '
                      f'src="{data_uri(png)}">' for caption, png in plots.items())
    sections = "".join(_section(hour, list(group), thumbnails)
                       for hour, group in groupby(frames, key=_hour))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1>"
            f'<p class="meta">Written {written_at:%Y-%m-%d %H:%M:%S} UTC from '
            f"{escape(source)}. Times are UTC: each frame's is the start of its exposure "
            f"(DATE-OBS), or its request when the header has none; latency is from the "
            f"request to the copy in repoDir (none for a frame reprocessed by dataman "
            f"process).</p>{_summary(frames)}{checklist_section(frames)}"
            f"<h2>Flagged frames</h2>{_flagged_list(frames)}"
            f"{figures}{sections}</body></html>\n")
