"""makeOTM against a plain, independent computation and against the simulated truth."""

from datetime import UTC, datetime

import numpy as np
import pytest
from astropy.io import fits

from dataman.core.config import load_config
from dataman.core.pipeline import process_frame
from dataman.sim.frames import DEFAULT_BIAS, DEFAULT_READ_NOISE, detector_signal
from tests.conftest import make_frame, write_config

NOW = datetime(2025, 12, 30, 4, 0, tzinfo=UTC)
QUADRANT_SOURCE = {1: "IM3", 2: "IM4", 3: "IM1", 4: "IM2"}  # docs/processing.md, makeOTM table


def plain_merge(raw_path, col_skip=2, row_skip=2):
    """docs/processing.md's makeOTM the obvious way: astropy data, np.flip, float64 arithmetic."""
    with fits.open(raw_path) as hdus:
        data = {name: hdus[name].data.astype(np.float64) for name in ("IM1", "IM2", "IM3", "IM4")}
        overscan = hdus["IM1"].header["OVRSCAN1"]
    rows, columns = data["IM1"].shape[0], data["IM1"].shape[1] - overscan
    bias = {name: np.median(d[row_skip:rows - row_skip, columns + col_skip:])
            for name, d in data.items()}
    trimmed = {name: d[:, :columns] - bias[name] for name, d in data.items()}
    top = np.hstack([np.flip(trimmed["IM3"], axis=0), np.flip(trimmed["IM4"], axis=(0, 1))])
    bottom = np.hstack([np.flip(trimmed["IM1"], axis=0), np.flip(trimmed["IM2"], axis=(0, 1))])
    return np.vstack([top, bottom]).astype(np.float32), bias


FULL = pytest.mark.slow  # a full frame's plain computation takes seconds
CASES = [pytest.param("full", 1, "MODS1B", marks=FULL),
         pytest.param("full", 2, "MODS2R", marks=FULL), ("4kx3k", 1, "MODS2B"),
         ("3kx3k", 2, "MODS1R"), ("1kx1k", 1, "MODS2R"), ("1kx1k", 2, "MODS1B"),
         ("4kx3k", 2, "MODS1B"), ("3kx3k", 1, "MODS2B")]


@pytest.mark.parametrize(("roi", "binning", "instrument"), CASES)
def test_merged_equals_plain_computation_exactly(config, roi, binning, instrument):
    raw = make_frame(config, roi=roi, binning=binning, instrument=instrument, seed=7)
    result = process_frame(raw, config, now=lambda: NOW)
    expected, bias = plain_merge(raw)
    with fits.open(result.delivered) as hdus:
        merged = hdus["MERGED"].data
        header = hdus["MERGED"].header
        assert merged.dtype == np.dtype(">f4")
        assert np.array_equal(merged, expected)
        for quadrant, source in QUADRANT_SOURCE.items():
            assert header[f"Q{quadrant}BIAS"] == bias[source]


@pytest.mark.parametrize(("roi", "binning"), [pytest.param("full", 1, marks=FULL), ("1kx1k", 2),
                                              ("4kx3k", 1)])
def test_merged_pixels_show_the_detector_mirrored_top_to_bottom(config, roi, binning):
    """MERGED row 1 is the top detector row of the window, column 1 its left column."""
    raw = make_frame(config, roi=roi, binning=binning, pattern="ramp", read_noise=3.5)
    result = process_frame(raw, config, now=lambda: NOW)
    with fits.open(result.delivered) as hdus:
        merged = hdus["MERGED"].data.astype(np.float64)
        x1, _, _, y2 = (int(v) for v in
                        hdus[0].header["CCDROI"].strip("[]").replace(",", ":").split(":"))
    rows, columns = merged.shape
    centre_cols = x1 + np.arange(columns) * binning + (binning - 1) / 2
    centre_rows = y2 - np.arange(rows) * binning - (binning - 1) / 2
    truth = detector_signal(centre_cols[np.newaxis, :], centre_rows[:, np.newaxis])
    residual = merged - truth  # read noise 3.5 DN plus rounding and the bias estimate
    assert abs(np.median(residual)) < 0.5
    assert np.abs(residual).max() < 8 * 3.5 + 2


def test_quadrant_bias_and_noise_match_the_injected_levels(config):
    raw = make_frame(config, roi="3kx3k", binning=1)
    result = process_frame(raw, config, now=lambda: NOW)
    with fits.open(result.delivered) as hdus:
        header = hdus["MERGED"].header
    for quadrant, source in QUADRANT_SOURCE.items():
        assert abs(header[f"Q{quadrant}BIAS"] - DEFAULT_BIAS[source]) <= 1.0
        assert header[f"Q{quadrant}STD"] == pytest.approx(
            np.hypot(DEFAULT_READ_NOISE[source], 12 ** -0.5), abs=0.15)


def test_bias_skips_leave_out_hot_edge_columns_and_rows(tmp_path):
    config = load_config(write_config(tmp_path, processing={"biasColSkip": 3, "biasRowSkip": 5}))
    raw = make_frame(config, roi="1kx1k", binning=1)
    with fits.open(raw, mode="update") as hdus:  # a hot first overscan columns and edge rows
        data = hdus["IM1"].data
        data[:, 512:515] = 9000
        data[:5, 512:] = 9000
        data[-5:, 512:] = 9000
    result = process_frame(raw, config, now=lambda: NOW)
    expected, bias = plain_merge(raw, col_skip=3, row_skip=5)
    assert abs(bias["IM1"] - DEFAULT_BIAS["IM1"]) <= 1.0
    with fits.open(result.delivered) as hdus:
        assert hdus["MERGED"].header["Q3BIAS"] == bias["IM1"]
        assert np.array_equal(hdus["MERGED"].data, expected)
