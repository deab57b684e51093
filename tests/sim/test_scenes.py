"""The simulator's scenes: what lies where on the detector, checked against hand-computed
positions (column = 1 + (wavelength - start) / step; slit segments of 500 rows with 25-row
bridges around row 1544.5), at every readout region and binning."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dataman.core.geometry import ROI_MODES
from dataman.sim.frames import DEFAULT_BIAS, FrameSpec, make_raw_hdulist
from dataman.sim.readout import BINNINGS
from dataman.sim.scenes import Exposure, scene, slit

AMPS = ("IM1", "IM2", "IM3", "IM4")


def data(spec: FrameSpec, amp: str) -> np.ndarray:
    columns = spec.readout.data_columns
    return make_raw_hdulist(spec)[amp].data[:, :columns].astype(np.float64)


def signal(kind: str, *, red: bool = False, exptime: float = 300.0, usual: float = 300.0,
           fault: str | None = None, columns: np.ndarray | None = None,
           rows: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    columns = np.arange(1.0, 4147.0) if columns is None else columns
    rows = np.arange(1.0, 1545.0) if rows is None else rows
    return scene(Exposure(kind, red, exptime, usual, 1, fault), columns, rows,
                 np.random.default_rng(seed))


def test_a_bias_is_its_level_and_read_noise_only() -> None:
    spec = FrameSpec(kind="bias", roi="1kx1k", seed=3)
    hdulist = make_raw_hdulist(spec)
    for amp in AMPS:
        pixels = hdulist[amp].data.astype(np.float64)
        assert abs(pixels.mean() - DEFAULT_BIAS[amp]) < 0.1
        assert abs(pixels.std() - spec.noise_of(amp)) < 0.05
        assert np.abs(pixels - DEFAULT_BIAS[amp]).max() < 7 * spec.noise_of(amp)


def test_the_slit_has_five_segments_with_dark_bridges() -> None:
    # segment centres at 1544.5 + k * 525; bridges half-way between; ends 1300 rows out
    centres = 1544.5 + 525.0 * np.arange(-2, 3)
    assert np.all(slit(centres) > 0.85)
    assert np.all(slit(1544.5 + 262.5 + 525.0 * np.arange(-2, 2)) < 1e-6)
    assert np.all(slit(np.array([1544.5 - 1320.0, 1544.5 + 1320.0, 1.0, 3088.0])) < 1e-6)


def test_a_flat_peaks_at_the_blaze_and_is_dark_on_the_bridges() -> None:
    flat = signal("flat", usual=300.0)
    along = flat[1543]  # row 1544: inside the middle segment
    peak = 1 + (4500.0 - 3200.0) / 0.332  # the blue blaze centre, column 3916.7
    assert abs(int(np.argmax(along)) + 1 - peak) < 20
    assert 20000 < along.max() < 23000
    assert along[0] < 0.5 * along.max()  # the blue end at 3200 A is faint
    assert np.median(flat[int(1544.5 - 262.5) - 1]) < 1.0  # the bridge below it


@pytest.mark.parametrize(("red", "wavelength"), [(False, 4358.3), (True, 8115.3)])
def test_an_arc_shows_the_lamps_brightest_line_where_the_dispersion_puts_it(red, wavelength):
    arc = signal("comp", red=red, columns=np.arange(1.0, 8293.0))
    start, step = (5500.0, 0.555) if red else (3200.0, 0.332)
    column = 1 + (wavelength - start) / step
    along = arc[1543]
    assert abs(int(np.argmax(along)) + 1 - column) <= 1
    assert np.median(along) < 1.0  # between the lines: nothing
    assert np.count_nonzero(along[1:-1] > np.maximum(along[:-2], along[2:])) >= 10  # many lines


def test_an_object_has_sky_along_the_slit_and_two_curved_star_traces() -> None:
    sky = signal("object", rows=np.arange(1.0, 3089.0), seed=1)
    column = 4146  # at the centre the traces bend to 2 rows below their nominal place
    profile = sky[:, column - 1]
    for start, stop, star in ((1550, 1620, 1544.5 + 40 - 2), (1300, 1450, 1544.5 - 150 - 2)):
        assert abs(int(np.argmax(profile[start:stop])) + start + 1 - star) <= 1
    edge = sky[:, 0]  # at the first column the traces bend 2 rows up
    assert abs(int(np.argmax(edge[1550:1620])) + 1550 + 1 - (1544.5 + 40 + 2)) <= 1
    assert np.median(profile[1000:1200]) > 3.0  # sky continuum in the slit
    assert np.median(profile[:200]) < 1.0  # beyond the slit's end, only cosmic rays


def test_cosmic_rays_hit_a_closed_shutter_at_the_expected_rate() -> None:
    closed = signal("object", fault="shutter-closed", seed=4)
    expected = 3.75e-8 * 4146 * 1544 * 300.0  # hits per pixel and second
    hit = closed > 0
    assert 0 < hit.sum() < 4 * 2.5 * expected  # up to 4 pixels a hit, generous Poisson margin
    assert np.median(closed) == 0.0


@pytest.mark.parametrize(("roi", "binning"), itertools.product(ROI_MODES, BINNINGS))
@pytest.mark.parametrize("kind", ["flat", "comp", "object"])
def test_every_readout_sees_light_in_all_four_amplifiers(roi, binning, kind):
    spec = FrameSpec(kind=kind, roi=roi, binning=binning, instrument="MODS2R", seed=1)
    hdulist = make_raw_hdulist(spec)
    for amp in AMPS:
        pixels = hdulist[amp].data[:, : spec.readout.data_columns]
        assert np.percentile(pixels, 99.5) > DEFAULT_BIAS[amp] + 100


def test_faults_fit_only_their_kind() -> None:
    with pytest.raises(ValueError, match="fault 'lamp-off' does not fit a object"):
        FrameSpec(kind="object", fault="lamp-off")
    with pytest.raises(ValueError, match="does not fit a flat ramp"):
        FrameSpec(kind="flat", fault="lamp-off", pattern="ramp")
    with pytest.raises(ValueError, match="pattern must be one of scene, ramp"):
        FrameSpec(pattern="gradient")


def test_the_same_seed_gives_the_same_scene_and_cosmic_rays() -> None:
    first = data(FrameSpec(kind="object", roi="1kx1k", seed=9), "IM3")
    again = data(FrameSpec(kind="object", roi="1kx1k", seed=9), "IM3")
    assert np.array_equal(first, again)
