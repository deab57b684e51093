"""Sanity by image type: each failed exposure injected into an otherwise clean simulated
frame gets exactly its flag, and 100 clean frames of each type get none. The checks run
on the frames in memory (no file, no service), as the worker runs them."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from dataman.core.config import Config, QualityConfig
from dataman.core.frame import AmpImage
from dataman.core.otm import PLACEMENTS, QuadrantStats, overscan_stats
from dataman.core.pipeline import process_frame
from dataman.core.quality.assess import assess
from dataman.core.quality.imagetype import Light, emission_lines, image_type_findings
from dataman.sim.frames import INSTRUMENTS, FrameSpec, make_raw_hdulist
from tests.conftest import make_frame

QUADRANT_OF = {place.amp: place.quadrant for place in PLACEMENTS}
#: Readouts the clean frames cycle through (small ones mostly: 100 frames of each type).
READOUTS = [("1kx1k", 2), ("1kx1k", 1), ("3kx3k", 2), ("1kx1k", 2), ("4kx3k", 2)]
FAULTS = [("bias", "light", "BIAS:light"), ("flat", "lamp-off", "FLAT:dim"),
          ("flat", "overexposed", "FLAT:saturated"), ("comp", "lamp-off", "COMP:lines"),
          ("object", "shutter-closed", "OBJECT:dark")]


def flags(spec: FrameSpec, settings: QualityConfig) -> str:
    """QCFLAGS of ``spec`` as the worker would find them (header check aside: a raw header
    has not been fixed)."""
    hdulist = make_raw_hdulist(spec)
    columns = spec.readout.data_columns
    amps, stats = [], []
    for name in QUADRANT_OF:
        stored = (hdulist[name].data.astype(np.int32) - 32768).astype(">i2")
        amps.append(AmpImage(name, hdulist[name].header, memoryview(stored.tobytes()), stored))
        bias, noise = overscan_stats(stored, columns, 0, 0)
        stats.append(QuadrantStats(QUADRANT_OF[name], bias, noise))
    report, _ = assess(hdulist[0].header, amps, columns, stats, instrument=spec.instrument,
                       binning=f"{spec.binning}x{spec.binning}", night=spec.night,
                       settings=dataclasses.replace(settings, check_header=False))
    return report.flags


@pytest.mark.parametrize(("kind", "fault", "flag"), FAULTS)
@pytest.mark.parametrize(("instrument", "roi", "binning"),
                         [("MODS1B", "1kx1k", 2), ("MODS2R", "1kx1k", 1),
                          ("MODS1R", "full", 1), ("MODS2B", "3kx3k", 2)])
def test_a_failed_exposure_gets_exactly_its_flag(config: Config, kind, fault, flag,
                                                 instrument, roi, binning):
    spec = FrameSpec(kind=kind, fault=fault, instrument=instrument, roi=roi, binning=binning,
                     seed=17)
    assert flags(spec, config.quality) == flag


@pytest.mark.slow  # 400 frames: the fault tests above prove each flag in the fast tier
@pytest.mark.parametrize("kind", ["bias", "flat", "comp", "object"])
def test_a_hundred_clean_frames_of_each_type_raise_no_flag(config: Config, kind):
    plan = zip(range(100), itertools.cycle(INSTRUMENTS), itertools.cycle(READOUTS))
    found = {}
    for number, instrument, (roi, binning) in plan:
        spec = FrameSpec(kind=kind, instrument=instrument, roi=roi, binning=binning,
                         seed=1000 + number)
        found[(instrument, roi, binning, number)] = flags(spec, config.quality)
    assert {key: value for key, value in found.items() if value} == {}


def test_a_flat_with_its_lamp_off_is_not_four_dead_amplifiers(config: Config):
    spec = FrameSpec(kind="flat", fault="lamp-off", roi="1kx1k", binning=2)
    assert flags(spec, config.quality) == "FLAT:dim"
    blind = FrameSpec(kind="flat", roi="1kx1k", binning=2, dead={"IM2": "blind"})
    assert flags(blind, config.quality) == "IM2:dead"


def test_switched_off_the_image_type_check_says_nothing(config: Config):
    settings = dataclasses.replace(config.quality, check_image_type=False)
    assert flags(FrameSpec(kind="comp", fault="lamp-off", roi="1kx1k", binning=2),
                 settings) == ""


@pytest.mark.parametrize(
    ("imagetyp", "light", "flag"),
    [("BIAS", Light(5.5, 9.0, 0), "BIAS:light"), ("BIAS", Light(5.0, 9.0, 2), ""),
     ("BIAS", Light(0.0, 900.0, 3), "BIAS:light"), ("FLAT", Light(999.0, 1500.0, 0), "FLAT:dim"),
     ("FLAT", Light(1000.0, 50000.0, 0), ""), ("FLAT", Light(9000.0, 50001.0, 0),
                                               "FLAT:saturated"),
     ("COMP", Light(0.0, 900.0, 2), "COMP:lines"), ("COMP", Light(0.0, 900.0, 3), ""),
     ("OBJECT", Light(1.9, 4.0, 0), "OBJECT:dark"), ("OBJECT", Light(1.9, 60.0, 1), ""),
     ("OBJECT", Light(2.0, 4.0, 0), ""), ("DARK", Light(0.0, 0.0, 0), "")])
def test_thresholds_at_their_defaults(config: Config, imagetyp, light, flag):
    found = image_type_findings(imagetyp, light, config.quality)
    assert " ".join(finding.flag for finding in found) == flag


def test_emission_lines_are_local_maxima_above_the_median_by_line_min():
    profile = np.zeros(40, dtype=np.float32)
    profile[[5, 6, 7]] = [30.0, 80.0, 30.0]  # one line, 80 DN high
    profile[[20, 21]] = [60.0, 60.0]  # a flat top counts once
    profile[30] = 49.0  # below lineMin
    assert emission_lines(profile, 50.0) == 2


def test_the_flag_and_its_reason_reach_the_merged_header_and_the_log_line(config: Config):
    raw = make_frame(config, kind="comp", fault="lamp-off", roi="1kx1k", binning=2)
    result = process_frame(raw, config)
    assert result.quality is not None and result.quality.flags == "COMP:lines"
    assert "COMP shows 0 emission lines, fewer than 3: lamps did not fire?" in \
        result.quality.summary()
