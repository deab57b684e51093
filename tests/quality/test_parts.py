"""The pieces of the quality checks, each against values worked out by hand."""

from __future__ import annotations

import io
import json
import statistics

import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from dataman.core.config import load_config
from dataman.core.errors import ConfigError
from dataman.core.facts import FrameFacts
from dataman.core.quality import AmpQuality, BiasTrend, Finding, QualityReport, Status
from dataman.core.quality.headers import header_findings
from dataman.core.quality.pixels import measure, saturated_fraction
from dataman.core.quality.png import png_grey
from dataman.core.quality.thumbnail import keep_thumbnail, shrink, thumbnail_path, thumbnail_png
from dataman.core.quality.trend import WINDOW
from dataman.core.quality.zscale import zscale_limits
from dataman.ipc.jobs import JobDone, MessageError, decode, encode
from tests.conftest import write_config


def stored(values: np.ndarray) -> np.ndarray:
    """Raw values 0..65535 as the frame stores them: big-endian int16, value - 32768."""
    return (values.astype(np.int64) - 32768).astype(">i2")


def test_saturated_pixels_are_counted_exactly_in_the_data_columns_only():
    values = np.full((10, 14), 1000)
    values[0, :3] = 65535  # 3 saturated data pixels
    values[5, 9] = 65535  # 1 more
    values[:, 10:] = 65535  # overscan (4 columns): not data, not counted
    values[2, 4] = 65534  # one below the maximum: not saturated
    pixels = measure(stored(values), columns=10)
    assert pixels.saturated == 4 / 100
    assert pixels.brightest == 65535.0


def test_a_full_height_amplifier_is_estimated_on_every_4th_row_and_recounted_near_the_limit():
    def band(first: int, last: int) -> np.ndarray:
        values = np.full((1544, 10), 1000)
        values[first:last + 1] = 65535
        return stored(values)

    # 16 rows: rows 0, 4, 8, 12 of 386 sampled rows -> 4/386 above 0.005: counted exactly
    assert saturated_fraction(band(0, 15), recount_above=0.005) == 16 / 1544
    # 2 rows: row 0 sampled -> estimate 1/386, below 0.005: the estimate stands
    assert saturated_fraction(band(0, 1), recount_above=0.005) == 1 / 386
    assert saturated_fraction(band(1, 2), recount_above=0.005) == 0.0  # between samples
    assert saturated_fraction(band(1, 2), recount_above=-1) == 2 / 1544  # always counted
    small = np.full((256, 10), 1000)
    small[1:3] = 65535  # fewer than 1000 rows: always counted
    assert saturated_fraction(stored(small), recount_above=0.005) == 2 / 256


def test_spread_and_brightest_come_from_the_data():
    values = np.full((64, 20), 1500)
    values[:, :10:2] += 2  # data columns alternate 1502, 1500: std exactly 1
    pixels = measure(stored(values), columns=10)
    assert pixels.spread == pytest.approx(1.0)
    assert pixels.brightest == 1502.0
    assert measure(stored(np.full((64, 20), 900)), columns=10).spread == 0.0


def test_the_trend_keeps_the_last_window_of_each_key_and_forgets_a_past_night():
    key = ("MODS1B", "IM1", "1x1")
    other = ("MODS1B", "IM1", "2x2")
    trend = BiasTrend()
    for level in range(100, 100 + WINDOW + 5):
        trend = trend.add("20251230", {key: float(level)})
    kept = list(range(105, 100 + WINDOW + 5))
    assert trend.count(key) == WINDOW
    assert trend.median(key) == statistics.median(kept)
    assert trend.median(other) is None
    assert trend.add("20251231", {other: 5.0}).count(key) == 0
    assert trend.count(key) == WINDOW  # a value: adding made a new one


def test_the_report_round_trips_through_plain_values_and_rejects_others():
    report = QualityReport((Finding("IM2:dead", "IM2 data constant"),
                            Finding("hdr:OBJECT", "OBJECT missing")),
                           (AmpQuality("IM1", 3, 1011.0, 3.5, 0.0),))
    assert report.status is Status.BAD
    assert report.flags == "IM2:dead hdr:OBJECT"
    assert QualityReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    assert QualityReport((Finding("IM1:sat", "x"),)).status is Status.WARN
    assert QualityReport().status is Status.OK
    for bad in (None, [], {"findings": [["only-a-flag"]], "amps": []}, {"amps": []}):
        with pytest.raises(ValueError, match="not a quality report"):
            QualityReport.from_dict(bad)


