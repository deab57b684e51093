"""``dataman run -c`` on the reference dataMan's YAML file, unchanged: a frame is delivered with
its switches honoured (makeOTM: N, the four fixes Y)."""

from __future__ import annotations

import pytest
from astropy.io import fits

from dataman.core.config import load_config
from tests.reference_yaml_fixture import write_reference_yaml
from tests.service_harness import frames, free_udp_port

pytestmark = pytest.mark.slow

# step -> (HDU, a keyword only that step changes in a simulated frame)
OWNED = {
    "fixDETSEC": ("IM2", "DETSEC"),
    "fixDateTime": (0, "MJD-OBS"),
    "fixTemps": (0, "CCDTEMP"),
    "fixMisc": (0, "IMAGETYP"),
}


def test_a_frame_is_delivered_as_the_yaml_file_says(service_factory):
    service = service_factory()
    # The deployment's file, bound to loopback on a free port instead of 192.168.139.130:10301.
    service.config_path = write_reference_yaml(service.folder, host="127.0.0.1",
                                               port=free_udp_port(), make_otm="N")
    service.config = load_config(service.config_path)
    service.start()
    raw = frames(service, 1)[0]
    service.send(raw)
    service.wait_states([raw.name])
    delivered = service.config.paths.repo_dir / raw.name
    with fits.open(raw) as before, fits.open(delivered) as after:
        assert [hdu.name for hdu in after] == ["PRIMARY", "IM1", "IM2", "IM3", "IM4", "CONPARS"]
        for step, (extension, keyword) in OWNED.items():
            assert after[extension].header.get(keyword) != \
                before[extension].header.get(keyword), step
    assert (service.config.paths.repo_dir / "MODS1B.new").read_text() == f"{raw.name}\n"
    assert f"{raw.name}: delivered {delivered}" in service.log_text()
    assert service.stop() == 0
