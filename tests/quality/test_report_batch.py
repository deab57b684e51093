"""A night made only with ``dataman process`` gets its report, as the service's nights do:
every frame once, at its exposure start, with its CCD temperature, counts that add up,
and the page as headless Chromium draws it."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from dataman.core import reprocessed
from dataman.core.config import Config
from dataman.service.report import report_path
from dataman.sim.frames import DEFAULT_START
from tests.conftest import make_frame
from tests.quality.test_report import Page, browse, run_dataman, screenshot

NIGHT = "20251230"
#: number: (kind, defects); 4 is cut short after it is written, so it fails.
FRAMES = {1: ("object", {}), 2: ("flat", {"dead": {"IM2": "stuck"}}),
          3: ("comp", {"saturated": {"IM3": 0.05}}), 4: ("bias", {})}


def reprocessed_night(config: Config) -> list[Path]:
    """Four raw frames of one night, 10 minutes apart, processed by ``dataman process``."""
    paths = []
    for number, (kind, defects) in FRAMES.items():
        path = make_frame(config, roi="1kx1k", binning=2, number=number, kind=kind,
                          start=DEFAULT_START + timedelta(minutes=10 * number), **defects)
        paths.append(path)
    paths[-1].write_bytes(paths[-1].read_bytes()[:20000])
    run = run_dataman("process", *paths, "-c", config.source)
    assert run.returncode == 1, run.stdout + run.stderr  # the cut one failed
    return paths


def cells(html: str, name: str) -> list[str]:
    """The text of each cell of ``name``'s row."""
    row = html.split(f'<tr id="{name}"', 1)[1].split("</tr>", 1)[0]
    return re.findall(r"<td[^>]*>(.*?)</td>", row)


@pytest.mark.slow  # two commands run as processes
def test_a_night_made_only_with_dataman_process_is_reported(config: Config):
    paths = reprocessed_night(config)
    assert len(reprocessed.read(config.paths.state_dir, NIGHT)) == 4
    run = run_dataman("report", "--night", NIGHT, "-c", config.source)
    assert run.returncode == 0, run.stdout + run.stderr
    html = report_path(config, NIGHT).read_text()
    names = [path.name for path in paths]
    assert Page(html).rows == names  # in order of exposure
    assert "4 frames (4 of them by dataman process): 3 delivered, 1 failed" in html
    # per image type, most first; the failed frame was never read, so its type is unknown
    assert "<td>image types</td><td>COMP 1, FLAT 1, OBJECT 1, type unknown 1</td>" in html
    first = cells(html, names[0])
    exposed = (DEFAULT_START + timedelta(minutes=10)).strftime("%H:%M:%S")
    assert first[0] == exposed  # the exposure start, not when it was reprocessed
    assert float(first[6]) < -50  # the CCD temperature fixTemps wrote, degC
    assert first[7] == "reprocessed"  # no live latency
    assert cells(html, names[1])[8].startswith("BAD IM2:dead")
    assert cells(html, names[2])[8].startswith("WARN IM3:sat")
    failed = cells(html, names[3])  # never read: its exposure time is unknown
    assert failed[0] == "" and failed[8].startswith("FAILED")
    assert failed[9].startswith("truncated")  # the name is in its row already
    assert "<h2>Exposure time unknown: 1 frames</h2>" in html


@pytest.mark.slow
def test_chromium_draws_the_report_of_a_reprocessed_night(config: Config, tmp_path: Path):
    reprocessed_night(config)
    assert run_dataman("report", "--night", NIGHT, "-c", config.source).returncode == 0
    page = report_path(config, NIGHT)
    dom = browse(page, "--dump-dom", profile=tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert len(Page(dom.stdout).rows) == 4
    image = screenshot(page, tmp_path, (1280, 2400), keep_as="reprocessed-night.png")
    assert image.size == (1280, 2400)
