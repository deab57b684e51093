"""FITS sections to numpy slices, flipped ranges included, in one place."""

import numpy as np
import pytest

from dataman.core.geometry import Section, readout_window, roi_mode_of


def test_parses_and_prints_a_reversed_section():
    section = Section.from_fits("[8292:4147,1:1544]")
    assert (section.x1, section.x2, section.y1, section.y2) == (8292, 4147, 1, 1544)
    assert section.x_reversed and not section.y_reversed
    assert section.shape == (1544, 4146)
    assert str(section) == "[8292:4147,1:1544]"


@pytest.mark.parametrize("text", ["", "[1:2]", "1:2,3:4", "[a:b,c:d]", "[1:2,3:4"])
def test_rejects_text_that_is_not_a_section(text):
    with pytest.raises(ValueError):
        Section.from_fits(text)


def test_slices_list_pixels_in_section_order():
    image = np.arange(5 * 6).reshape(5, 6)  # FITS pixel (x, y) = image[y-1, x-1]
    assert image[Section(2, 4, 1, 2).to_slices()].tolist() == [[1, 2, 3], [7, 8, 9]]
    assert image[Section(4, 2, 1, 1).to_slices()].tolist() == [[3, 2, 1]]
    assert image[Section(3, 1, 2, 1).to_slices()].tolist() == [[8, 7, 6], [2, 1, 0]]


def test_readout_window_and_mode_names():
    assert str(readout_window(c0=4146, r0=1544, width=512, height=512)) == "[3635:4658,1033:2056]"
    assert roi_mode_of(8292, 3088) == "full"
    assert roi_mode_of(1024, 1024) == "1kx1k"
    assert roi_mode_of(100, 100) is None
