"""Each processing step can be switched off in [processing] and then changes nothing."""

from datetime import UTC, datetime

import pytest
from astropy.io import fits

from dataman.core.config import load_config
from dataman.core.pipeline import process_frame
from tests.conftest import make_frame, write_config

NOW = datetime(2025, 12, 30, 4, 0, tzinfo=UTC)
# step -> (HDU, a keyword only that step changes in a 1kx1k simulated frame)
OWNED = {
    "fixDETSEC": ("IM2", "DETSEC"),
    "fixDateTime": (0, "MJD-OBS"),
    "fixTemps": (0, "CCDTEMP"),
    "fixMisc": (0, "IMAGETYP"),
}


@pytest.mark.parametrize("step", list(OWNED))
def test_a_switched_off_fix_leaves_its_keywords_as_azcam_wrote_them(tmp_path, step):
    config = load_config(write_config(tmp_path, processing={step: False}))
    raw = make_frame(config, roi="1kx1k", binning=1)
    result = process_frame(raw, config, now=lambda: NOW)
    extension, keyword = OWNED[step]
    with fits.open(raw) as before, fits.open(result.delivered) as after:
        assert after[extension].header.get(keyword) == before[extension].header.get(keyword)
        for other, (other_ext, other_key) in OWNED.items():
            if other != step:  # the other steps still ran
                assert after[other_ext].header.get(other_key) != \
                    before[other_ext].header.get(other_key), other


def test_without_makeotm_there_is_no_merged_extension(tmp_path):
    config = load_config(write_config(tmp_path, processing={"makeOTM": False}))
    raw = make_frame(config, roi="1kx1k", binning=2)
    result = process_frame(raw, config, now=lambda: NOW)
    with fits.open(result.delivered) as hdus:
        assert [hdu.name for hdu in hdus] == ["PRIMARY", "IM1", "IM2", "IM3", "IM4", "CONPARS"]
        assert "MODSQUAD" not in hdus["IM1"].header
        hdus.verify("exception")
    assert "otm" not in result.timings
