"""Synthetic MODS raw frames, laid out exactly as azcam writes them for the Archon.

The layout is described in docs/processing.md, "The raw frame".

A test, a benchmark or ``dataman simulate`` needs frames that dataMan cannot
tell from the camera's: same HDUs, shapes, BZERO, overscan position, and the
same header defects. The pixels show one of two *patterns*: ``scene``
(the default), what MODS would see in that kind of exposure
(:mod:`dataman.sim.scenes`: spectra, sky, cosmic rays, with photon noise), or
``ramp``, :func:`detector_signal`, a plane with different slopes in x and y,
so a flipped or misplaced quadrant shows up as a wrong value at a known pixel
(the geometry tests ask for it). Each amplifier adds its own bias and Gaussian
read noise.

>>> spec = FrameSpec(roi="1kx1k", binning=2)
>>> spec.name
'mods1b.20251230.0001.fits'
>>> [hdu.name for hdu in make_raw_hdulist(spec)]
['PRIMARY', 'IM1', 'IM2', 'IM3', 'IM4', 'CONPARS']
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from astropy.io import fits

from dataman.core.geometry import AMPLIFIERS
from dataman.core.names import INSTRUMENTS as INSTRUMENTS  # re-exported for the simulator
from dataman.sim.azcam_header import KeywordGroup, extension_cards, make_card, primary_header
from dataman.sim.observation import archon_status, observation_groups
from dataman.sim.readout import ReadoutMode
from dataman.sim.scenes import FAULTS, Exposure, scene
from dataman.sim.setups import RED, channel_of, default_exptime, kind_of

#: Bias level of each amplifier (DN); distinct so a swapped quadrant is visible in its overscan.
DEFAULT_BIAS = {"IM1": 1011.0, "IM2": 1233.0, "IM3": 1467.0, "IM4": 1702.0}
#: Read noise of each amplifier (DN), as the overscan shows it.
DEFAULT_READ_NOISE = {"IM1": 3.3, "IM2": 3.6, "IM3": 3.4, "IM4": 3.8}
#: What the data pixels show: MODS-like scenes, or the linear ramp of the geometry tests.
PATTERNS = ("scene", "ramp")
#: Electrons per DN: the photon noise of a scene's signal S (DN) is sqrt(S / GAIN).
GAIN = 2.5
#: How a dead amplifier looks: its output stuck at one value, or reading out no charge.
DEAD_MODES = ("stuck", "blind")
DEFAULT_START = datetime(2025, 12, 30, 3, 12, 45, 123000, tzinfo=UTC)
_NIGHT = re.compile(r"^\d{8}$")


def raw_name(instrument: str, night: str, number: int) -> str:
    """The file name azcam gives a frame.

    >>> raw_name("MODS1B", "20251230", 12)
    'mods1b.20251230.0012.fits'
    """
    if instrument not in INSTRUMENTS:
        raise ValueError(f"unknown instrument {instrument!r}; one of {', '.join(INSTRUMENTS)}")
    if not _NIGHT.match(night):
        raise ValueError(f"night must be YYYYMMDD, not {night!r}")
    if not 0 <= number <= 9999:
        raise ValueError(f"frame number must be 0..9999, not {number}")
    return f"{instrument.lower()}.{night}.{number:04d}.fits"


def detector_signal(col: np.typing.ArrayLike, row: np.typing.ArrayLike) -> np.ndarray:
    """Noise-free signal (DN) at 1-based unbinned detector coordinates, fractional allowed.

    Linear and increasing in both axes with different slopes, so the value of a
    binned pixel equals the value at its centre and any flip changes values.

    >>> float(detector_signal(4146, 1544))
    7412.5
    """
    col, row = np.asarray(col, dtype=np.float64), np.asarray(row, dtype=np.float64)
    return 200.0 + 0.25 * col + 4.0 * row


@dataclass
class FrameSpec:
    """Everything that makes one simulated frame; the same spec always gives the same bytes."""

    instrument: str = "MODS1B"
    roi: str = "full"
    binning: int = 1
    night: str = "20251230"
    number: int = 1
    start: datetime = DEFAULT_START
    seed: int = 0
    bias: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_BIAS))
    #: Read noise (DN): one value for all amplifiers, or one per amplifier.
    read_noise: float | dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_READ_NOISE))
    #: ``scene`` (the kind's MODS-like scene) or ``ramp`` (:func:`detector_signal`).
    pattern: str = "scene"
    #: A failed exposure in the scene (:data:`dataman.sim.scenes.FAULTS`), or None.
    fault: str | None = None
    #: What is observed: one of :data:`dataman.sim.setups.KINDS` (bias, flat, comp, object).
    kind: str = "object"
    #: Exposure time (s); None takes the kind's usual one in this channel (300 s for an object).
    exptime: float | None = None
    #: Write TELALT/TELAZ as sexagesimal strings, as older telescope servers did.
    altaz_sexagesimal: bool = False
    #: Primary keywords to override; None deletes the keyword, an unknown one is appended.
    primary: dict[str, object] = field(default_factory=dict)
    #: CONPARS rows to override; None deletes the row, an unknown one is appended.
    conpars: dict[str, str | None] = field(default_factory=dict)
    #: Defects, per amplifier (the quality checks' tests): read noise multiplied by a factor;
    #: this fraction of the data pixels at the ADC maximum 65535 (the first ones in row
    #: order, a saturated band); a dead output, ``'stuck'`` (its bias level everywhere,
    #: no noise, no signal) or ``'blind'`` (bias and read noise, no light).
    noise_factor: dict[str, float] = field(default_factory=dict)
    saturated: dict[str, float] = field(default_factory=dict)
    dead: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        raw_name(self.instrument, self.night, self.number)  # validates all three
        ReadoutMode(self.roi, self.binning)
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware (UTC)")
        if set(self.bias) != set(AMPLIFIERS):
            raise ValueError(f"bias needs exactly {', '.join(AMPLIFIERS)}")
        kind_of(self.kind)
        if self.pattern not in PATTERNS:
            raise ValueError(f"pattern must be one of {', '.join(PATTERNS)}, not {self.pattern!r}")
        if isinstance(self.read_noise, dict) and set(self.read_noise) != set(AMPLIFIERS):
            raise ValueError(f"read_noise needs exactly {', '.join(AMPLIFIERS)}")
        if self.fault is not None and (self.fault not in FAULTS or self.pattern != "scene"
                                       or self.kind not in FAULTS[self.fault]):
            raise ValueError(f"fault {self.fault!r} does not fit a {self.kind} {self.pattern}; "
                             + ", ".join(f"{name} ({kinds})" for name, kinds in FAULTS.items()))
        if self.exptime is not None and not (self.exptime >= 0 and math.isfinite(self.exptime)):
            raise ValueError(f"exptime must be a number of seconds, at least 0, not {self.exptime}")
        if self.kind == "bias" and self.exptime:
            raise ValueError(f"a bias is a zero-second exposure, not {self.exptime} s")
        for name, values in (("noise_factor", self.noise_factor),
                             ("saturated", self.saturated), ("dead", self.dead)):
            if not set(values) <= set(AMPLIFIERS):
                raise ValueError(f"{name}: unknown amplifier in {sorted(values)}; "
                                 f"amplifiers are {', '.join(AMPLIFIERS)}")
        if not all(0 <= value <= 1 for value in self.saturated.values()):
            raise ValueError(f"saturated: fractions must be 0..1, not {self.saturated}")
        if not all(value >= 0 for value in self.noise_factor.values()):
            raise ValueError(f"noise_factor: factors must be at least 0, not {self.noise_factor}")
        if not set(self.dead.values()) <= set(DEAD_MODES):
            raise ValueError(f"dead: modes are {', '.join(DEAD_MODES)}, not {self.dead}")

    @property
    def readout(self) -> ReadoutMode:
        return ReadoutMode(self.roi, self.binning)

    def noise_of(self, amp: str) -> float:
        """Read noise (DN) of amplifier ``amp`` (``'IM1'``...)."""
        if isinstance(self.read_noise, dict):
            return self.read_noise[amp]
        return self.read_noise

    @property
    def exposure(self) -> Exposure:
        """What the scene needs: kind, channel, exposure times, binning, fault."""
        return Exposure(self.kind, channel_of(self.instrument) is RED, self.exposure_time,
                        default_exptime(self.kind, self.instrument) or 1.0, self.binning,
                        self.fault)

    @property
    def name(self) -> str:
        return raw_name(self.instrument, self.night, self.number)

    @property
    def exposure_time(self) -> float:
        """EXPTIME: the one asked for, else the kind's usual one in this channel."""
        if self.exptime is not None:
            return self.exptime
        return default_exptime(self.kind, self.instrument)


