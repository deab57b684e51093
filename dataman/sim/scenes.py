"""What light falls on a MODS detector in each kind of exposure: the simulator's scenes.

A scene is the noise-free signal (DN above bias) of one amplifier's stored data
pixels, evaluated at their detector coordinates (:meth:`ReadoutMode.pixel_centres`),
so every readout region and binning sees the same sky. MODS disperses along
columns and images the slit along rows; the slit is the long-slit mask
LS5x60x1.0, five 60" segments separated by short bridges, centred on the
detector. By kind:

* ``bias``: nothing (bias and read noise are added by the frame);
* ``flat``: the slit lit by the flat lamp, a blaze-like hump along the dispersion;
* ``comp``: the channel's arc lines (Hg, Xe, Kr blue; Ne, Ar red) along the slit;
* ``object``: sky continuum and lines along the slit, the Orion Nebula's emission
  lines varying along it, two stars' traces (slightly curved), and cosmic rays.

Signal scales with the exposure time against the kind's usual one; a binned
pixel keeps the level of an unbinned one (an observer would shorten the
exposure). Cosmic rays hit every exposed frame, shutter open or not, at a rate
per unbinned pixel and second. Most of the work is outer products of a column
spectrum and a row profile, so a full frame's scene costs well under a second
(``benchmarks/bench_process.py`` prints it).

A *fault* replaces the scene with what a failed exposure gives (the quality
checks' tests): ``light`` in a bias (lamp or leak, a faint flat), ``lamp-off``
in a flat or comp (nothing but cosmic rays), ``overexposed`` in a flat (2.6
times the lamp: near saturation, not clipped), ``shutter-closed`` in an object
(nothing but cosmic rays).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dataman.sim.spectra import NEBULAR_LINES, arc, blaze, lines, sky

#: Faults a scene can show, and the kinds of exposure each belongs to.
FAULTS = {"light": "bias", "lamp-off": ("flat", "comp"), "overexposed": "flat",
          "shutter-closed": "object"}
#: Unbinned detector rows of the slit's five segments (60" at 0.12"/px) and their bridges.
SLIT_CENTRE, SEGMENT, BRIDGE, EDGE = 1544.5, 500.0, 25.0, 1.5
#: Peak of the flat lamp (DN) in the usual flat exposure, before the blaze.
FLAT_PEAK = 22000.0
#: Stars on the slit: (offset from the slit centre in rows, continuum peak in 300 s DN, sigma).
STARS = ((40.0, 2500.0, 2.8), (-150.0, 600.0, 3.2))
#: Cosmic-ray hits per unbinned pixel per second of exposure (about 1 per cm^2 a minute).
COSMIC_RATE = 3.75e-8
#: A 300 s exposure: the sky's, the nebula's and the stars' levels are given for it.
SKY_EXPOSURE = 300.0


@dataclass(frozen=True)
class Exposure:
    """What the scene needs to know about one frame."""

    kind: str
    red: bool
    exptime: float
    usual: float  # the kind's usual exposure time in this channel (s)
    binning: int = 1
    fault: str | None = None


def slit(rows: np.ndarray) -> np.ndarray:
    """Relative illumination (0..1) of the slit at detector rows: segments, soft edges, a
    slight fall-off towards the ends."""
    offset = np.asarray(rows, dtype=np.float64) - SLIT_CENTRE
    pitch = SEGMENT + BRIDGE
    inside = np.zeros_like(offset)
    for index in range(-2, 3):
        low, high = index * pitch - SEGMENT / 2, index * pitch + SEGMENT / 2
        inside += _step((offset - low) / EDGE) * _step((high - offset) / EDGE)
    return (inside * (1.0 - 0.12 * (offset / 1300.0) ** 2)).astype(np.float32)


def _step(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(x))


def scene(exposure: Exposure, columns: np.ndarray, rows: np.ndarray,
          rng: np.random.Generator) -> np.ndarray:
    """Signal (float32, shape ``(len(rows), len(columns))``) of one amplifier's data pixels.

    ``columns``/``rows`` are the unbinned detector coordinates of the pixel centres.
    """
    kind, fault = exposure.kind, exposure.fault
    signal = np.zeros((len(rows), len(columns)), dtype=np.float32)
    if kind == "flat" and fault != "lamp-off":
        level = FLAT_PEAK * (2.6 if fault == "overexposed" else 1.0)
        signal += _outer(slit(rows), level * exposure.exptime / exposure.usual
                         * blaze(columns, red=exposure.red))
    elif kind == "comp" and fault != "lamp-off":
        spectrum = arc(columns, red=exposure.red, binning=exposure.binning)
        signal += _outer(slit(rows), spectrum * (exposure.exptime / exposure.usual))
    elif kind == "object" and fault != "shutter-closed":
        _add_sky(signal, exposure, columns, rows)
    elif kind == "bias" and fault == "light":
        signal += _outer(slit(rows), 0.02 * FLAT_PEAK * blaze(columns, red=exposure.red))
    _add_cosmic_rays(signal, exposure, rng)
    return signal


def _outer(profile: np.ndarray, spectrum: np.ndarray) -> np.ndarray:
    return np.multiply.outer(profile.astype(np.float32), spectrum.astype(np.float32))


def _add_sky(signal: np.ndarray, exposure: Exposure, columns: np.ndarray,
             rows: np.ndarray) -> None:
    """Sky and nebula along the slit, and the stars' traces, scaled to the exposure."""
    scale = exposure.exptime / SKY_EXPOSURE
    red, binning = exposure.red, exposure.binning
    along = slit(rows)
    signal += _outer(along, scale * sky(columns, red=red, binning=binning))
    offset = np.asarray(rows, dtype=np.float64) - SLIT_CENTRE
    nebula = along * (0.3 + 0.7 * np.exp(-0.5 * ((offset - 150.0) / 700.0) ** 2)
                      * (1.0 + 0.25 * np.sin(offset / 85.0)))
    signal += _outer(nebula, scale * lines(columns, NEBULAR_LINES[red], red=red,
                                           binning=binning))
    continuum = blaze(columns, red=red)
    bend = 4.0 * ((np.asarray(columns) - 4146.0) / 4146.0) ** 2 - 2.0  # trace curvature (rows)
    for position, peak, sigma in STARS:
        centre = SLIT_CENTRE + position
        near = np.flatnonzero(np.abs(np.asarray(rows) - centre) < 8 * sigma)
        if near.size:
            distance = (rows[near][:, np.newaxis] - centre - bend[np.newaxis, :]) / sigma
            signal[near] += (scale * peak * np.exp(-0.5 * distance ** 2)
                             * continuum[np.newaxis, :]).astype(np.float32)


def _add_cosmic_rays(signal: np.ndarray, exposure: Exposure, rng: np.random.Generator) -> None:
    """Short tracks of 1-4 pixels at random places, 300-30000 DN, in every exposed frame."""
    rows, columns = signal.shape
    expected = COSMIC_RATE * rows * columns * exposure.binning ** 2 * exposure.exptime
    count = int(rng.poisson(expected)) if expected > 0 else 0
    if count == 0:
        return
    row = rng.integers(0, rows, count)
    column = rng.integers(0, columns, count)
    length = rng.integers(1, 5, count)
    step_row, step_column = rng.integers(-1, 2, count), rng.integers(-1, 2, count)
    energy = np.minimum(rng.lognormal(7.6, 0.9, count), 30000.0) / length
    for position in range(4):
        hit = length > position
        r = np.clip(row[hit] + position * step_row[hit], 0, rows - 1)
        c = np.clip(column[hit] + position * step_column[hit], 0, columns - 1)
        np.add.at(signal, (r, c), energy[hit].astype(np.float32))
