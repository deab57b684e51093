"""The report's setup checklist: each setup of the night with science, and its calibrations.

The same checklist the console shows live (:mod:`dataman.core.setups`), made
from the night's frames in the journal: a setup without biases, flats or arcs
is marked in red, with what is missing.
"""

from __future__ import annotations

from html import escape

from dataman.core.setups import SetupStatus, checklist
from dataman.ipc.states import FrameState
from dataman.service.records import setup_frames_of
from dataman.service.report.frames import NightFrame

STYLE = """<style>
table.setups td.missing { color: #c0221f; font-weight: 700; }
table.setups td.complete { color: #1e7b1e; }
table.setups tr.missing { background: #fdecec; }
</style>"""
HEADER = ("<tr><th>setup</th><th>OBJECT</th><th>BIAS</th><th>FLAT</th><th>COMP</th>"
          "<th>calibrations</th></tr>")


def night_checklist(frames: list[NightFrame]) -> list[SetupStatus]:
    """The checklist of the night's processed frames."""
    done = (FrameState.PROCESSED, FrameState.DELIVERED)
    return checklist(setup_frames_of(
        (f.record.channel, f.record.gratname, f.record.filtname, f.record.maskname,
         f.record.binning, f.record.roi, f.record.imagetyp, f.record.qc_flags)
        for f in frames if f.record.state in done))


def checklist_section(frames: list[NightFrame]) -> str:
    """``<h2>`` and a table, one row per setup with science; a sentence when there is none."""
    statuses = night_checklist(frames)
    if not statuses:
        return "<h2>Setups</h2><p>No science frame tonight, so no setup to check.</p>"
    missing = sum(1 for status in statuses if status.missing)
    verdict = (f"{missing} of {len(statuses)} setups lack calibrations." if missing
               else f"Every one of the {len(statuses)} setups has its calibrations.")
    rows = "".join(_row(status) for status in statuses)
    return (f'{STYLE}<h2>Setups</h2><p>{escape(verdict)} Biases match on channel, binning and '
            f"readout region; flats and arcs on the whole setup.</p>"
            f'<table class="setups">{HEADER}{rows}</table>')


def _row(status: SetupStatus) -> str:
    css = "missing" if status.missing else "complete"
    numbers = "".join(f'<td class="num">{count}</td>' for count in
                      (status.objects, status.biases, status.flats, status.comps))
    return (f'<tr class="{css}"><td class="name">{escape(status.setup.label())}</td>'
            f'{numbers}<td class="{css}">{escape(status.verdict())}</td></tr>')
