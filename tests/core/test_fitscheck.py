"""The FITS structure check after a power cut: whole files pass, cut ones say how."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

from dataman.core.fitscheck import fits_problem


def written(tmp_path: Path) -> Path:
    """Primary (1 block) + a 100x37 float image (1 header block, 14800 bytes of data in 6
    blocks: it ends at 23040) + a table (a header block, a data block): 28800 bytes."""
    path = tmp_path / "whole.fits"
    table = fits.BinTableHDU.from_columns([fits.Column("a", "E", array=np.arange(10.0))])
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.zeros((100, 37), ">f4")),
                  table]).writeto(path)
    return path


def cut(path: Path, size: int, name: str) -> Path:
    short = path.with_name(name)
    short.write_bytes(path.read_bytes()[:size])
    return short


def test_a_whole_file_has_no_problem_and_its_size_is_checked(tmp_path: Path):
    path = written(tmp_path)
    assert path.stat().st_size == 28800
    assert fits_problem(path) is None
    assert fits_problem(path, 28800) is None
    assert fits_problem(path, 31680) == "28800 bytes, 31680 were written"


def test_a_file_cut_anywhere_is_found(tmp_path: Path):
    path = written(tmp_path)
    # at the end of the image's header (its data missing), in the image's data, in a header
    describe = "bytes where its headers describe"
    assert fits_problem(cut(path, 5760, "a.fits")) == f"5760 {describe} 23040"
    assert fits_problem(cut(path, 20160, "b.fits")) == f"20160 {describe} 23040"
    assert fits_problem(cut(path, 25920, "c.fits")) == f"25920 {describe} 28800"
    assert fits_problem(cut(path, 1000, "d.fits")) == "cut short in a header at byte 0"
    # exactly at an HDU boundary, the table missing: only the recorded size tells
    assert fits_problem(cut(path, 23040, "e.fits")) is None
    assert fits_problem(cut(path, 23040, "e.fits"), 28800) == "23040 bytes, 28800 were written"


def test_an_empty_file_and_zeros_where_a_header_was(tmp_path: Path):
    path = written(tmp_path)
    assert fits_problem(cut(path, 0, "empty.fits")) == "empty"
    zeros = tmp_path / "zeros.fits"
    zeros.write_bytes(bytes(28800))
    assert fits_problem(zeros, 28800) == "no FITS header at byte 0"
    data = bytearray(path.read_bytes())
    data[2880:5760] = bytes(2880)  # the image's header block lost
    holed = tmp_path / "holed.fits"
    holed.write_bytes(bytes(data))
    assert fits_problem(holed, 28800) == "no FITS header at byte 2880"
