"""Frames that are not what azcam writes fail with a named error that says why."""

import numpy as np
import pytest
from astropy.io import fits

from dataman.core.errors import BadFrame, BadHeader, FrameIncomplete
from dataman.core.pipeline import process_frame
from tests.conftest import make_frame


@pytest.fixture
def raw(config):
    return make_frame(config, roi="1kx1k", binning=2)


def rewrite(path, change):
    with fits.open(path) as hdus:
        hdus = fits.HDUList([hdu.copy() for hdu in hdus])
    change(hdus)
    path.unlink()
    hdus.writeto(path)


def test_zero_byte_file(config, raw):
    raw.write_bytes(b"")
    with pytest.raises(FrameIncomplete, match="empty"):
        process_frame(raw, config)


def test_truncated_in_a_header(config, raw):
    raw.write_bytes(raw.read_bytes()[:4000])
    with pytest.raises(FrameIncomplete):
        process_frame(raw, config)


def test_truncated_in_the_pixels(config, raw):
    data = raw.read_bytes()
    raw.write_bytes(data[:len(data) // 2])
    with pytest.raises(FrameIncomplete, match="truncated"):
        process_frame(raw, config)


def test_missing_final_padding_counts_as_still_being_written(config, raw):
    with fits.open(raw) as original:
        table = original["CONPARS"]
        end = table.fileinfo()["datLoc"] + len(table.data.tobytes())
    raw.write_bytes(raw.read_bytes()[:end])
    with pytest.raises(FrameIncomplete):
        process_frame(raw, config)


def test_not_fits(config, raw):
    raw.write_text("SIMPLE? no, a shopping list\n" * 200)
    with pytest.raises(BadFrame, match="not a readable FITS file"):
        process_frame(raw, config)


def test_missing_extension(config, raw):
    rewrite(raw, lambda hdus: hdus.pop(3))
    with pytest.raises(BadFrame, match="missing extension IM3"):
        process_frame(raw, config)


def test_wrong_bitpix(config, raw):
    def to_int32(hdus):
        hdus[2] = fits.ImageHDU(hdus[2].data.astype(np.int32), hdus[2].header, name="IM2")
    rewrite(raw, to_int32)
    with pytest.raises(BadFrame, match="IM2 has BITPIX 32"):
        process_frame(raw, config)


def test_shapes_differ_between_extensions(config, raw):
    def shrink(hdus):
        hdus[4] = fits.ImageHDU(hdus[4].data[:, :-3], hdus[4].header, name="IM4")
    rewrite(raw, shrink)
    with pytest.raises(BadFrame, match="differ in shape"):
        process_frame(raw, config)


def test_reference_pixel_outside_the_detector(config, raw):
    def move(hdus):
        hdus[0].header["REF-PIX1"] = 99999
    rewrite(raw, move)
    with pytest.raises(BadHeader, match="REF-PIX1"):
        process_frame(raw, config)


def test_nothing_is_written_for_a_bad_frame(config, raw):
    raw.write_bytes(raw.read_bytes()[:20000])
    with pytest.raises(FrameIncomplete):
        process_frame(raw, config)
    assert list(config.paths.repo_dir.iterdir()) == []
    assert not any(path.is_file() for path in config.paths.proc_dir.rglob("*.fits"))


def test_truncated_in_the_pixels_of_the_last_amplifier_says_so(config, raw):
    with fits.open(raw) as hdus:
        start = hdus["IM4"].fileinfo()["datLoc"]
    raw.write_bytes(raw.read_bytes()[:start + 1000])
    with pytest.raises(FrameIncomplete, match="truncated in the data after IM3"):
        process_frame(raw, config)
