"""The night report: every frame's row, images inline and whole, thousands of frames, a night
without frames, and the page as a real browser (headless Chromium) loads it."""

from __future__ import annotations

import base64
import io
import os
import shutil
import sqlite3
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dataman.core.config import Config
from dataman.service.records import FILE_NAME
from dataman.service.report import report_path, write_report
from dataman.service.report.page import THUMBNAILS_PER_HOUR
from tests.quality.nights import FIRST, NIGHT, fill_night


class Page(HTMLParser):
    """What a check needs of a page: row ids, image sources, every link and source."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: list[str] = []
        self.images: list[str] = []
        self.references: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and values.get("id"):
            self.rows.append(values["id"] or "")
        if tag == "img":
            self.images.append(values.get("src") or "")
        self.references += [value or "" for key, value in attrs if key in ("src", "href")]


def png_of(source: str) -> Image.Image:
    """The image of a ``data:image/png;base64,`` source, fully decoded."""
    prefix = "data:image/png;base64,"
    assert source.startswith(prefix), source[:60]
    image = Image.open(io.BytesIO(base64.b64decode(source[len(prefix):], validate=True)))
    assert image.format == "PNG"
    image.load()  # raises on a truncated or damaged file
    return image


def run_dataman(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dataman", *map(str, args)],
                          capture_output=True, text=True, check=False, timeout=300)


def test_only_drawing_a_report_imports_matplotlib():
    code = ("import sys, dataman.service.supervisor, dataman.service.worker, "
            "dataman.commands.process, dataman.service.report, dataman.commands.report, "
            "dataman.core.pipeline; print(sorted(m for m in sys.modules if 'matplotlib' in m))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert run.stdout.strip() == "[]"


def test_a_night_without_frames_says_so_and_exits_3(config: Config):
    run = run_dataman("report", "--night", NIGHT, "-c", config.source)
    assert run.returncode == 3, run.stderr
    assert run.stderr.startswith(f"dataman report: night {NIGHT}: no frames processed by "
                                 "this installation")
    assert not report_path(config, NIGHT).exists()


def test_a_night_that_is_not_a_date_is_refused(config: Config):
    run = run_dataman("report", "--night", "2025-12-30", "-c", config.source)
    assert run.returncode == 2 and "not a night YYYYMMDD: '2025-12-30'" in run.stderr


def test_every_frame_has_its_row_and_every_image_is_inline(config: Config):
    names = fill_night(config, 30, failed=2)
    written = write_report(config, NIGHT, now=FIRST + 86400)
    assert written.path == config.paths.log_dir / f"mods1dm.{NIGHT}.html"
    html = written.path.read_text()
    page = Page(html)
    assert page.rows == names
    assert len(page.images) == 3 + 30  # three plots, a thumbnail per delivered frame
    for source in page.images:
        png_of(source)
    assert all(ref.startswith(("data:image/png;base64,", "#")) for ref in page.references)
    assert "(so far)" not in html
    # a failed one, and why (without its name again: it is in the row)
    assert f"{names[-1]}</a> <span class=\"FAILED\">FAILED</span>  not a readable FITS file" in html
    assert f"{names[-1]}: not a readable" not in html
    assert "IM2:dead" in html and "IM2 data constant" in html


def test_a_night_in_progress_is_marked_so_far(config: Config):
    fill_night(config, 2)
    written = write_report(config, NIGHT, now=FIRST + 3600)
    assert f"dataMan night report {NIGHT} (so far)" in written.path.read_text()


def test_a_frame_without_a_thumbnail_still_has_its_row(config: Config):
    names = fill_night(config, 4, thumbnails=False)
    page = Page(write_report(config, NIGHT).path.read_text())
    assert page.rows == names and len(page.images) == 3


def test_the_report_command_writes_where_it_is_told(config: Config, tmp_path: Path):
    fill_night(config, 3)
    out = tmp_path / "elsewhere" / "night.html"
    run = run_dataman("report", "--night", NIGHT, "--out", out, "-c", config.source)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"night {NIGHT}: 3 frames, report written to {out}")
    assert len(Page(out.read_text()).rows) == 3


def test_a_journal_of_schema_1_is_reported_without_quality(config: Config):
    db = sqlite3.connect(config.paths.state_dir / FILE_NAME)
    from tests.service.test_journal import SCHEMA_1
    db.executescript(SCHEMA_1 + "PRAGMA user_version = 1;")
    db.execute("INSERT INTO frames (name, path, channel, source, priority, state, requested_at,"
               " changed_at, delivered_at) VALUES ('mods1b.20251230.0001.fits', '/d', 'mods1b',"
               " 'datagram', 0, 'delivered', ?, ?, ?)", (FIRST, FIRST + 1, FIRST + 1))
    db.commit()
    db.close()
    page = Page(write_report(config, NIGHT).path.read_text())
    assert page.rows == ["mods1b.20251230.0001.fits"] and len(page.images) == 1  # activity


@pytest.mark.slow
def test_thousands_of_frames_still_make_a_page_with_every_row(config: Config):
    names = fill_night(config, 3000, cadence=6.0)  # 5 hours of frames, 600 an hour
    written = write_report(config, NIGHT)
    page = Page(written.path.read_text())
    assert page.rows == names
    flagged = sum(1 for n in range(1, 3001) if n % 10 == 0 or n % 7 == 0)
    hours = 5
    thumbnails = len(page.images) - 3
    assert thumbnails <= hours * THUMBNAILS_PER_HOUR + flagged
    assert thumbnails >= flagged
    assert written.path.stat().st_size < 40_000_000


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    pytest.skip("headless Chromium is not installed (scripts/setup-env --system-tools)")


def browse(page: Path, *options: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", f"--user-data-dir={profile}", *options, page.as_uri()],
        capture_output=True, text=True, check=False, timeout=180, stdin=subprocess.DEVNULL)


def screenshot(page: Path, tmp_path: Path, size: tuple[int, int],
               keep_as: str | None = None) -> Image.Image:
    """Headless Chromium's picture of ``page`` at ``size``; with ``keep_as``, also kept in
    ``$DATAMAN_KEEP_SCREENSHOTS`` (when set) for a person to look at."""
    shot = tmp_path / "shot.png"
    run = browse(page, f"--screenshot={shot}", f"--window-size={size[0]},{size[1]}",
                 profile=tmp_path / "profile")
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    keep = os.environ.get("DATAMAN_KEEP_SCREENSHOTS")
    if keep and keep_as:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / keep_as).write_bytes(shot.read_bytes())
    return png_of("data:image/png;base64," + base64.b64encode(shot.read_bytes()).decode())


@pytest.mark.slow
def test_chromium_loads_the_page_with_every_row_and_no_broken_image(config: Config,
                                                                     tmp_path: Path):
    names = fill_night(config, 60, failed=1, cadence=120.0)  # 30 an hour: every thumbnail
    written = write_report(config, NIGHT)
    dom = browse(written.path, "--dump-dom", profile=tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = Page(dom.stdout)  # the document as the browser built it
    assert page.rows == names
    assert len(page.images) == 3 + 60
    for source in page.images:
        png_of(source)
    image = screenshot(written.path, tmp_path, (1280, 2000))
    assert image.size == (1280, 2000)
    assert len(np.unique(np.asarray(image.convert("L")))) > 50  # drawn, not a blank page
