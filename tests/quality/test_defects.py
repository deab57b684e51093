"""Injected defects in simulated frames, each flagged with exactly its QCFLAGS; a clean
night of every kind, ROI and binning flagged nowhere."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from astropy.io import fits

from dataman.core.config import load_config
from dataman.core.pipeline import FrameResult, prepare, process_frame
from dataman.core.quality import BiasTrend
from dataman.sim.frames import DEFAULT_BIAS, INSTRUMENTS
from dataman.sim.setups import KINDS
from tests.conftest import make_frame, write_config

SMALL = {"roi": "1kx1k", "binning": 2}  # 256 x 256 data pixels per amplifier


def merged_header(result: FrameResult) -> fits.Header:
    assert result.delivered is not None
    return fits.getheader(result.delivered, "MERGED")


def flags_and_status(result: FrameResult) -> tuple[str, str]:
    header = merged_header(result)
    assert result.quality is not None
    assert (header["QCFLAGS"], header["QCSTATUS"]) == (result.quality.flags,
                                                       str(result.quality.status))
    return header["QCFLAGS"], header["QCSTATUS"]


def test_a_clean_frame_is_ok_and_says_so_in_the_merged_header_only(config):
    result = process_frame(make_frame(config, **SMALL), config)
    assert flags_and_status(result) == ("", "OK")
    header = merged_header(result)
    assert [header[f"Q{n}SAT"] for n in (1, 2, 3, 4)] == [0.0, 0.0, 0.0, 0.0]
    with fits.open(result.delivered) as hdus:
        for hdu in hdus[:5]:  # primary and IM1..IM4: as the archive expects them
            assert not {"QCSTATUS", "QCFLAGS", "Q1SAT"} & set(hdu.header)


@pytest.mark.parametrize("mode", ["stuck", "blind"])
def test_a_dead_amplifier_is_bad(config, mode):
    raw = make_frame(config, kind="flat", dead={"IM2": mode}, **SMALL)
    assert flags_and_status(process_frame(raw, config)) == ("IM2:dead", "BAD")


def test_a_blind_amplifier_in_a_frame_that_may_be_dark_is_not_judged(config):
    raw = make_frame(config, kind="object", dead={"IM2": "blind"}, **SMALL)
    assert flags_and_status(process_frame(raw, config)) == ("", "OK")


def test_five_percent_saturated_pixels_in_one_amplifier(config):
    raw = make_frame(config, saturated={"IM3": 0.05}, **SMALL)
    result = process_frame(raw, config)
    assert flags_and_status(result) == ("IM3:sat", "WARN")
    header = merged_header(result)
    expected = round(round(0.05 * 256 * 256) / (256 * 256), 6)  # 3277 of 65536 pixels
    assert expected == 0.050003
    assert [header[f"Q{n}SAT"] for n in (1, 2, 3, 4)] == [expected, 0.0, 0.0, 0.0]  # Q1 = IM3


def test_saturation_below_the_limit_is_reported_but_not_flagged(config):
    result = process_frame(make_frame(config, saturated={"IM1": 0.005}, **SMALL), config)
    assert flags_and_status(result) == ("", "OK")
    assert merged_header(result)["Q3SAT"] == round(round(0.005 * 65536) / 65536, 6)


def test_a_bias_jump_of_50_dn_after_three_frames(config):
    trend = BiasTrend()
    for number in (1, 2, 3):
        result = process_frame(make_frame(config, number=number, seed=number, **SMALL), config,
                               trend=trend)
        assert flags_and_status(result) == ("", "OK")
        trend = result.trend
    jumped = make_frame(config, number=4, seed=4, bias=DEFAULT_BIAS | {"IM1": 1061.0}, **SMALL)
    result = process_frame(jumped, config, trend=trend)
    assert flags_and_status(result) == ("IM1:biasjump", "WARN")
    assert "IM1 bias 1061.0 DN is +50.0 from the night's median 1011.0" in \
        result.quality.findings[0].reason


def test_no_jump_is_judged_before_the_night_has_enough_frames(config):
    first = process_frame(make_frame(config, number=1, **SMALL), config)
    jumped = make_frame(config, number=2, bias=DEFAULT_BIAS | {"IM1": 1061.0}, **SMALL)
    assert flags_and_status(process_frame(jumped, config, trend=first.trend)) == ("", "OK")


def test_three_times_the_read_noise(config):
    raw = make_frame(config, noise_factor={"IM4": 3.0}, **SMALL)
    assert flags_and_status(process_frame(raw, config)) == ("IM4:noise", "WARN")


def test_a_bias_level_outside_the_band(config):
    raw = make_frame(config, bias=DEFAULT_BIAS | {"IM3": 150.0}, **SMALL)
    assert flags_and_status(process_frame(raw, config)) == ("IM3:bias", "WARN")


def test_a_date_obs_without_a_time(config):
    raw = make_frame(config, primary={"UTC-OBS": None}, **SMALL)
    result = process_frame(raw, config)
    assert flags_and_status(result) == ("hdr:DATE-OBS hdr:MJD-OBS", "WARN")
    assert merged_header(result)["DATE-OBS"] == "2025-12-30"


def test_missing_keywords_are_flagged_never_a_crash(config):
    raw = make_frame(config, primary={"EXPTIME": None, "IMAGETYP": None, "OBJECT": None,
                                      "INSTRUME": None, "DATE-OBS": None}, **SMALL)
    result = process_frame(raw, config)
    assert flags_and_status(result) == (
        "hdr:DATE-OBS hdr:MJD-OBS hdr:EXPTIME hdr:IMAGETYP hdr:INSTRUME hdr:OBJECT", "WARN")
    assert result.delivered is not None and result.delivered.is_file()


def test_telescope_pointing_is_required_only_for_objects_with_the_link_up(config):
    nocomm = {"TELRA": "NOCOMM", "TELDEC": "NOCOMM"}
    up = process_frame(make_frame(config, number=1, primary=nocomm, **SMALL), config)
    assert flags_and_status(up) == ("hdr:TELRA hdr:TELDEC", "WARN")
    down = process_frame(make_frame(config, number=2, primary=nocomm | {"LBTWLINK": 0},
                                    **SMALL), config)
    assert flags_and_status(down) == ("", "OK")
    flat = process_frame(make_frame(config, number=3, kind="flat", primary=nocomm, **SMALL),
                         config)
    assert flags_and_status(flat) == ("", "OK")


def test_several_defects_are_all_listed_amplifier_by_amplifier(config):
    raw = make_frame(config, kind="flat", dead={"IM2": "stuck"}, saturated={"IM1": 0.05},
                     noise_factor={"IM4": 3.0}, primary={"OBJECT": None}, **SMALL)
    assert flags_and_status(process_frame(raw, config)) == (
        "IM1:sat IM2:dead IM4:noise hdr:OBJECT", "BAD")


def test_each_check_can_be_switched_off(tmp_path):
    quiet = load_config(write_config(tmp_path, quality={
        "checkSaturation": False, "checkNoise": False, "checkDead": False,
        "checkHeader": False, "checkBias": False}))
    raw = make_frame(quiet, kind="flat", dead={"IM2": "stuck"}, saturated={"IM1": 0.05},
                     noise_factor={"IM4": 3.0}, bias=DEFAULT_BIAS | {"IM3": 150.0},
                     primary={"OBJECT": None}, **SMALL)
    assert flags_and_status(process_frame(raw, quiet)) == ("", "OK")


def test_checks_off_write_no_quality_keywords(tmp_path):
    off = load_config(write_config(tmp_path, quality={"checks": False}))
    result = process_frame(make_frame(off, saturated={"IM1": 0.05}, **SMALL), off)
    assert result.quality is None
    assert not {"QCSTATUS", "QCFLAGS", "Q1SAT"} & set(merged_header(result))


def test_the_bands_are_per_instrument(tmp_path):
    path = write_config(tmp_path, quality={})  # [quality] comes last: add a subsection
    path.write_text(path.read_text() + "[[MODS2R]]\nnoiseMax = 3.0\n")
    strict = load_config(path)
    blue = process_frame(make_frame(strict, number=1, **SMALL), strict)
    red = process_frame(make_frame(strict, number=2, instrument="MODS2R", **SMALL), strict)
    assert flags_and_status(blue) == ("", "OK")
    assert flags_and_status(red) == ("IM1:noise IM2:noise IM3:noise IM4:noise", "WARN")


READOUTS = [("1kx1k", 1), ("1kx1k", 2), ("3kx3k", 2), ("4kx3k", 2), ("full", 2)]


def clean_night(config, count: int, readouts: list[tuple[str, int]]) -> list[tuple[str, str]]:
    """Check ``count`` frames of every kind, channel and readout in turn; (name, flags) of
    each flagged one. Frames are read, fixed, merged and checked, not written."""
    flagged = []
    trends: dict[str, BiasTrend] = {}
    plan = itertools.cycle(itertools.product(KINDS, INSTRUMENTS, readouts))
    start = datetime(2025, 12, 30, 1, 0, tzinfo=UTC)
    numbers: dict[str, int] = {}
    for index, (kind, instrument, (roi, binning)) in zip(range(count), plan, strict=False):
        numbers[instrument] = numbers.get(instrument, 0) + 1
        raw = make_frame(config, instrument=instrument, kind=kind, roi=roi, binning=binning,
                         number=numbers[instrument], seed=index,
                         start=start + timedelta(minutes=3 * index))
        result = FrameResult(raw.name)
        prepare(raw, config, result, trend=trends.get(instrument))
        trends[instrument] = result.trend
        raw.unlink()
        assert result.quality is not None and len(result.quality.amps) == 4
        if result.quality.findings:
            flagged.append((raw.name, result.quality.summary()))
    return flagged


def test_a_short_clean_night_raises_nothing(config):
    assert clean_night(config, 24, [("1kx1k", 2), ("1kx1k", 1)]) == []


@pytest.mark.slow
def test_a_clean_night_of_100_frames_of_every_kind_roi_and_binning_raises_nothing(config):
    assert clean_night(config, 100, READOUTS) == []


def test_without_makeotm_only_the_header_is_checked(tmp_path):
    plain = load_config(write_config(tmp_path, processing={"makeOTM": False}))
    raw = make_frame(plain, dead={"IM2": "stuck"}, primary={"OBJECT": None}, **SMALL)
    result = process_frame(raw, plain)
    assert result.quality is not None and result.quality.amps == ()
    assert (result.quality.flags, str(result.quality.status)) == ("hdr:OBJECT", "WARN")
    with fits.open(result.delivered) as hdus:
        assert "MERGED" not in hdus
    assert not (plain.paths.state_dir / "thumbnails").exists()
