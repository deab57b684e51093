"""The night's setup checklist through the real service: worker, journal, snapshot."""

from __future__ import annotations

import pytest

from tests.service_harness import frames, wait_until

pytestmark = [pytest.mark.slow]


def test_a_setup_without_arcs_is_flagged_in_the_snapshot(service_factory):
    service = service_factory().start()
    night = [*frames(service, 2, kind="object"), *frames(service, 1, start=3, kind="bias"),
             *frames(service, 1, start=4, kind="flat"),
             # an arc whose lamps did not fire is no arc
             *frames(service, 1, start=5, kind="comp", fault="lamp-off"),
             # another slit, calibrated with its own flat and arc
             *frames(service, 1, start=6, kind="object", primary={"MASKNAME": "LS5x60x0.6"}),
             *frames(service, 1, start=7, kind="flat", primary={"MASKNAME": "LS5x60x0.6"}),
             *frames(service, 1, start=8, kind="comp", primary={"MASKNAME": "LS5x60x0.6"})]
    for raw in night:
        service.send(raw)

    def setups():
        snapshot = service.snapshot()
        done = snapshot and snapshot.counts.delivered == len(night)
        return done and snapshot.setups

    entries = wait_until(setups, timeout=90, what="every frame delivered")
    assert [entry.line for entry in entries] == [  # what to act on first
        "MODS1B G400L Clear / LS5x60x1.0 / 2x2 1kx1k: 2 OBJECT, 1 BIAS, 1 FLAT, 0 COMP: "
        "no arcs yet",
        "MODS1B G400L Clear / LS5x60x0.6 / 2x2 1kx1k: 1 OBJECT, 1 BIAS, 1 FLAT, 1 COMP: complete"]
    assert entries[0].missing == ("arcs",)
    flags = {item.name: item.qc_flags for item in service.snapshot().recent}
    assert flags[night[4].name] == "COMP:lines"
    assert service.stop() == 0
