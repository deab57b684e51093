"""The console's header says SHADOW for a run that delivers nothing."""

from __future__ import annotations

from dataman.tui.model import ServiceView
from dataman.tui.widgets.status_header import StatusHeader
from tests import protocol_fixtures as pf

NOW = 1767064366.0


def header_state(**service: object) -> str:
    view = ServiceView()
    view.attach(pf.snapshot(service=pf.service_info(started_at=NOW - 60, **service)))
    return StatusHeader()._state(view, NOW, compact=False).plain


def test_a_shadow_run_without_udp_is_marked_in_the_header():
    assert "SHADOW (no delivery, no UDP)" in header_state(shadow=True, udp_port=0)


def test_a_delivering_run_has_no_shadow_mark():
    assert "SHADOW" not in header_state()
