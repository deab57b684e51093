"""The control protocol's classes: every one survives encode/decode, and decoding is strict."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from dataman.ipc.connection import ControlConnection
from dataman.ipc.control import APPENDED, REPLACEABLE, ControlUnavailable, encode
from dataman.ipc.control_server import ControlServer
from dataman.ipc.protocol import ProtocolError
from dataman.ipc.protocol_events import (
    EVENTS,
    CountsChanged,
    Dropped,
    Event,
    FrameFinished,
    FrameRefused,
    HealthChanged,
    LogAppended,
    QueueChanged,
    ServiceChanged,
    SetupsChanged,
    TransfersChanged,
    UnknownEvent,
    WorkersChanged,
    decode_event,
)
from dataman.ipc.protocol_requests import Request
from dataman.ipc.protocol_snapshot import (
    Counts,
    FrameEntry,
    HealthInfo,
    LastDelivered,
    LogEntry,
    QualityBand,
    QualityFinding,
    QueueEntry,
    ServiceInfo,
    SetupEntry,
    Snapshot,
    Transfers,
    WorkerEntry,
)
from tests.tui.canned import busy_snapshot, quiet_snapshot

BUSY = busy_snapshot()
SETUPS = (SetupEntry("MODS1B", "G400L", "Clear", "LS5x60x0.6", "1x1", "full", 4, 3, 2, 0,
                     ("arcs",), "MODS1B G400L Clear / LS5x60x0.6 / 1x1 full: 4 OBJECT, "
                                "3 BIAS, 2 FLAT, 0 COMP: no arcs yet"),)
#: One of each class, with optional fields both set and unset somewhere.
SECTIONS = [BUSY.service, BUSY.counts, *BUSY.queue, *BUSY.workers, *BUSY.recent,
            *(finding for item in BUSY.recent for finding in item.qc_findings),
            BUSY.transfers, *BUSY.log, BUSY.last, BUSY.health,
            *BUSY.quality_bands.values(), QualityBand(200.0, 5000.0, None, None), *SETUPS]
EVENT_SAMPLES: list[Event] = [
    ServiceChanged(BUSY.service), CountsChanged(BUSY.counts), QueueChanged(BUSY.queue),
    WorkersChanged(BUSY.workers), TransfersChanged(BUSY.transfers),
    HealthChanged(BUSY.health), FrameFinished(BUSY.recent[2]), LogAppended(BUSY.log[0]),
    FrameRefused("mods1b.20251230.0143.fits", "192.0.2.7:50123",
                 "already delivered /newdata/mods1b.20251230.0143.fits; not processed again"),
    Dropped(7), SetupsChanged(SETUPS)]


def through_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: type(s).__name__)
def test_every_section_class_round_trips_through_json(section: Any):
    assert type(section).from_dict(through_json(section.to_dict())) == section


@pytest.mark.parametrize("snapshot", [BUSY, quiet_snapshot(),
                                      dataclasses.replace(BUSY, setups=SETUPS)],
                         ids=["busy", "quiet", "setups"])
def test_the_snapshot_round_trips_through_json(snapshot: Snapshot):
    assert Snapshot.from_dict(through_json(snapshot.to_dict())) == snapshot


@pytest.mark.parametrize("event", EVENT_SAMPLES, ids=lambda e: e.kind)
def test_every_event_round_trips_through_json(event: Event):
    message = {"v": 1, "type": "event", "event": event.kind, "time": 1767064366.0,
               "data": through_json(event.data())}
    assert decode_event(message) == event


def test_every_event_kind_has_a_sample_and_the_server_knows_it():
    assert {event.kind for event in EVENT_SAMPLES} == set(EVENTS)
    assert {kind for kind, cls in EVENTS.items() if cls.replaceable} == REPLACEABLE
    assert {kind for kind, cls in EVENTS.items() if not cls.replaceable} - {"dropped"} == \
        APPENDED


def test_the_wire_form_is_the_documented_one():
    """Written by hand, as the protocol section of docs/architecture.md gives it."""
    assert LogEntry(1767064366.5, "INFO", "hello").to_dict() == {
        "time": 1767064366.5, "level": "INFO", "message": "hello"}
    assert Dropped(3).data() == {"count": 3}
    assert QueueChanged((QueueEntry("a.fits", "mods1b", "scan", 10.0, None, None),)).data() \
        == [{"name": "a.fits", "channel": "mods1b", "source": "scan", "requested_at": 10.0,
             "not_before": None, "reason": None}]
    assert HealthInfo(1, "WARNING", ("intake paused",)).to_dict() == {
        "level": 1, "verdict": "WARNING", "problems": ["intake paused"]}


def test_an_integer_where_a_float_is_expected_is_a_float():
    entry = LogEntry.from_dict({"time": 1767064366, "level": "INFO", "message": "x"})
    assert entry.time == 1767064366.0 and type(entry.time) is float


def wire_busy() -> dict[str, Any]:
    return through_json(BUSY.to_dict())


@pytest.mark.parametrize(("spoil", "error"), [
    (lambda s: s.pop("counts"), "snapshot.counts: missing"),
    (lambda s: s["workers"][1].pop("pid"), "snapshot.workers[1].pid: missing"),
    (lambda s: s["workers"][0].update(pid="4250"),
     "snapshot.workers[0].pid: expected int, got str"),
    (lambda s: s["counts"].update(failed=True), "snapshot.counts.failed: expected int, got bool"),
    (lambda s: s["service"].update(started_at=None),
     "snapshot.service.started_at: expected float, got null"),
    (lambda s: s["transfers"].update(repo_reachable=1),
     "snapshot.transfers.repo_reachable: expected bool, got int"),
    (lambda s: s["transfers"]["last"].update(MODS1B=3),
     "snapshot.transfers.last.MODS1B: expected str, got int"),
    (lambda s: s["recent"][3].update(warnings="CCD temperature missing"),
     "snapshot.recent[3].warnings: expected an array, got str"),
    (lambda s: s.update(queue={}), "snapshot.queue: expected an array, got an object"),
    (lambda s: s.update(last=[]), "snapshot.last: expected an object, got an array"),
])
def test_a_missing_or_mistyped_field_is_named(spoil, error: str):
    snapshot = wire_busy()
    spoil(snapshot)
    with pytest.raises(ProtocolError) as raised:
        Snapshot.from_dict(snapshot, where="snapshot")
    assert str(raised.value) == error


def test_a_field_this_side_does_not_know_is_ignored():
    """A service of the same major version may add a field: an older console reads on."""
    snapshot = wire_busy()
    snapshot["service"]["uptime_hint"] = 3
    snapshot["future_section"] = {"x": 1}
    assert Snapshot.from_dict(snapshot) == BUSY


#: A recent frame as a service without the quality checks in the protocol sends it.
OLD_FRAME = {"name": "mods1b.20251230.0143.fits", "instrument": "MODS1B", "roi": "full",
             "binning": "1x1", "timings": {"read": 0.2}, "latency": 0.6, "processed": None,
             "delivered": None, "result": "ok", "reason": None, "warnings": [],
             "finished_at": 1767064366.0}


def test_a_frame_with_its_quality_verdict_round_trips_in_the_documented_form():
    """Written by hand: the qc_* fields of a recent frame."""
    wire = OLD_FRAME | {
        "qc_status": "BAD", "qc_flags": "IM2:dead",
        "qc_findings": [{"flag": "IM2:dead", "reason": "IM2 data constant at 1012 DN"}],
        "qc_bias": {"IM1": 1010.5, "IM2": 1012}, "qc_noise": {"IM1": 3.25, "IM2": 0.5},
        "qc_saturated": {"IM1": 0.0, "IM2": 0.0},
        "imagetyp": "OBJECT", "exptime": 300.0, "object_name": "M42 [OIII] field",
        "ccd_temp": -110.5, "base_temp": -80.25}
    entry = FrameEntry.from_dict(through_json(wire))
    assert (entry.imagetyp, entry.exptime, entry.object_name) == (
        "OBJECT", 300.0, "M42 [OIII] field")
    assert (entry.ccd_temp, entry.base_temp) == (-110.5, -80.25)
    assert (entry.qc_status, entry.qc_flags) == ("BAD", "IM2:dead")
    assert entry.qc_findings == (QualityFinding("IM2:dead", "IM2 data constant at 1012 DN"),)
    assert entry.qc_bias == {"IM1": 1010.5, "IM2": 1012.0}
    assert type(entry.qc_bias["IM2"]) is float
    assert through_json(entry.to_dict()) == wire


def test_a_frame_from_a_service_without_quality_fields_has_no_verdict():
    """The qc_* fields came within protocol 1: an older service leaves them out."""
    entry = FrameEntry.from_dict(through_json(OLD_FRAME))
    assert (entry.qc_status, entry.qc_flags, entry.qc_findings) == (None, "", ())
    assert (entry.qc_bias, entry.qc_noise, entry.qc_saturated) == ({}, {}, {})
    assert (entry.imagetyp, entry.exptime, entry.ccd_temp, entry.base_temp) == (
        "", None, None, None)


def test_a_snapshot_without_quality_bands_has_none():
    """quality_bands came within protocol 1: an older service leaves it out."""
    snapshot = wire_busy()
    del snapshot["quality_bands"]
    assert Snapshot.from_dict(snapshot).quality_bands == {}
    assert wire_busy()["quality_bands"]["MODS1B"] == {
        "bias_min": 200.0, "bias_max": 5000.0, "noise_min": 2.0, "noise_max": 8.0}


def test_a_mistyped_quality_field_is_named():
    with pytest.raises(ProtocolError) as raised:
        FrameEntry.from_dict(OLD_FRAME | {"qc_noise": {"IM1": "3.2"}}, where="frame")
    assert str(raised.value) == "frame.qc_noise.IM1: expected float, got str"


@pytest.mark.parametrize(("message", "error"), [
    ({"event": "frame", "time": 0}, "event 'frame': missing data"),
    ({"event": 3, "data": {}}, "event message without a kind: 3"),
    ({"event": "dropped", "data": {"count": "7"}},
     "event 'dropped' data.count: expected int, got str"),
    ({"event": "workers", "data": [{"index": 0}]},
     "event 'workers' data[0].pid: missing"),
])
def test_a_bad_event_is_named(message: dict[str, Any], error: str):
    with pytest.raises(ProtocolError) as raised:
        decode_event(message)
    assert str(raised.value) == error


def test_an_unknown_event_kind_is_its_own_error():
    with pytest.raises(UnknownEvent):
        decode_event({"event": "weather", "data": {"wind": 12}})


def test_the_classes_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        BUSY.counts.failed = 2  # type: ignore[misc]


class NoWriter:
    """The connection's writer, unused: these tests only receive."""

    def close(self) -> None:
        pass

    async def wait_closed(self) -> None:
        pass


