"""A shadow run says so on its health line, and counts what it processed as done."""

from __future__ import annotations

from dataman.ipc.protocol_snapshot import ServiceInfo, Snapshot
from dataman.service.health import assess, health_line
from tests import protocol_fixtures as pf

NOW = 1767064366.0


def shadow_snapshot(**service: object) -> Snapshot:
    return pf.snapshot(service=pf.service_info(started_at=NOW - 600, shadow=True, **service),
                       counts=pf.counts(processed=7, delivered=0, failed=1))


def test_a_shadow_run_without_udp_says_shadow_right_after_the_verdict():
    snapshot = shadow_snapshot(udp_port=0)
    assert health_line(assess(snapshot, NOW), snapshot, None, NOW) == (
        "dataMan OK SHADOW (no delivery, no UDP) pid 4242 up 10m00s workers 2/2 queue 0 "
        "done 7 failed 1")


def test_a_shadow_run_that_listens_on_udp_says_only_no_delivery():
    snapshot = shadow_snapshot(udp_port=10302)
    line = health_line(assess(snapshot, NOW), snapshot, None, NOW)
    assert line.startswith("dataMan OK SHADOW (no delivery) pid 4242 ")


def test_a_service_of_before_shadow_mode_decodes_as_delivering_on_udp():
    wire = pf.service_info().to_dict()
    del wire["shadow"], wire["udp_port"]
    decoded = ServiceInfo.from_dict(wire)
    assert (decoded.shadow, decoded.udp_port) == (False, 10301)
