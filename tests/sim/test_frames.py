"""The simulated raw frame: layout, pixels and keywords, with literal expected values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from dataman.sim.frames import (
    DEFAULT_BIAS,
    FrameSpec,
    detector_signal,
    expected_stored_pixel_values,
    make_raw_hdulist,
    raw_name,
    write_raw_frame,
)
from tests.conftest import fitsverify_counts

AMPS = ("IM1", "IM2", "IM3", "IM4")


def noiseless(**fields: object) -> FrameSpec:
    return FrameSpec(read_noise=0.0, pattern="ramp", **fields)


def test_raw_name_is_lower_case_channel_night_and_four_digit_number() -> None:
    assert raw_name("MODS1B", "20251230", 12) == "mods1b.20251230.0012.fits"
    assert raw_name("MODS2R", "20260101", 9999) == "mods2r.20260101.9999.fits"


@pytest.mark.parametrize(
    ("instrument", "night", "number"),
    [("MODS3B", "20251230", 1), ("mods1b", "20251230", 1), ("MODS1B", "2025-12-30", 1),
     ("MODS1B", "20251230", 10000), ("MODS1B", "20251230", -1)],
)
def test_raw_name_rejects_what_azcam_never_writes(instrument: str, night: str, number: int) -> None:
    with pytest.raises(ValueError):
        raw_name(instrument, night, number)


def test_detector_signal_is_linear_with_different_slopes_in_x_and_y() -> None:
    assert detector_signal(1, 1) == 204.25
    assert detector_signal(2, 1) - detector_signal(1, 1) == 0.25
    assert detector_signal(1, 2) - detector_signal(1, 1) == 4.0
    assert detector_signal(4145.5, 1543.5) == 7410.375  # centre of a 2x2 binned pixel
    grid = detector_signal(np.array([[1.0, 2.0, 3.0]]), np.array([[1.0], [2.0]]))
    assert grid.shape == (2, 3) and grid.dtype == np.float64


@pytest.mark.parametrize(
    ("roi", "binning", "shape"),
    [
        pytest.param("full", 1, (1544, 4178), marks=pytest.mark.slow),
        ("full", 2, (772, 2105)),
        ("4kx3k", 1, (1544, 2080)),
        ("4kx3k", 2, (772, 1056)),
        ("3kx3k", 1, (1544, 1576)),
        ("3kx3k", 2, (772, 804)),
        ("1kx1k", 1, (512, 544)),
        ("1kx1k", 2, (256, 288)),
    ],
)
def test_every_amplifier_has_the_quadrant_shape_plus_32_overscan_columns(
    roi: str, binning: int, shape: tuple[int, int]
) -> None:
    hdulist = make_raw_hdulist(FrameSpec(roi=roi, binning=binning))
    assert [hdu.data.shape for hdu in hdulist[1:5]] == [shape] * 4


def test_file_layout_is_primary_four_uint16_images_and_conpars(tmp_path: Path) -> None:
    path = write_raw_frame(tmp_path, FrameSpec(roi="1kx1k"))
    with fits.open(path) as hdulist:
        assert [hdu.name for hdu in hdulist] == ["PRIMARY", *AMPS, "CONPARS"]
        primary = hdulist[0].header
        # azcam sets BITPIX 16 in the primary, but astropy writes 8 for a primary without data.
        assert (primary["BITPIX"], primary["NAXIS"], primary["EXTEND"]) == (8, 0, True)
        assert primary["NEXTEND"] == 4
        for hdu in hdulist[1:5]:
            assert hdu.data.dtype == np.uint16
            header = hdu.header
            assert (header["BITPIX"], header["NAXIS1"], header["NAXIS2"]) == (16, 544, 512)
            assert list(header)[7:10] == ["EXTNAME", "BZERO", "BSCALE"]  # azcam's card order
            assert repr(header["BZERO"]) == "32768.0" and repr(header["BSCALE"]) == "1.0"
    raw = fits.getheader(path, 1, do_not_scale_image_data=True)
    assert raw["BZERO"] == 32768


def test_overscan_is_the_last_32_columns_and_holds_bias_only() -> None:
    hdulist = make_raw_hdulist(noiseless(roi="1kx1k", binning=2))
    for amp in AMPS:
        data = hdulist[amp].data
        assert np.all(data[:, 256:] == DEFAULT_BIAS[amp])
        assert data[:, :256].min() > DEFAULT_BIAS[amp] + 5000


@pytest.mark.parametrize(
    ("roi", "binning", "amp", "column", "row", "value"),
    [
        # stored pixel (column, row), 1-based -> detector pixel centre -> round(bias + signal)
        ("1kx1k", 1, "IM1", 1, 1, 6252),  # (3635, 1033)
        ("1kx1k", 1, "IM1", 511, 512, 8423),  # (4145, 1544)
        ("1kx1k", 1, "IM2", 2, 1, 6729),  # (4657, 1033): reversed in x
        ("1kx1k", 1, "IM2", 512, 1, 6602),  # (4147, 1033)
        ("1kx1k", 1, "IM3", 1, 1, 8756),  # (3635, 1545)
        ("1kx1k", 1, "IM4", 2, 512, 11290),  # (4657, 2056)
        ("1kx1k", 2, "IM1", 1, 1, 6254),  # (3635.5, 1033.5)
        ("1kx1k", 2, "IM2", 1, 1, 6731),  # (4657.5, 1033.5)
        ("1kx1k", 2, "IM3", 256, 1, 8885),  # (4145.5, 1545.5)
        ("1kx1k", 2, "IM4", 256, 256, 11161),  # (4147.5, 2055.5)
        ("full", 2, "IM1", 2073, 772, 8421),  # (4145.5, 1543.5)
        ("full", 2, "IM2", 1, 1, 3512),  # (8291.5, 1.5)
        ("full", 2, "IM3", 1, 772, 14017),  # (1.5, 3087.5)
        ("full", 2, "IM4", 2073, 772, 15289),  # (4147.5, 3087.5)
    ],
)
def test_hand_computed_pixels_without_noise(
    roi: str, binning: int, amp: str, column: int, row: int, value: int
) -> None:
    data = make_raw_hdulist(noiseless(roi=roi, binning=binning))[amp].data
    assert data[row - 1, column - 1] == value


def test_pixels_scatter_around_bias_plus_signal_by_the_read_noise() -> None:
    spec = FrameSpec(roi="1kx1k", read_noise=3.5, seed=11, pattern="ramp")
    hdulist = make_raw_hdulist(spec)
    for amp in range(1, 5):
        residual = hdulist[amp].data - expected_stored_pixel_values(spec, amp)
        assert abs(residual.mean()) < 0.05
        assert 3.4 < residual.std() < 3.6
        assert np.abs(residual).max() < 8 * 3.5


def test_same_seed_gives_the_same_bytes_and_another_seed_other_noise(tmp_path: Path) -> None:
    first = write_raw_frame(tmp_path / "a", FrameSpec(roi="1kx1k", seed=5))
    again = write_raw_frame(tmp_path / "b", FrameSpec(roi="1kx1k", seed=5))
    other = make_raw_hdulist(FrameSpec(roi="1kx1k", seed=6))
    assert first.read_bytes() == again.read_bytes()
    with fits.open(first) as hdulist:
        assert not np.array_equal(hdulist[1].data, other[1].data)


def test_values_are_clipped_to_the_uint16_range() -> None:
    bias = {"IM1": -5000.0, "IM2": 70000.0, "IM3": 0.0, "IM4": 0.0}
    hdulist = make_raw_hdulist(FrameSpec(roi="1kx1k", binning=2, bias=bias))
    assert hdulist["IM1"].data[:, 256:].max() == 0
    assert hdulist["IM2"].data.min() == 65535


# azcam's own values (see azcam_header): subframe sections anchored at the far detector edges.
AZCAM_1KX1K = {
    "IM1": ("[3635:4146,1033:1544]", 1.0, 1.0, -3634.0, -1032.0),
    "IM2": ("[8292:7781,1033:1544]", -1.0, 1.0, 8293.0, -1032.0),
    "IM3": ("[3635:4146,2577:3088]", 1.0, 1.0, -3634.0, -2576.0),
    "IM4": ("[8292:7781,2577:3088]", -1.0, 1.0, 8293.0, -2576.0),
}
# Full frame binned 2x2: sections right, LTV off by 1/4 pixel from fixDETSEC's (0.25, 4146.75,
# ...) in docs/processing.md.
AZCAM_FULL_BINNED = {
    "IM1": ("[1:4146,1:1544]", 0.5, 0.5, 0.0, 0.0),
    "IM2": ("[8292:4147,1:1544]", -0.5, 0.5, 4146.5, 0.0),
    "IM3": ("[1:4146,1545:3088]", 0.5, 0.5, 0.0, -772.0),
    "IM4": ("[8292:4147,1545:3088]", -0.5, 0.5, 4146.5, -772.0),
}


@pytest.mark.parametrize(
    ("roi", "binning", "table"),
    [("1kx1k", 1, AZCAM_1KX1K), ("full", 2, AZCAM_FULL_BINNED)],
)
def test_section_keywords_are_azcams_including_its_defects(
    roi: str, binning: int, table: dict
) -> None:
    hdulist = make_raw_hdulist(FrameSpec(roi=roi, binning=binning))
    for amp, (detsec, ltm1, ltm2, ltv1, ltv2) in table.items():
        header = hdulist[amp].header
        assert header["DETSEC"] == header["CCDSEC"] == detsec
        assert (header["LTM1_1"], header["LTM2_2"], header["LTV1"], header["LTV2"]) == (
            ltm1, ltm2, ltv1, ltv2,
        )


@pytest.mark.parametrize(
    ("binning", "ccdsum", "datasec", "biassec"),
    [
        (1, "1 1", "[1:512,1:512]", "[513:544,1:512]"),
        (2, "2 2", "[1:256,1:256]", "[257:288,1:256]"),
    ],
)
def test_binning_and_overscan_keywords_in_every_amplifier(
    binning: int, ccdsum: str, datasec: str, biassec: str
) -> None:
    hdulist = make_raw_hdulist(FrameSpec(roi="1kx1k", binning=binning))
    assert hdulist[0].header["CCDSUM"] == ccdsum
    for amp in AMPS:
        header = hdulist[amp].header
        assert (header["EXTNAME"], header["CCDSUM"], header["OVRSCAN1"]) == (amp, ccdsum, 32)
        assert (header["DATASEC"], header["BIASSEC"]) == (datasec, biassec)


def test_primary_keywords_dataman_reads() -> None:
    header = make_raw_hdulist(FrameSpec(roi="1kx1k", number=12))[0].header
    expected = {
        "INSTRUME": "MODS1B", "OBSERVAT": "MGIO-LBT", "TELESCOP": "LBT-SX",
        "FILENAME": "mods1b.20251230.0012.fits", "DATE-OBS": "2025-12-30",
        "UTC-OBS": "03:12:45.123", "EXPTIME": 300.0, "IMAGETYP": "object", "OBJECT": "NGC 1976",
        "TELRA": "05:35:17.30", "TELDEC": "-05:23:28.0", "TELALT": 51.2741, "TELAZ": 172.0516,
        "LATITUDE": 32.70131, "LONGITUD": 109.88906, "ELEVATIO": 3221.0, "LBTWLINK": 1,
        "NONSIDER": 0, "NSTYPE": "", "NSEPHFIL": "", "CCDTEMP": -999.9, "BASETEMP": -999.9,
        "CCDSUM": "1 1", "REF-PIX1": 4146, "REF-PIX2": 1544, "NEXTEND": 4,
    }
    assert {keyword: header[keyword] for keyword in expected} == expected
    for keyword in ("PROPID", "PI_NAME", "OBSERVER", "FILTER", "GRATING", "AIRMASS"):
        assert keyword in header


@pytest.mark.parametrize(
    ("instrument", "telescope"),
    [("MODS1B", "LBT-SX"), ("MODS1R", "LBT-SX"), ("MODS2B", "LBT-DX"), ("MODS2R", "LBT-DX")],
)
def test_telescope_side_follows_the_mods_unit(instrument: str, telescope: str) -> None:
    header = make_raw_hdulist(FrameSpec(instrument=instrument, roi="1kx1k", binning=2))[0].header
    assert (header["INSTRUME"], header["TELESCOP"]) == (instrument, telescope)


def test_altaz_as_sexagesimal_strings_like_older_servers() -> None:
    header = make_raw_hdulist(FrameSpec(roi="1kx1k", binning=2, altaz_sexagesimal=True))[0].header
    assert (header["TELALT"], header["TELAZ"]) == ("+51:16:26.8", "+172:03:05.8")


def test_primary_overrides_replace_delete_and_append() -> None:
    spec = FrameSpec(
        roi="1kx1k", binning=2,
        primary={"UTC-OBS": None, "TELALT": "NOCOMM", "OBJECT": "", "MYKEY": 7},
    )
    header = make_raw_hdulist(spec)[0].header
    assert "UTC-OBS" not in header
    assert (header["TELALT"], header["OBJECT"], header["MYKEY"]) == ("NOCOMM", "", 7)
    assert list(header)[-1] == "MYKEY"


def test_conpars_holds_archon_status_as_two_20A_string_columns() -> None:
    table = make_raw_hdulist(FrameSpec(roi="1kx1k", binning=2))["CONPARS"]
    assert [(c.name, c.format) for c in table.columns] == [("Keyword", "20A"), ("Value", "20A")]
    rows = dict(zip(table.data["Keyword"], table.data["Value"], strict=True))
    assert rows["MOD10/TEMPA"] == "-110.354"
    assert rows["MOD10/TEMPB"] == "-121.067"
    assert rows["BACKPLANE_TEMP"] == "31.250"
    assert {"MOD2/TEMP", "POWER", "LOG"} <= set(rows)


def test_conpars_overrides_replace_delete_and_append() -> None:
    spec = FrameSpec(
        roi="1kx1k", binning=2,
        conpars={"MOD10/TEMPA": None, "MOD10/TEMPB": "n/a", "EXTRA": "1"},
    )
    table = make_raw_hdulist(spec)["CONPARS"].data
    rows = dict(zip(table["Keyword"], table["Value"], strict=True))
    assert "MOD10/TEMPA" not in rows
    assert (rows["MOD10/TEMPB"], rows["EXTRA"]) == ("n/a", "1")


def test_write_never_overwrites(tmp_path: Path) -> None:
    path = write_raw_frame(tmp_path, FrameSpec(roi="1kx1k", binning=2, seed=1))
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        write_raw_frame(tmp_path, FrameSpec(roi="1kx1k", binning=2, seed=2))
    assert path.read_bytes() == before


def test_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fits.HDUList, "writeto", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_raw_frame(tmp_path, FrameSpec(roi="1kx1k", binning=2))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "fields",
    [{"instrument": "MODS3B"}, {"roi": "2kx2k"}, {"binning": 3}, {"night": "2025"},
     {"bias": {"IM1": 1.0}}],
)
def test_frame_spec_rejects_impossible_frames(fields: dict) -> None:
    with pytest.raises(ValueError):
        FrameSpec(**fields)


@pytest.mark.parametrize(
    ("roi", "binning"),
    [("1kx1k", 1), ("1kx1k", 2), pytest.param("full", 1, marks=pytest.mark.slow)],
)
def test_frame_is_valid_fits(tmp_path: Path, roi: str, binning: int) -> None:
    path = write_raw_frame(tmp_path, FrameSpec(roi=roi, binning=binning))
    warnings, errors, report = fitsverify_counts(path)
    assert (warnings, errors) == (0, 0), report
    with fits.open(path) as hdulist:
        hdulist.verify("exception")
