"""Messages between the supervisor and its workers: small JSON lines, never pixels.

Each worker has one Unix socket pair to the supervisor. A job names the raw
file and the shared-memory slot to use (:class:`~dataman.ipc.slots.SlotRef`);
the pixels go from the raw file into the slot and from the slot to the output
files without crossing the socket. A ``Job`` line is about 400 bytes, far
under the 4 KiB budget (``tests/service/test_scheduling.py`` measures it).

Every message is one line of JSON ``{"v": 1, "type": <kind>, ...fields}``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any, ClassVar

from dataman.core.errors import DataManError
from dataman.core.facts import FrameFacts
from dataman.core.quality.report import QualityReport
from dataman.ipc.protocol import ProtocolError, from_json

JOBS_VERSION = 1
MAX_LINE = 64 * 1024


class MessageError(DataManError):
    """A line that is not a valid job message (bad JSON, version, type or fields)."""


class JobKind(StrEnum):
    """What a worker is asked to do: the ``type`` of the two job messages, and the kind
    of job a busy worker holds (:class:`dataman.service.worker_process.Assignment`)."""

    JOB = "job"  # process a raw frame
    DELIVER = "deliver"  # copy a frame processed earlier to repoDir


class Cause(StrEnum):
    """Why a job failed (:class:`JobFailed`), which decides what becomes of its frame."""

    MISSING = "missing"  # the raw file is not there (yet): wait and retry
    INCOMPLETE = "incomplete"  # the raw file is still being written: wait and retry
    STALLED = "stalled"  # a full or failing disk: the frame keeps its place, retried
    BAD = "bad"  # the frame itself
    OUTPUT = "output"  # its output could not be written
    INTERNAL = "internal"  # a bug


@dataclass(frozen=True)
class Message:
    kind: ClassVar[str] = ""


# --- supervisor -> worker ---------------------------------------------------------------

@dataclass(frozen=True)
class Job(Message):
    """Process one raw frame in ``slot``; ``deliver`` False keeps it for in-order delivery;
    ``catch_up`` runs it at a lower CPU and I/O priority than a live request's frame."""

    kind: ClassVar[str] = JobKind.JOB
    frame_id: int
    path: str
    slot: dict[str, Any]
    uniqname: str | None = None  # known from an earlier attempt: reuse, never reserve anew
    retry: bool = False  # an earlier attempt may have left its outputs: replace them
    deliver: bool = True
    catch_up: bool = False


@dataclass(frozen=True)
class DeliverJob(Message):
    """Copy an already processed file to repoDir (the staging disk was down)."""

    kind: ClassVar[str] = JobKind.DELIVER
    frame_id: int
    processed: str
    raw_name: str
    uniqname: str
    instrument: str | None = None


@dataclass(frozen=True)
class Stop(Message):
    """Finish nothing more and exit."""

    kind: ClassVar[str] = "stop"


# --- worker -> supervisor ---------------------------------------------------------------

@dataclass(frozen=True)
class Hello(Message):
    """The worker is ready: it mapped the slots and warmed up, which took ``ready_in`` s."""

    kind: ClassVar[str] = "hello"
    pid: int
    ready_in: float = 0.0


@dataclass(frozen=True)
class StepStarted(Message):
    kind: ClassVar[str] = "step"
    frame_id: int
    step: str


@dataclass(frozen=True)
class UniqnameReserved(Message):
    """Sent before any output is written, so a retry can reuse the name."""

    kind: ClassVar[str] = "uniqname"
    frame_id: int
    uniqname: str


@dataclass(frozen=True)
class JobDone(Message):
    """The frame is processed; ``delivered`` is None when delivery failed or was deferred.

    A delivery job's answer (:class:`DeliverJob`) carries no facts nor quality: the
    journal has them from when the frame was processed.
    """

    kind: ClassVar[str] = "done"
    frame_id: int
    processed: str
    uniqname: str
    delivered: str | None = None
    delivery_error: str | None = None
    instrument: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: What the frame is, for the journal, the console and the night report.
    facts: FrameFacts = field(default_factory=FrameFacts)
    #: The quality checks' findings and values; None when the checks are off.
    quality: QualityReport | None = None
    #: Bytes of the processed file (and its copy); None when not known.
    output_size: int | None = None


@dataclass(frozen=True)
class JobFailed(Message):
    """The frame was not processed, ``reason`` says why in words and ``cause`` as a kind."""

    kind: ClassVar[str] = "failed"
    frame_id: int
    reason: str
    cause: Cause
    timings: dict[str, float] = field(default_factory=dict)
    #: The traceback of an internal error (a bug), kept in the journal to find it.
    detail: str = ""


@dataclass(frozen=True)
class LogLine(Message):
    """A worker's log record; the supervisor writes it to the night log."""

    kind: ClassVar[str] = "log"
    level: int
    message: str


MESSAGES: dict[str, type[Message]] = {
    cls.kind: cls for cls in (Job, DeliverJob, Stop, Hello, StepStarted, UniqnameReserved,
                              JobDone, JobFailed, LogLine)}


def encode(message: Message) -> bytes:
    """One JSON line, ``\\n``-terminated."""
    values = asdict(message)
    if isinstance(message, JobDone) and message.quality is not None:
        values["quality"] = message.quality.to_dict()
    body = {"v": JOBS_VERSION, "type": message.kind, **values}
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> Message:
    """The message of one line; ``MessageError`` names what is wrong with it."""
    if len(line) > MAX_LINE:
        raise MessageError(f"message of {len(line)} bytes exceeds {MAX_LINE}")
    try:
        body = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MessageError(f"not JSON: {error}") from error
    if not isinstance(body, dict) or body.pop("v", None) != JOBS_VERSION:
        raise MessageError(f"not a version {JOBS_VERSION} message: {line[:80]!r}")
    cls = MESSAGES.get(body.pop("type", None))
    if cls is None:
        raise MessageError(f"unknown message type in {line[:80]!r}")
    names = {f.name for f in fields(cls)}
    if not set(body) <= names:
        raise MessageError(f"{cls.kind}: unexpected fields {sorted(set(body) - names)}")
    try:
        if cls is JobDone:
            if body.get("quality") is not None:
                body["quality"] = QualityReport.from_dict(body["quality"])
            if "facts" in body:
                body["facts"] = from_json(FrameFacts, body["facts"], "done.facts")
        elif cls is JobFailed and "cause" in body:
            body["cause"] = from_json(Cause, body["cause"], "failed.cause")
        return cls(**body)
    except (TypeError, ValueError, ProtocolError) as error:
        raise MessageError(f"{cls.kind}: {error}") from error
