"""``dataman report --trend``: each amplifier's nightly median bias and noise and the CCD
temperature over the last nights, from the journal and the records of ``dataman process``,
and the page as headless Chromium draws it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dataman.core import reprocessed
from dataman.core.config import Config
from dataman.core.facts import FrameFacts, columns
from dataman.core.quality import AmpQuality, QualityReport
from dataman.service.journal import Journal
from dataman.service.summary import night_window
from tests.quality.test_report import Page, browse, png_of, run_dataman, screenshot

#: Night → IM3's read noise that night (it grows: the question the trend answers) and the
#: CCD temperature. 20251228 was only reprocessed; 20251226 has no frame.
NIGHTS = {"20251224": (3.5, -120.0), "20251225": (3.7, -119.5), "20251227": (3.9, -119.0),
          "20251228": (4.1, -118.5), "20251229": (4.3, -118.0), "20251230": (4.5, -117.5)}
#: Offsets of five frames about the night's value: the median is the value itself, and
#: the one wild frame (a saturated flat, say) does not move it.
SPREAD = (-0.1, 0.0, 0.0, 0.1, 5.0)


def outcome(noise: float, temp: float) -> tuple[FrameFacts, QualityReport]:
    amps = tuple(AmpQuality(amp, quadrant, 1000.0 + 10 * quadrant, 3.0 if amp != "IM3" else
                            noise, 0.0) for quadrant, amp in enumerate(
                                ("IM1", "IM2", "IM3", "IM4"), start=1))
    report = QualityReport((), amps)
    return FrameFacts("full", "1x1", "OBJECT", 300.0, "M42 [OIII]", ccd_temp=temp), report


def fill(config: Config) -> None:
    with Journal.open(config.paths.state_dir) as journal:
        for night, (noise, temp) in NIGHTS.items():
            if night == "20251228":
                continue
            start, _ = night_window(night, config.site.utc_offset)
            for index, offset in enumerate(SPREAD):
                name = f"mods1b.{night}.{index + 1:04d}.fits"
                at = start + 8 * 3600 + 60 * index
                frame_id = journal.request(name, f"/d/{name}", "mods1b", "datagram", at).id
                journal.start(frame_id, pid=1, now=at + 0.1)
                facts, report = outcome(noise + offset, temp + offset)
                journal.processed(frame_id, f"/p/{name}", name, {}, 0, at + 0.5,
                                  delivered_path=f"/n/{name}", facts=facts, quality=report)
    noise, temp = NIGHTS["20251228"]
    for index, offset in enumerate(SPREAD):
        facts, report = outcome(noise + offset, temp + offset)
        reprocessed.append(config.paths.state_dir, {
            "name": f"mods1b.20251228.{index + 1:04d}.fits", "state": "delivered",
            "processed_at": 1.0e9, **columns(facts), "qc_status": "OK", "qc_flags": "",
            "qc": report.to_dict()})


def rows(html: str) -> dict[str, list[str]]:
    found = {}
    for row in re.findall(r"<tr>(<td.*?)</tr>", html):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        found[cells[0]] = cells
    return found


def test_the_trend_has_each_nights_medians_with_the_reprocessed_night(config: Config):
    fill(config)
    run = run_dataman("report", "--trend", "--night", "20251230", "--nights", "7",
                      "-c", config.source)
    assert run.returncode == 0, run.stdout + run.stderr
    html = (config.paths.log_dir / "mods1dm.trend.20251230.html").read_text()
    table = rows(html)
    assert "trend of 7 nights to 20251230: 30 checked frames" in run.stdout
    assert list(table) == [night for night in NIGHTS]  # 20251226 has no row
    for night, (noise, temp) in NIGHTS.items():
        cells = table[night]
        assert cells[1:4] == ["MODS1B", "5", f"{temp:.1f}"]
        assert cells[4:8] == ["1010.0", "1020.0", "1030.0", "1040.0"]  # bias IM1..IM4
        assert cells[8:12] == ["3.00", "3.00", f"{noise:.2f}", "3.00"]  # noise IM1..IM4
    assert "(6 of the 7 nights have any)" in html
    six = run_dataman("report", "--trend", "--night", "20251230", "--nights", "6",
                      "-c", config.source)
    assert "trend of 6 nights to 20251230: 25 checked frames" in six.stdout  # not 20251224


def test_the_trend_of_nights_without_frames_exits_3(config: Config):
    run = run_dataman("report", "--trend", "--night", "20251230", "-c", config.source)
    assert run.returncode == 3
    assert "no checked frames in the 30 nights to 20251230" in run.stderr
    bad = run_dataman("report", "--trend", "--nights", "0", "-c", config.source)
    assert bad.returncode == 2 and "'0' is not a number of nights (1 or more)" in bad.stderr


@pytest.mark.slow
def test_chromium_draws_the_trend(config: Config, tmp_path: Path):
    fill(config)
    assert run_dataman("report", "--trend", "--night", "20251230", "-c",
                       config.source).returncode == 0
    page = config.paths.log_dir / "mods1dm.trend.20251230.html"
    dom = browse(page, "--dump-dom", profile=tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert len(Page(dom.stdout).images) == 1
    png_of(Page(dom.stdout).images[0])
    image = screenshot(page, tmp_path, (1280, 1400), keep_as="trend.png")
    assert image.size == (1280, 1400)
