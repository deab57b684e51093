"""fixDETSEC against literal section tables worked out by hand from docs/processing.md."""

import pytest

from dataman.core.detsec import amplifier_keywords
from dataman.core.geometry import Section
from dataman.core.readout import Readout

# (ROI, data columns, rows) unbinned -> DETSEC of IM1..IM4 and (LTV1, LTV2), by hand:
# c0 = 4146, r0 = 1544; IM1 [c0-W+1:c0, r0-H+1:r0], IM2 [c0+W:c0+1, ...], etc.
UNBINNED = {
    "full": (4146, 1544, ["[1:4146,1:1544]", "[8292:4147,1:1544]",
                          "[1:4146,1545:3088]", "[8292:4147,1545:3088]"],
             [(0, 0), (8293, 0), (0, -1544), (8293, -1544)]),
    "4kx3k": (2048, 1544, ["[2099:4146,1:1544]", "[6194:4147,1:1544]",
                           "[2099:4146,1545:3088]", "[6194:4147,1545:3088]"],
              [(-2098, 0), (6195, 0), (-2098, -1544), (6195, -1544)]),
    "3kx3k": (1544, 1544, ["[2603:4146,1:1544]", "[5690:4147,1:1544]",
                           "[2603:4146,1545:3088]", "[5690:4147,1545:3088]"],
              [(-2602, 0), (5691, 0), (-2602, -1544), (5691, -1544)]),
    "1kx1k": (512, 512, ["[3635:4146,1033:1544]", "[4658:4147,1033:1544]",
                         "[3635:4146,1545:2056]", "[4658:4147,1545:2056]"],
              [(-3634, -1032), (4659, -1032), (-3634, -1544), (4659, -1544)]),
}


@pytest.mark.parametrize("roi", UNBINNED)
def test_unbinned_sections_and_offsets_match_hand_table(roi):
    columns, rows, sections, offsets = UNBINNED[roi]
    readout = Readout(4146, 1544, 1, 1, columns, rows, 32)
    for amp in range(1, 5):
        keys = amplifier_keywords(amp, readout)
        assert keys["DETSEC"] == keys["CCDSEC"] == sections[amp - 1]
        assert (keys["LTV1"], keys["LTV2"]) == offsets[amp - 1]
        assert keys["LTM1_1"] == (-1.0 if amp in (2, 4) else 1.0)
        assert keys["LTM2_2"] == 1.0


def test_full_frame_binned_2x2_offsets_by_hand():
    # Image pixel 1 of IM1 covers detector columns 1-2 (centre 1.5): 0.5 * 1.5 + LTV = 1.
    readout = Readout(4146, 1544, 2, 2, 2073, 772, 32)
    expected = {1: (0.25, 0.25), 2: (4146.75, 0.25), 3: (0.25, -771.75), 4: (4146.75, -771.75)}
    for amp, (ltv1, ltv2) in expected.items():
        keys = amplifier_keywords(amp, readout)
        assert (keys["LTV1"], keys["LTV2"]) == (ltv1, ltv2)
        assert keys["LTM1_1"] == (-0.5 if amp in (2, 4) else 0.5)
        assert keys["LTM2_2"] == 0.5
    assert amplifier_keywords(2, readout)["DETSEC"] == "[8292:4147,1:1544]"


@pytest.mark.parametrize("roi", UNBINNED)
@pytest.mark.parametrize("binning", [1, 2])
def test_every_image_pixel_centre_lands_on_its_binned_detector_pixel_centre(roi, binning):
    """A second method: walk the section pixel by pixel instead of using the formula."""
    columns, rows = UNBINNED[roi][0] // binning, UNBINNED[roi][1] // binning
    readout = Readout(4146, 1544, binning, binning, columns, rows, 32)
    for amp in range(1, 5):
        keys = amplifier_keywords(amp, readout)
        section = Section.from_fits(keys["DETSEC"])
        step_x = -binning if section.x_reversed else binning
        for i in (1, 2, columns):  # image column i covers detector columns from x1 + (i-1)*step
            first = section.x1 + (i - 1) * step_x
            centre = first + (step_x - (1 if step_x > 0 else -1)) / 2
            assert keys["LTM1_1"] * centre + keys["LTV1"] == pytest.approx(i, abs=1e-9)
        for j in (1, rows):
            centre = section.y1 + (j - 1) * binning + (binning - 1) / 2
            assert keys["LTM2_2"] * centre + keys["LTV2"] == pytest.approx(j, abs=1e-9)
