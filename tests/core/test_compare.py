"""The comparison of two outputs: which keywords are expected to differ, pixel differences."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from dataman.core.compare import (
    EXPECTED_KEYWORDS,
    DataDifference,
    KeywordDifference,
    compare_files,
    largest_difference,
)
from dataman.core.detsec import amplifier_keywords
from dataman.core.quality import AmpQuality, Finding, QualityReport, header_cards
from dataman.core.readout import Readout


def test_the_expected_keywords_are_those_dataman_changes_by_design():
    assert {
        "DETSEC", "CCDSEC", "LTM1_1", "LTM2_2", "LTV1", "LTV2",  # fixDETSEC
        "DATE-OBS", "MJD-OBS", "HJD-OBS", "BJD-OBS",  # fixDateTime
        "QCSTATUS", "QCFLAGS", "Q1SAT", "Q2SAT", "Q3SAT", "Q4SAT",  # quality checks
        "UNIQNAME", "NEXTEND", "CHECKSUM", "DATASUM"} == EXPECTED_KEYWORDS


def test_every_keyword_the_quality_checks_write_is_expected():
    report = QualityReport((Finding("IM2:dead", "IM2 data constant"),),
                           tuple(AmpQuality(f"IM{q}", q, 1000.0, 3.0, 0.0) for q in (1, 2, 3, 4)))
    assert {keyword for keyword, _, _ in header_cards(report)} <= EXPECTED_KEYWORDS


def test_every_keyword_fix_detsec_writes_is_expected():
    readout = Readout(4146, 1544, 1, 1, 4146, 1544, 32)
    assert set(amplifier_keywords(2, readout)) <= EXPECTED_KEYWORDS


def test_largest_difference_counts_a_nan_on_one_side_only_as_infinitely_far():
    a = np.zeros((1100, 3), dtype=np.float32)
    b = a.copy()
    b[1050, 2] = -7.25  # in the third block of rows
    assert largest_difference(a, b) == 7.25
    b[3, 1], a[4, 0], b[4, 0] = np.nan, np.nan, np.nan
    assert largest_difference(a, b) == np.inf


def write(path, primary: dict, image: np.ndarray, extra: bool = False) -> None:
    hdus = [fits.PrimaryHDU(header=fits.Header(list(primary.items()))),
            fits.ImageHDU(image, name="IM1")]
    if extra:
        hdus.append(fits.ImageHDU(np.zeros((2, 2), np.float32), name="MERGED"))
    fits.HDUList(hdus).writeto(path)


def test_extensions_are_matched_by_name_and_differences_sorted_out(tmp_path):
    image = np.arange(12, dtype=np.int16).reshape(3, 4)
    write(tmp_path / "old.fits", {"OBJECT": "M51", "UNIQNAME": "a.fits", "ONLYOLD": 1}, image)
    changed = image.copy()
    changed[1, 2] = 40
    write(tmp_path / "new.fits", {"OBJECT": "M51", "UNIQNAME": "b.fits"}, changed, extra=True)
    found = compare_files(tmp_path / "old.fits", tmp_path / "new.fits")
    assert found.keywords == (
        KeywordDifference("PRIMARY", "UNIQNAME", "a.fits", "b.fits"),
        KeywordDifference("PRIMARY", "ONLYOLD", 1, "(absent)"),
        KeywordDifference("MERGED", "(extension)", "(absent)", "present"))
    assert [item.expected for item in found.keywords] == [True, False, False]
    assert found.data == (DataDifference("IM1", 1, 34.0),)  # 6 -> 40
    assert found.unexpected


@pytest.mark.parametrize("rtol", [0.0, 1e-3])
def test_tolerances_reach_keywords_and_pixels(tmp_path, rtol):
    write(tmp_path / "old.fits", {"EXPTIME": 100.0}, np.full((2, 2), 1000.0, np.float32))
    write(tmp_path / "new.fits", {"EXPTIME": 100.01}, np.full((2, 2), 1000.5, np.float32))
    found = compare_files(tmp_path / "old.fits", tmp_path / "new.fits", rtol=rtol)
    assert found.unexpected is (rtol == 0.0)