def test_a_connection_decodes_events_and_skips_kinds_it_does_not_know():
    """A newer service of the same version may add an event kind: it is passed over."""
    def line(kind: str, data: Any) -> bytes:
        return encode({"type": "event", "event": kind, "time": 1767064366.0, "data": data})

    async def scenario() -> list[Event]:
        reader = asyncio.StreamReader()
        for message in [line("weather", {"wind": 12}), line("log", BUSY.log[0].to_dict()),
                        line("refused", EVENT_SAMPLES[8].data()), line("dropped", {"count": 2})]:
            reader.feed_data(message)
        reader.feed_eof()
        connection = ControlConnection(reader, NoWriter())  # type: ignore[arg-type]
        received: list[Event] = []
        with pytest.raises(ControlUnavailable):
            while True:
                received.append(await connection.next_event())
        await connection.close()
        return received

    assert asyncio.run(scenario()) == [LogAppended(BUSY.log[0]), EVENT_SAMPLES[8], Dropped(2)]


#: What the service publishes: every kind but ``dropped``, which the server itself makes.
PUBLISHED = [event for event in EVENT_SAMPLES if not isinstance(event, Dropped)]


def test_a_server_encodes_what_the_service_builds(short_dir: Path):
    """The reply to subscribe and published events reach a client as equal objects."""
    async def handler(request: Request) -> Snapshot:
        return BUSY

    async def scenario() -> tuple[Snapshot, list[Event]]:
        server = ControlServer(short_dir / "p.sock", handler)
        await server.start()
        try:
            connection = await ControlConnection.open(short_dir / "p.sock")
            try:
                snapshot = await connection.subscribe()
                for event in PUBLISHED:
                    server.publish_event(event)
                async with asyncio.timeout(5):
                    events = [await connection.next_event() for _ in PUBLISHED]
            finally:
                await connection.close()
        finally:
            await server.close()
        return snapshot, events

    snapshot, events = asyncio.run(scenario())
    assert snapshot == BUSY
    # Replaceable events are coalesced per kind, appended ones keep their order: with one
    # of each kind, every event arrives, each equal to the one published.
    assert sorted(events, key=lambda e: e.kind) == sorted(PUBLISHED, key=lambda e: e.kind)


def test_every_class_is_listed_in_the_snapshot_or_the_events():
    """So that a class added to the protocol gets a round-trip test above."""
    tested = {type(section) for section in SECTIONS}
    assert tested == {ServiceInfo, Counts, QueueEntry, WorkerEntry, FrameEntry,
                      QualityFinding, Transfers, LogEntry, LastDelivered, HealthInfo,
                      QualityBand, SetupEntry}