def test_job_done_carries_the_quality_and_the_frame_description():
    report = QualityReport((Finding("IM3:sat", "IM3 5.00% of pixels at 65535"),),
                           (AmpQuality("IM3", 1, 1467.0, 3.5, 0.05),))
    done = JobDone(7, "/proc/a.fits", "u.fits", facts=FrameFacts(
        "1kx1k", "2x2", "FLAT", 8.0, "Slit flat", "G400L", "Clear", "LS5x60x1.0",
        "2025-12-31T03:12:40.5", -110.5, -80.25), quality=report)
    line = encode(done)
    assert decode(line) == done
    assert len(line) < 1024
    body = json.loads(line)
    body["quality"] = {"findings": "nonsense"}
    with pytest.raises(MessageError, match="done: not a quality report"):
        decode(json.dumps(body).encode())


def header(**cards: object) -> fits.Header:
    good: dict[str, object] = {
        "DATE-OBS": "2025-12-30T03:12:45.123", "MJD-OBS": 61039.13, "EXPTIME": 300.0,
        "IMAGETYP": "OBJECT", "INSTRUME": "MODS1B", "OBJECT": "NGC 1976",
        "LBTWLINK": "Up", "TELRA": "05:35:17.30", "TELDEC": "-05:23:28.0"}
    result = fits.Header()
    for key, value in (good | cards).items():
        if value is not None:
            result[key] = value
    return result


@pytest.mark.parametrize(("cards", "flags"), [
    ({}, []),
    ({"DATE-OBS": "2025-12-30"}, ["hdr:DATE-OBS"]),
    ({"DATE-OBS": "2025-12-30T25:00:00"}, ["hdr:DATE-OBS"]),
    ({"MJD-OBS": None}, ["hdr:MJD-OBS"]),
    ({"MJD-OBS": 12.0}, ["hdr:MJD-OBS"]),
    ({"EXPTIME": -1.0}, ["hdr:EXPTIME"]),
    ({"EXPTIME": "long"}, ["hdr:EXPTIME"]),
    ({"IMAGETYP": " "}, ["hdr:IMAGETYP"]),
    ({"INSTRUME": "LUCI1"}, ["hdr:INSTRUME"]),
    ({"OBJECT": ""}, ["hdr:OBJECT"]),
    ({"OBJECT": 5}, ["hdr:OBJECT"]),
    ({"TELRA": "NOCOMM"}, ["hdr:TELRA"]),
    ({"TELDEC": "-95:00:00"}, ["hdr:TELDEC"]),
    ({"TELRA": "NOCOMM", "LBTWLINK": "Down"}, []),
    ({"TELRA": None, "TELDEC": None, "IMAGETYP": "BIAS"}, []),
])
def test_header_sanity(cards, flags):
    assert [finding.flag for finding in header_findings(header(**cards))] == flags


def test_quality_thresholds_are_validated_with_file_and_key(tmp_path):
    path = write_config(tmp_path, quality={"saturationMax": 2})
    with pytest.raises(ConfigError, match=r"\[quality\] saturationMax: .*too big"):
        load_config(path)
    path = write_config(tmp_path, quality={"checkDeath": True})
    with pytest.raises(ConfigError, match=r"\[quality\] checkDeath: unknown key"):
        load_config(path)
    path = write_config(tmp_path, quality={})
    path.write_text(path.read_text() + "[[MODS1R]]\nbiasMin = 3000\nbiasMax = 2000\n")
    with pytest.raises(ConfigError, match=r"\[quality\]\[MODS1R\] biasMin 3000 is not below "
                                          r"biasMax 2000"):
        load_config(path)
    path.write_text(path.read_text().replace("[[MODS1R]]", "[[MODS3R]]"))
    with pytest.raises(ConfigError, match=r"\[quality\] MODS3R: unknown key or section"):
        load_config(path)


