"""Conditions the service reports itself (``service.alerts``): on the health line, in the
console's snapshot and in the night log's summary."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from dataman.ipc.protocol_snapshot import ServiceInfo
from dataman.service.health import assess
from dataman.service.refusals import Refusals
from tests.service.test_health import NOW, problems, snapshot_with

FULL = "database or disk is full"
AT_0312 = datetime(2025, 12, 31, 3, 12, 4, tzinfo=UTC).timestamp()


def test_alerts_are_health_problems_with_a_long_reason_cut_short():
    long = "processing stalled: No space left on device in /data/" + "x" * 80
    found = problems(service={"alerts": ("requests not recorded: disk full", long)})
    assert found[0] == "requests not recorded: disk full"
    assert found[1].startswith("processing stalled: No space left on device in /data/xx")
    assert found[1].endswith("...") and len(found[1]) == len("processing stalled: ") + 60
    assert assess(snapshot_with(service={"alerts": ("x: y",)}), NOW).verdict == "WARNING"


def test_alerts_default_to_none_for_an_older_service():
    data = snapshot_with().service.to_dict()
    del data["alerts"]
    assert ServiceInfo.from_dict(data).alerts == ()


def test_refusals_say_the_reason_from_the_first_refused_request_until_one_is_recorded(caplog):
    refusals = Refusals()
    with caplog.at_level(logging.INFO, logger="dataman"):
        refusals.refused(2, FULL, AT_0312, where="/state/journal.sqlite3")
        refusals.refused(3, FULL, AT_0312 + 30)
        assert refusals.problem == f"requests not recorded: {FULL} (5 refused since " \
                                   "03:12:04 UTC)"
        refusals.recorded(AT_0312 + 60)
    assert refusals.problem is None
    levels = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert levels == [
        ("CRITICAL", f"requests are NOT being recorded: {FULL} (/state/journal.sqlite3); "
                     "frames are recovered by the scan once the journal can write again"),
        ("WARNING", f"requests are recorded again after 60 s; 5 were not recorded ({FULL})")]


def test_the_night_summary_lists_each_time_requests_were_not_recorded():
    refusals = Refusals()
    refusals.refused(5, FULL, AT_0312)
    refusals.recorded(AT_0312 + 60)
    refusals.refused(1, FULL, AT_0312 + 3600)
    night = (AT_0312 - 10 * 3600, AT_0312 + 14 * 3600)
    assert refusals.summary_lines("20251230", *night) == [
        f"night 20251230 requests not recorded from 03:12:04 to 03:13:04 UTC: 5 refused "
        f"({FULL})",
        f"night 20251230 requests not recorded from 04:12:04 until now UTC: 1 refused "
        f"({FULL})"]
    assert refusals.summary_lines("20251231", AT_0312 + 86400, AT_0312 + 2 * 86400) == [
        f"night 20251231 requests not recorded from 04:12:04 until now UTC: 1 refused "
        f"({FULL})"]