def spec_groups(spec: FrameSpec) -> dict[str, KeywordGroup]:
    """The camera server's header groups for ``spec``, before any ``primary`` override."""
    return observation_groups(spec.instrument, spec.start, spec.exposure_time,
                              spec.altaz_sexagesimal, spec.kind)


def expected_stored_pixel_values(spec: FrameSpec, amp: int) -> np.ndarray:
    """Noise-free IMn array of the ramp (float64, stored order): bias + signal, bias alone in
    the overscan.

    Data pixel values are the signal at the centre of the binned detector pixel
    they came from; tests compare a frame with this to within the read noise.
    """
    readout = spec.readout
    columns, rows = readout.pixel_centres(amp)
    values = np.full(readout.shape, spec.bias[AMPLIFIERS[amp - 1]], dtype=np.float64)
    signal = detector_signal(columns[np.newaxis, :], rows[:, np.newaxis])
    values[:, : readout.data_columns] += signal
    return values


def make_raw_hdulist(spec: FrameSpec) -> fits.HDUList:
    """The frame in memory: uint16 pixels as astropy reads the file, headers as azcam writes them.

    Only the BZERO/BSCALE cards differ from the file, which :func:`write_raw_frame`
    writes as azcam does (floats, after EXTNAME).
    """
    readout = spec.readout
    primary = fits.PrimaryHDU(header=primary_header(readout, spec.name, spec_groups(spec)))
    _override_keywords(primary.header, spec.primary)
    rng = np.random.default_rng(spec.seed)
    hdus: list[fits.hdu.base.ExtensionHDU] = []
    for amp, extname in enumerate(AMPLIFIERS, start=1):
        cards = [("EXTNAME", extname, "extension name"), *extension_cards(readout, amp)]
        header = fits.Header([make_card(*card) for card in cards])
        hdus.append(fits.ImageHDU(data=_synthesise(spec, amp, rng), header=header))
    hdus.append(_conpars_hdu(spec.conpars))
    return fits.HDUList([primary, *hdus])


