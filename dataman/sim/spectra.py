"""What each channel of MODS sees along the dispersion: wavelengths, lamp and sky lines, blaze.

MODS disperses along detector columns (DISPAXIS = 1) and images the slit along
rows. A scene (:mod:`dataman.sim.scenes`) is built from the one-dimensional
spectra here, evaluated at the detector column of each stored pixel. The
wavelength scale is linear and only roughly that of gratings G400L (blue,
about 3200-5950 A) and G670L (red, about 5500-10100 A); line lists are real
laboratory and night-sky wavelengths with made-up strengths, so an arc looks
like an arc and a sky like a sky, but no wavelength solution should be fitted
to them.

>>> float(wavelength(np.array([1.0]), red=False)[0])
3200.0
"""

from __future__ import annotations

import numpy as np

#: (first wavelength in A at detector column 1, A per unbinned column), blue and red.
DISPERSION = {False: (3200.0, 0.332), True: (5500.0, 0.555)}
#: Line width: Gaussian sigma in unbinned columns (a 1" slit, about 4 px FWHM).
LINE_SIGMA = 1.8

#: Arc lines (A, peak DN in the channel's usual comparison exposure): Hg, Xe and Kr in the blue.
BLUE_LAMPS = (
    (3650.2, 9000), (4046.6, 14000), (4077.8, 2500), (4358.3, 30000), (5460.7, 26000),
    (5769.6, 6000), (5790.7, 6500),  # Hg
    (4500.98, 1800), (4624.3, 2600), (4671.2, 4200), (4734.2, 1500), (4807.0, 1600),
    (4923.2, 1900), (5028.3, 1300),  # Xe
    (4273.97, 2200), (4319.6, 1700), (4376.1, 2100), (4453.9, 1400), (5570.3, 5200),  # Kr
)
#: Arc lines in the red: Ne and Ar (and the Kr lamp's brightest near-infrared lines).
RED_LAMPS = (
    (5852.5, 9000), (6143.1, 7000), (6266.5, 3500), (6402.2, 12000), (6506.5, 6000),
    (6678.3, 5500), (6929.5, 5000), (7032.4, 9500), (7245.2, 4500), (7438.9, 2500),  # Ne
    (6965.4, 8000), (7067.2, 9000), (7383.98, 7000), (7503.9, 14000), (7635.1, 11000),
    (7948.2, 9500), (8115.3, 16000), (8264.5, 9000), (8424.6, 10000), (8521.4, 7000),
    (9122.97, 13000), (9657.8, 8000), (7723.8, 6000), (8006.2, 5000), (8014.8, 7500),  # Ar
    (7535.8, 3000), (7943.2, 1800),  # Ne
    (7601.5, 4000), (7685.2, 2500), (7854.8, 2000), (8112.9, 6000), (8190.1, 5000),
    (8776.8, 5500),  # Kr
)
#: Night-sky lines in a 300 s exposure (peak DN per pixel): city Hg, [OI], Na I D.
SKY_LINES = {
    False: ((4046.6, 15), (4358.3, 45), (5460.7, 60), (5577.3, 400), (5889.95, 70),
            (5895.9, 60)),
    True: ((5577.3, 420), (5889.95, 80), (5895.9, 70), (6300.3, 180), (6363.8, 60)),
}
#: The red sky's OH bands: this many lines, drawn once from a fixed generator.
OH_LINES = 90
#: Emission of the Orion Nebula seen through the slit in 300 s (A, peak DN).
NEBULAR_LINES = {
    False: ((3727.0, 2500), (4101.7, 500), (4340.5, 900), (4861.3, 2200), (4958.9, 3300),
            (5006.8, 9800)),
    True: ((5875.6, 400), (6548.0, 900), (6562.8, 9000), (6583.4, 2700), (6716.4, 350),
           (6730.8, 450), (9068.6, 800)),
}


def wavelength(columns: np.ndarray, *, red: bool) -> np.ndarray:
    """Wavelength (A) at unbinned detector columns (1-based, fractional allowed)."""
    start, step = DISPERSION[red]
    return start + (np.asarray(columns, dtype=np.float64) - 1.0) * step


def lines(columns: np.ndarray, table: tuple[tuple[float, float], ...], *, red: bool,
          binning: int = 1) -> np.ndarray:
    """Sum of Gaussian lines ``(wavelength, peak)`` at ``columns`` (float32).

    A binned pixel averages ``binning`` columns, which widens the line a little.
    """
    _, step = DISPERSION[red]
    centres = np.array([w for w, _ in table]) if table else np.empty(0)
    peaks = np.array([p for _, p in table], dtype=np.float64) if table else np.empty(0)
    sigma = np.hypot(LINE_SIGMA, binning / np.sqrt(12.0)) * step
    offsets = (wavelength(columns, red=red)[:, np.newaxis] - centres[np.newaxis, :]) / sigma
    near = np.abs(offsets) < 8
    profile = np.where(near, np.exp(-0.5 * np.where(near, offsets, 0) ** 2), 0.0)
    return (profile @ peaks).astype(np.float32)


def blaze(columns: np.ndarray, *, red: bool) -> np.ndarray:
    """Relative efficiency (0..1) of lamp, grating and detector along the dispersion."""
    centre, width = (7300.0, 1700.0) if red else (4500.0, 850.0)
    hump = np.exp(-0.5 * ((wavelength(columns, red=red) - centre) / width) ** 2)
    return (0.06 + 0.94 * hump).astype(np.float32)


def oh_lines() -> tuple[tuple[float, float], ...]:
    """The red sky's OH lines: the same every time (a fixed generator), stronger to the red."""
    rng = np.random.default_rng(1976)
    where = np.sort(rng.uniform(6830.0, 10050.0, OH_LINES))
    strength = rng.lognormal(5.0, 0.8, OH_LINES) * (1.0 + (where - 6800.0) / 1500.0)
    return tuple(zip(where.tolist(), strength.tolist(), strict=True))


def sky(columns: np.ndarray, *, red: bool, binning: int = 1) -> np.ndarray:
    """The night sky through the slit in 300 s: a continuum that rises to the red, and lines."""
    continuum = (25.0 if red else 8.0) * (0.4 + blaze(columns, red=red))
    table = SKY_LINES[red] + (oh_lines() if red else ())
    return continuum + lines(columns, table, red=red, binning=binning)


def arc(columns: np.ndarray, *, red: bool, binning: int = 1) -> np.ndarray:
    """The channel's comparison lamps in its usual arc exposure."""
    return lines(columns, RED_LAMPS if red else BLUE_LAMPS, red=red, binning=binning)
