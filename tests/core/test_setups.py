"""The night's setup checklist: which setups with science lack which calibrations."""

from __future__ import annotations

from dataman.core.config import Config
from dataman.core.pipeline import process_frame
from dataman.core.setups import Setup, SetupFrame, SetupStatus, checklist
from tests.conftest import make_frame

BLUE = Setup("MODS1B", "G400L", "Clear", "LS5x60x1.0", "1x1", "full")
NARROW = Setup("MODS1B", "G400L", "Clear", "LS5x60x0.6", "1x1", "full")
BINNED = Setup("MODS1B", "G400L", "Clear", "LS5x60x1.0", "2x2", "full")
RED = Setup("MODS1R", "G670L", "GG495", "LS5x60x1.0", "1x1", "full")


def frames(setup: Setup, imagetyp: str, count: int, flags: str = "") -> list[SetupFrame]:
    return [SetupFrame(setup, imagetyp, flags)] * count


def test_a_setup_missing_its_arcs_says_so_in_one_line():
    night = frames(BLUE, "OBJECT", 4) + frames(BLUE, "BIAS", 3) + frames(BLUE, "FLAT", 3)
    (status,) = checklist(night)
    assert status == SetupStatus(BLUE, objects=4, biases=3, flats=3, comps=0)
    assert status.missing == ("arcs",)
    assert status.line() == ("MODS1B G400L Clear / LS5x60x1.0 / 1x1 full: 4 OBJECT, 3 BIAS, "
                             "3 FLAT, 0 COMP: no arcs yet")


def test_flats_and_arcs_match_the_whole_setup_biases_only_the_readout():
    night = (frames(BLUE, "BIAS", 5) + frames(BLUE, "FLAT", 3) + frames(BLUE, "COMP", 2)
             + frames(NARROW, "OBJECT", 2) + frames(BINNED, "OBJECT", 1)
             + frames(BLUE, "OBJECT", 1) + frames(RED, "OBJECT", 1))
    assert checklist(night) == [  # lacking first, then in setup order (mask 0.6 before 1.0)
        SetupStatus(NARROW, 2, 5, 0, 0),  # same readout: the biases count; not the flats
        SetupStatus(BINNED, 1, 0, 0, 0),  # binned: none of them counts
        SetupStatus(RED, 1, 0, 0, 0),
        SetupStatus(BLUE, 1, 5, 3, 2),  # complete
    ]
    assert [s.verdict() for s in checklist(night)] == [
        "no flats or arcs yet", "no biases or flats or arcs yet",
        "no biases or flats or arcs yet", "complete"]


def test_a_calibration_that_failed_its_image_type_check_does_not_count():
    night = (frames(BLUE, "OBJECT", 1) + frames(BLUE, "COMP", 2, "COMP:lines")
             + frames(BLUE, "FLAT", 1, "FLAT:dim IM2:noise") + frames(BLUE, "FLAT", 1, "IM2:sat")
             + frames(BLUE, "BIAS", 1, "BIAS:light hdr:OBJECT") + frames(BLUE, "BIAS", 2))
    assert checklist(night) == [SetupStatus(BLUE, 1, 2, 1, 0)]


def test_setups_without_science_are_not_listed():
    assert checklist(frames(BLUE, "FLAT", 3) + frames(RED, "COMP", 2)) == []


def test_the_worker_reads_the_setup_keywords_of_a_simulated_frame(config: Config):
    result = process_frame(make_frame(config, instrument="MODS2R", kind="comp", roi="1kx1k",
                                      binning=2, primary={"MASKNAME": "LS5x60x0.6"}), config)
    facts = result.facts
    assert (facts.grating, facts.filter_name, facts.mask, facts.binning, facts.roi) == (
        "G670L", "GG495", "LS5x60x0.6", "2x2", "1kx1k")