def write_raw_frame(folder: Path, spec: FrameSpec) -> Path:
    """Write ``folder/<spec.name>`` as azcam would and return its path; never overwrites.

    Creates ``folder`` if needed. Raises ``FileExistsError`` if the file exists;
    a failed write leaves no file behind.
    """
    path = Path(folder) / spec.name
    path.parent.mkdir(parents=True, exist_ok=True)
    hdulist = make_raw_hdulist(spec)
    for hdu in hdulist[1 : 1 + len(AMPLIFIERS)]:
        _store_as_azcam(hdu)
    # O_EXCL claims the name atomically; astropy refuses an "xb" stream, so reopen the fd as "wb".
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(descriptor, "wb") as stream:
        try:
            hdulist.writeto(stream)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    return path


def _synthesise(spec: FrameSpec, amp: int, rng: np.random.Generator) -> np.ndarray:
    """One amplifier's uint16 pixels: round(expected + noise) clipped to 0..65535, with the
    spec's defects for this amplifier. A scene's data pixels add photon noise to the read
    noise."""
    name = AMPLIFIERS[amp - 1]
    readout = spec.readout
    values = rng.standard_normal(readout.shape, dtype=np.float32)
    noise = np.float32(spec.noise_of(name) * spec.noise_factor.get(name, 1.0))
    dead = spec.dead.get(name)
    if dead == "stuck":
        values[...] = spec.bias[name]
    elif dead == "blind":
        values *= noise
        values += np.float32(spec.bias[name])
    elif spec.pattern == "ramp":
        values *= noise
        values += expected_stored_pixel_values(spec, amp)
    else:
        _paint_scene(values, spec, amp, noise, rng)
    np.rint(values, out=values)
    np.clip(values, 0, 65535, out=values)
    rows, columns = readout.rows, readout.data_columns
    full_rows, rest = divmod(round(spec.saturated.get(name, 0.0) * rows * columns), columns)
    values[:full_rows, :columns] = 65535
    if rest:
        values[full_rows, :rest] = 65535
    return values.astype(np.uint16)


def _paint_scene(values: np.ndarray, spec: FrameSpec, amp: int, noise: np.float32,
                 rng: np.random.Generator) -> None:
    """``values`` (standard normal deviates) becomes bias + scene + read and photon noise."""
    columns, rows = spec.readout.pixel_centres(amp)
    signal = scene(spec.exposure, columns, rows, rng)
    data = values[:, : spec.readout.data_columns]
    variance = np.maximum(signal, 0, dtype=np.float32)
    variance *= np.float32(1 / GAIN)
    variance += noise * noise
    data *= np.sqrt(variance, out=variance)
    data += signal
    values[:, spec.readout.data_columns:] *= noise
    values += np.float32(spec.bias[AMPLIFIERS[amp - 1]])


def _store_as_azcam(hdu: fits.ImageHDU) -> None:
    """Scale to int16 storage and place float BZERO/BSCALE after EXTNAME, as azcam's writer does."""
    hdu.scale("int16", bzero=32768, bscale=1)
    for keyword in ("BZERO", "BSCALE"):
        hdu.header.remove(keyword, ignore_missing=True)
    hdu.header.set("BZERO", 32768.0, after="EXTNAME")
    hdu.header.set("BSCALE", 1.0, after="BZERO")


def _override_keywords(header: fits.Header, overrides: dict[str, object]) -> None:
    for keyword, value in overrides.items():
        if value is None:
            header.remove(keyword, ignore_missing=True, remove_all=True)
        elif keyword in header:
            header[keyword] = value
        else:
            header.append(make_card(keyword, value), bottom=True)


def _conpars_hdu(overrides: dict[str, str | None]) -> fits.BinTableHDU:
    """CONPARS: the Archon status as two 20A string columns, as azcam appends it after writing."""
    rows = dict(archon_status())
    for keyword, value in overrides.items():
        if value is None:
            rows.pop(keyword, None)
        else:
            rows[keyword] = value
    columns = [
        fits.Column(name="Keyword", format="20A", array=list(rows)),
        fits.Column(name="Value", format="20A", array=list(rows.values())),
    ]
    return fits.BinTableHDU.from_columns(columns, name="CONPARS")