def test_the_defaults_are_wide_bands_and_every_check_on(tmp_path):
    quality = load_config(write_config(tmp_path)).quality
    assert quality.checks and quality.check_dead and quality.check_header
    assert (quality.bias_jump, quality.bias_jump_after, quality.saturation_max) == (25.0, 3, 0.01)
    assert quality.lit_types == ("FLAT",)
    assert sorted(quality.bands) == ["MODS1B", "MODS1R", "MODS2B", "MODS2R"]
    assert quality.bands["MODS2R"].noise_max == 8.0


def decode_png(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.mode == "L"
    return np.asarray(image)


def test_the_png_writer_writes_what_an_image_library_reads():
    image = np.arange(6 * 7, dtype=np.uint8).reshape(6, 7) * 6
    assert np.array_equal(decode_png(png_grey(image)), image)
    with pytest.raises(ValueError, match="2-D uint8"):
        png_grey(np.zeros((3, 3), np.float32))


def test_shrinking_averages_blocks_of_sampled_rows():
    image = np.arange(12 * 10, dtype=">f4").reshape(12, 10)
    # factor ceil(12 / 5) = 3: 4 x 3 blocks of 3 x 3, all 3 rows of each read
    block = image[0:3, 0:3].astype(np.float64).mean()
    assert block == 11.0
    small = shrink(image, width=5)
    assert small.shape == (4, 3) and small[0, 0] == 11.0 and small[3, 2] == image[9:12, 6:9].mean()


def test_shrinking_a_full_frame_reads_evenly_spaced_rows_of_each_block():
    rows = np.arange(3088, dtype=np.float64)
    merged = np.repeat(rows[:, np.newaxis], 8292, axis=1).astype(">f4")  # value = row number
    small = shrink(merged)
    # blocks of 33 x 33 (8292 / 256 rounded up): 93 x 251; rows 0, 8, 16, 24, 32 of each
    assert small.shape == (93, 251)
    assert small[0, 0] == (0 + 8 + 16 + 24 + 32) / 5
    assert small[92, 250] == 92 * 33 + 16


def test_a_thumbnail_is_small_with_detector_row_one_at_the_bottom():
    merged = np.random.default_rng(1).normal(0, 3, (3088, 8292)).astype(">f4")
    merged[:200] += 1000  # MERGED rows 1..200: bright; shown at the bottom
    image = decode_png(thumbnail_png(merged))
    assert image.shape == (93, 251)
    assert image[-3:].mean() > 250 and image[:50].mean() < 200
    assert 1000 < len(thumbnail_png(merged)) < 40_000


def zscale_cases() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    trace = rng.normal(50, 3, (96, 256))
    trace[40:44] += 3000  # a spectrum's trace and cosmic rays: outliers the fit rejects
    trace[rng.integers(0, 96, 50), rng.integers(0, 256, 50)] = 60000
    return {
        "noise": rng.normal(100, 5, (96, 256)),
        "gradient": np.add.outer(np.arange(96) * 4.0, np.arange(256) * 0.25)
        + rng.normal(0, 3, (96, 256)),
        "trace": trace,
        "skewed": rng.exponential(20, (100, 300)),
        "tiny": rng.normal(0, 1, (3, 4)),
    }


@pytest.mark.parametrize("case", sorted(zscale_cases()))
def test_zscale_gives_the_limits_of_astropys_zscale_interval(case):
    from astropy.visualization import ZScaleInterval  # the reference; dataMan does not use it

    image = zscale_cases()[case]
    assert zscale_limits(image) == pytest.approx(ZScaleInterval().get_limits(image), rel=1e-9)


def test_a_constant_image_makes_a_flat_grey_thumbnail():
    assert np.all(decode_png(thumbnail_png(np.zeros((64, 64), ">f4"))) == 128)


def test_a_thumbnail_that_cannot_be_written_is_a_warning(tmp_path):
    (tmp_path / "thumbnails").write_text("a file where the folder should be")
    problem = keep_thumbnail(np.zeros((8, 8), ">f4"), tmp_path, "20251230",
                             "mods1b.20251230.0001.fits")
    assert problem is not None and problem.startswith(
        f"thumbnail not kept in {tmp_path / 'thumbnails' / '20251230'}")
    assert thumbnail_path(tmp_path, "20251230", "mods1b.20251230.0001.fits") == (
        tmp_path / "thumbnails" / "20251230" / "mods1b.20251230.0001.png")
