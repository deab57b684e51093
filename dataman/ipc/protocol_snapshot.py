"""The snapshot of the control protocol: the reply to ``snapshot`` and ``subscribe``.

One class per section, fields as the service sends them (times in UTC epoch
seconds, sizes in bytes). The service builds them (``dataman.service.snapshot``);
the console, the demo and ``dataman health`` decode them with
:meth:`Snapshot.from_dict`. A replaceable event carries one of these sections
whole (:mod:`dataman.ipc.protocol_events`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from dataman.core.facts import FrameFacts
from dataman.core.quality.report import Status
from dataman.ipc.protocol import Wire
from dataman.ipc.states import Result, ServiceState, Source, WorkerState


@dataclass(frozen=True)
class ServiceInfo(Wire):
    """The supervisor: ``state`` starting, running, paused or stopping; ``cpu_percent`` and
    ``rss`` of supervisor + workers, measured once a second, None before the first.

    ``alerts`` (added within protocol 1): conditions that hold now, in words, each a
    health problem: processing stalled on a full disk, requests not recorded, a
    damaged journal or UNIQNAME registry set aside tonight.
    """

    state: ServiceState
    pid: int
    started_at: float
    hostid: str
    config: str
    version: str
    log_file: str
    workers_expected: int
    cpu_percent: float | None
    rss: int | None
    alerts: tuple[str, ...] = ()
    #: Shadow mode (``[service] deliver = False``): frames are processed, never delivered.
    shadow: bool = False
    #: The UDP command port; 0 when there is none (frames come from the scan alone).
    udp_port: int = 10301


@dataclass(frozen=True)
class Counts(Wire):
    """Frames of this observing night in each state, and ``queue_total``: every frame in
    the queue now, whatever its night (the ``queue`` section lists the first 200).

    ``bad`` and ``warn`` (added within protocol 1, default 0): how many of tonight's
    processed or delivered frames the quality checks flagged BAD or WARN.
    """

    queued: int
    running: int
    processed: int
    delivered: int
    failed: int
    queue_total: int
    bad: int = 0
    warn: int = 0


@dataclass(frozen=True)
class QueueEntry(Wire):
    """A queued frame, in dispatch order; ``source`` datagram, scan or console;
    ``not_before`` set while it waits (for its raw file, a retry)."""

    name: str
    channel: str
    source: Source
    requested_at: float
    not_before: float | None
    reason: str | None


@dataclass(frozen=True)
class WorkerEntry(Wire):
    """A worker process; ``state`` starting, idle, busy, stopping or exited."""

    index: int
    pid: int
    state: WorkerState
    frame: str | None
    step: str | None
    step_started: float | None
    job_started: float | None
    frames_done: int
    cpu_percent: float | None
    rss: int | None


@dataclass(frozen=True)
class QualityFinding(Wire):
    """One failed quality check of a frame: its flag (``'IM2:dead'``) and why, in words."""

    flag: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class FrameEntry(FrameFacts, Wire):
    """A finished frame, one per frame name (its latest outcome): ``result`` ok, warning,
    waiting (processed, delivery pending) or failed; ``timings`` seconds per step.

    What the frame is, its facts (:class:`dataman.core.facts.FrameFacts`, the fields it
    extends, flat on the wire): ``roi``, ``binning`` and (added within protocol 1, with
    defaults) ``imagetyp``, ``exptime`` (s), ``object_name``, and the ``ccd_temp`` and
    ``base_temp`` (degC) of its header; empty or None for a frame that failed before
    they were read. Its setup and exposure start are not sent (:attr:`not_sent`).

    The quality checks' verdict (added within protocol 1, so each has a default):
    ``qc_status`` OK, WARN or BAD (None: not checked, a failed frame or checks off),
    ``qc_flags`` as in the MERGED header's ``QCFLAGS``, ``qc_findings`` one
    per failed check, and each amplifier's overscan ``qc_bias``
    and ``qc_noise`` in DN and ``qc_saturated`` fraction, by amplifier name (IM1..IM4).
    """

    #: Facts the console does not show: off the wire, which stays as protocol 1 has it
    #: (a fact added to FrameFacts is sent, with its default for an older service).
    not_sent: ClassVar[frozenset[str]] = frozenset({"grating", "filter_name", "mask",
                                                    "date_obs"})

    name: str
    instrument: str
    timings: dict[str, float]
    latency: float | None
    processed: str | None
    delivered: str | None
    result: Result
    reason: str | None
    warnings: tuple[str, ...]
    finished_at: float
    qc_status: Status | None = None
    qc_flags: str = ""
    qc_findings: tuple[QualityFinding, ...] = ()
    qc_bias: dict[str, float] = field(default_factory=dict)
    qc_noise: dict[str, float] = field(default_factory=dict)
    qc_saturated: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Transfers(Wire):
    """Delivery to repoDir: reachable or why not, free space, the newest frame delivered
    per channel (``<CHAN>.new``), frames awaiting delivery and the next attempt."""

    repo_dir: str
    repo_reachable: bool
    repo_reason: str | None
    proc_free: int | None
    repo_free: int | None
    last: dict[str, str]
    awaiting_delivery: tuple[str, ...]
    next_retry_at: float | None


@dataclass(frozen=True)
class LogEntry(Wire):
    """One line of the service's log (INFO and above)."""

    time: float
    level: str
    message: str


@dataclass(frozen=True)
class LastDelivered(Wire):
    """The frame delivered last."""

    name: str
    latency: float | None
    delivered_at: float | None


@dataclass(frozen=True)
class HealthInfo(Wire):
    """The verdict of ``dataman health``: ``level`` 0 OK, 1 WARNING, 2 DOWN."""

    level: int
    verdict: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class QualityBand(Wire):
    """One instrument's configured band of the bias level and of the read noise (DN);
    a band is None while its check is switched off."""

    bias_min: float | None
    bias_max: float | None
    noise_min: float | None
    noise_max: float | None


@dataclass(frozen=True)
class SetupEntry(Wire):
    """A setup of tonight with OBJECT frames and its calibrations so far
    (:mod:`dataman.core.setups`): ``missing`` names those it has none of (biases,
    flats, arcs), ``line`` says it all in one line for an observer."""

    instrument: str
    grating: str
    filter: str
    mask: str
    binning: str
    roi: str
    objects: int
    biases: int
    flats: int
    comps: int
    missing: tuple[str, ...]
    line: str


@dataclass(frozen=True)
class Snapshot(Wire):
    """Everything the service shows: ``recent`` newest first (at most 100), ``log``
    oldest first (at most 200), ``last`` None before the first delivery.

    ``quality_bands`` (added within protocol 1): the configured bias and noise bands
    by instrument, for the console to draw beside each amplifier's trend; empty
    when the checks are off. They are read once at start, so no event changes them.
    ``setups`` (added within protocol 1): tonight's setup checklist.
    """

    service: ServiceInfo
    counts: Counts
    queue: tuple[QueueEntry, ...]
    workers: tuple[WorkerEntry, ...]
    recent: tuple[FrameEntry, ...]
    transfers: Transfers
    log: tuple[LogEntry, ...]
    last: LastDelivered | None
    health: HealthInfo
    quality_bands: dict[str, QualityBand] = field(default_factory=dict)
    setups: tuple[SetupEntry, ...] = ()
