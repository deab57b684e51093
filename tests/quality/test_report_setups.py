"""The night report's setup checklist: a night with one setup missing its arcs, read from
the journal with the night rule (afternoon calibrations belong to the night that follows),
and the page as headless Chromium draws it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from dataman.core.config import Config
from dataman.core.facts import FrameFacts
from dataman.core.quality import Finding, QualityReport
from dataman.service.journal import Journal
from dataman.service.report import write_report
from tests.quality.test_report import browse, screenshot

NIGHT = "20251230"
WIDE, NARROW = "LS5x60x1.0", "LS5x60x0.6"


def at(day: int, hour: int, minute: int) -> float:
    return datetime(2025, 12, day, hour, minute, tzinfo=UTC).timestamp()


#: (requested at, channel, IMAGETYP, mask, QCFLAGS). Night 20251230 runs from 19:00 UTC on
#: Dec 29 (local noon) to 19:00 UTC on Dec 30.
FRAMES = [
    (at(29, 10, 0), "mods1b", "COMP", NARROW, ""),  # last night's arc: not tonight's
    (at(29, 21, 0), "mods1b", "BIAS", WIDE, ""),  # this afternoon's calibrations
    (at(29, 21, 5), "mods1b", "FLAT", WIDE, ""),
    (at(29, 21, 10), "mods1b", "COMP", WIDE, ""),
    (at(29, 21, 15), "mods1b", "FLAT", NARROW, ""),
    (at(29, 21, 20), "mods1b", "COMP", NARROW, "COMP:lines"),  # the lamps did not fire
    (at(29, 21, 25), "mods1r", "BIAS", WIDE, ""),
    (at(29, 21, 30), "mods1r", "FLAT", WIDE, ""),
    (at(29, 21, 35), "mods1r", "COMP", WIDE, ""),
    *((at(30, 3, 10 + 6 * n), "mods1b", "OBJECT", WIDE if n < 2 else NARROW, "")
      for n in range(4)),
    *((at(30, 3, 12 + 6 * n), "mods1r", "OBJECT", WIDE, "") for n in range(3)),
]
SETUP = {"mods1b": ("G400L", "Clear"), "mods1r": ("G670L", "GG495")}


def fill(config: Config) -> None:
    with Journal.open(config.paths.state_dir) as journal:
        for number, (when, channel, imagetyp, mask, flags) in enumerate(FRAMES, start=1):
            night = "20251229" if when < at(29, 19, 0) else NIGHT
            name = f"{channel}.{night}.{number:04d}.fits"
            frame_id = journal.request(name, f"/data/{channel}/{name}", channel, "datagram",
                                       when).id
            journal.start(frame_id, pid=100, now=when + 0.01)
            grating, filter_name = SETUP[channel]
            facts = FrameFacts("full", "1x1", imagetyp, 300.0, "NGC 1976", grating=grating,
                               filter_name=filter_name, mask=mask)
            quality = QualityReport(tuple(Finding(flag, "no arc lines: the lamps did not fire")
                                          for flag in flags.split()))
            journal.processed(frame_id, f"/proc/{name}", name, {}, 0, when + 0.5,
                              delivered_path=f"/newdata/{name}", facts=facts, quality=quality)


def setup_rows(html: str) -> list[str]:
    table = html.split('<table class="setups">')[1].split("</table>")[0]
    cells = [row.split("</tr>")[0] for row in table.split("<tr")[2:]]
    return [" | ".join(part.split(">")[-1] for part in row.split("</td>")[:-1])
            for row in cells]


def test_the_report_lists_each_setup_with_science_and_flags_the_one_without_arcs(config):
    fill(config)
    html = write_report(config, NIGHT).path.read_text()
    assert setup_rows(html) == [
        "MODS1B G400L Clear / LS5x60x0.6 / 1x1 full | 2 | 1 | 1 | 0 | no arcs yet",
        "MODS1B G400L Clear / LS5x60x1.0 / 1x1 full | 2 | 1 | 1 | 1 | complete",
        "MODS1R G670L GG495 / LS5x60x1.0 / 1x1 full | 3 | 1 | 1 | 1 | complete",
    ]
    assert "1 of 3 setups lack calibrations." in html


@pytest.mark.slow
def test_chromium_draws_the_checklist_with_the_setup_flagged(config, tmp_path: Path):
    fill(config)
    written = write_report(config, NIGHT)
    dom = browse(written.path, "--dump-dom", profile=tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<tr class="missing"><td class="name">MODS1B G400L Clear / LS5x60x0.6' in dom.stdout
    image = screenshot(written.path, tmp_path, (1280, 900))
    pixels = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
    flagged_red = (pixels[:, 0] > 170) & (pixels[:, 1] < 60) & (pixels[:, 2] < 60)
    row_tint = (pixels == (0xfd, 0xec, 0xec)).all(axis=1)
    assert flagged_red.sum() > 50 and row_tint.sum() > 1000  # the verdict and its row drawn
