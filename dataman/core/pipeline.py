"""One frame, end to end: read, fix headers, OTM, write, deliver, last-data file.

The steps are separate functions so the service can retry delivery alone when
the staging disk is down; ``process_frame`` runs them all and times each one.
Warnings go to the ``dataman`` logger, file name first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path

import numpy as np
from astropy.io import fits

from dataman.core.buffers import Buffers
from dataman.core.config import Config
from dataman.core.dates import fix_date_time
from dataman.core.detsec import fix_detsec
from dataman.core.earlier import uniqname_in
from dataman.core.errors import DeliveryFailed, FrameTooLarge
from dataman.core.facts import FrameFacts
from dataman.core.frame import RawFrame, read_frame
from dataman.core.geometry import roi_mode_of
from dataman.core.holds import hold_point
from dataman.core.identity import UniqnameRegistry
from dataman.core.keywords import parse_float, text_value
from dataman.core.lastdata import record_newest
from dataman.core.misc import fix_misc
from dataman.core.names import night_of
from dataman.core.naming import instrument_of
from dataman.core.nightlog import observing_date
from dataman.core.otm import QuadrantStats, make_otm, merged_shape
from dataman.core.output import merged_header, output_pieces, size_of
from dataman.core.publish import copy_of, publish, write_pieces
from dataman.core.quality import BiasTrend, QualityReport
from dataman.core.quality.assess import assess
from dataman.core.quality.thumbnail import keep_thumbnail
from dataman.core.readout import Readout, readout_of
from dataman.core.temps import fix_temps
from dataman.core.timings import STEPS as STEPS  # re-exported: the step names
from dataman.core.timings import format_step_timings

log = logging.getLogger("dataman")


@dataclass
class FrameResult:
    """What happened to one frame; timings in seconds per step of ``core.timings.STEPS``."""

    name: str
    instrument: str | None = None
    uniqname: str | None = None
    processed: Path | None = None
    delivered: Path | None = None
    #: Bytes of the processed file (and of its copy): what a check after a power cut expects.
    size: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: What the frame is (its readout, type, setup, exposure start, temperatures), for the
    #: console, the journal and the night report.
    facts: FrameFacts = field(default_factory=FrameFacts)
    #: The quality checks' findings; None when ``[quality] checks`` is off.
    quality: QualityReport | None = None
    #: The night's bias trend after this frame: pass it to the next frame's ``prepare``.
    trend: BiasTrend | None = field(default=None, repr=False, compare=False)
    #: Told ("step", name) as each step starts and ("uniqname", name) once reserved,
    #: before anything is written: the service shows progress and journals the name.
    observer: Callable[[str, str], None] | None = field(default=None, repr=False,
                                                         compare=False)

    def notify(self, event: str, value: str) -> None:
        if self.observer is not None:
            self.observer(event, value)
        if event == "step":
            hold_point(self.name, value)  # only where a test asked for it (core/holds.py)

    @property
    def total(self) -> float:
        return sum(self.timings.values())


@dataclass
class PreparedFrame:
    frame: RawFrame
    readout: Readout
    instrument: str | None
    merged: np.ndarray | None = None
    stats: list[QuadrantStats] = field(default_factory=list)
    quality: QualityReport | None = None


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="deliver")


@contextmanager
def timed(result: FrameResult, step: str):
    result.notify("step", step)
    start = time.perf_counter()
    try:
        yield
    finally:
        result.timings[step] = result.timings.get(step, 0.0) + time.perf_counter() - start


def fix_headers(frame: RawFrame, config: Config) -> tuple[Readout, str | None, list[str]]:
    """Run the enabled header fixes (docs/processing.md); returns geometry, instrument, warnings."""
    options, warnings = config.processing, list[str]()
    readout = readout_of(frame, warnings)
    instrument = instrument_of(frame.primary, frame.name)
    if options.fix_detsec:
        warnings += fix_detsec(frame, readout)
    if options.fix_date_time:
        warnings += fix_date_time(frame.primary, config.site)
    if options.fix_temps:
        warnings += fix_temps(frame, instrument, config.temperatures)
    if options.fix_misc:
        warnings += fix_misc(frame.primary, readout)
    return readout, instrument, warnings


def merged_buffer(buffers: Buffers | None, readout: Readout) -> np.ndarray | None:
    if buffers is None:
        return None
    shape = merged_shape(readout)
    count = shape[0] * shape[1]
    if len(buffers.merged) < 4 * count:
        raise FrameTooLarge(f"merged image {shape} does not fit the {len(buffers.merged)}-byte"
                            " buffer")
    return np.frombuffer(buffers.merged, dtype=">f4", count=count).reshape(shape)


def prepare(path: Path, config: Config, result: FrameResult,
            buffers: Buffers | None = None, trend: BiasTrend | None = None) -> PreparedFrame:
    """Read, fix, merge and check; nothing is written yet.

    ``trend`` is the night's bias trend so far (the previous frame's
    ``result.trend``); the one with this frame added is left in ``result.trend``.
    """
    try:
        with timed(result, "read"):
            frame = read_frame(path, buffers.raw if buffers else None)
        return _prepare(frame, config, result, buffers, trend)
    except FrameTooLarge as error:  # only a service whose slots were made small
        # The same exception, reworded: a new one would keep this one's traceback, and
        # with it views of the slot, alive as its context (ipc/mappings.py clears one).
        error.args = (f"{error}: the frame is larger than [workers] slotSize = "
                      f"{config.workers.slot_size} allows",)
        raise


def _prepare(frame: RawFrame, config: Config, result: FrameResult, buffers: Buffers | None,
             trend: BiasTrend | None) -> PreparedFrame:
    with timed(result, "fixes"):
        readout, instrument, warnings = fix_headers(frame, config)
    result.warnings += warnings
    result.instrument = instrument
    result.facts = FrameFacts(
        roi=roi_mode_of(2 * readout.width, 2 * readout.height) or str(readout.window),
        binning=f"{readout.xbin}x{readout.ybin}")
    prepared = PreparedFrame(frame, readout, instrument)
    if config.processing.make_otm:
        with timed(result, "otm"):
            prepared.merged, prepared.stats = make_otm(
                frame, readout, col_skip=config.processing.bias_col_skip,
                row_skip=config.processing.bias_row_skip,
                out=merged_buffer(buffers, readout))
    result.facts = describe(frame.primary, result.facts)
    if config.quality.checks:
        with timed(result, "checks"):
            prepared.quality, result.trend = assess(
                frame.primary, frame.amps, readout.columns, prepared.stats,
                instrument=instrument, binning=result.facts.binning,
                night=night_of(frame.name) or "",
                settings=config.quality, trend=trend)
        result.quality = prepared.quality
    return prepared


def describe(primary: fits.Header, readout: FrameFacts) -> FrameFacts:
    """What the frame is, for the console, the journal and the night report; ``readout``
    has its readout window and binning, known before."""
    return replace(
        readout,
        imagetyp=(text_value(primary, "IMAGETYP") or "").upper(),
        exptime=parse_float(primary.get("EXPTIME")),
        object_name=text_value(primary, "OBJECT") or "",
        grating=text_value(primary, "GRATNAME") or "",
        filter_name=text_value(primary, "FILTNAME") or "",
        mask=text_value(primary, "MASKNAME") or "",
        date_obs=exposure_start(primary),
        ccd_temp=temperature(primary, "CCDTEMP"),
        base_temp=temperature(primary, "BASETEMP"))


def exposure_start(primary: fits.Header) -> str:
    """When the shutter opened, ISO UTC: DATE-OBS, with UTC-OBS when DATE-OBS is a bare
    date (as MODS writes it); '' when the header has no DATE-OBS.

    >>> exposure_start(fits.Header({"DATE-OBS": "2025-12-31", "UTC-OBS": "03:12:40.512"}))
    '2025-12-31T03:12:40.512'
    """
    date = (text_value(primary, "DATE-OBS") or "").strip()
    time_of_day = (text_value(primary, "UTC-OBS") or "").strip()
    if date and "T" not in date and time_of_day:
        return f"{date}T{time_of_day}"
    return date


def temperature(primary: fits.Header, key: str) -> float | None:
    """A temperature keyword in degC; None when missing or the controller's -999.9
    placeholder (no sensor reading)."""
    value = parse_float(primary.get(key))
    return None if value is None or value <= -999 else value


def assign_uniqname(prepared: PreparedFrame, config: Config, result: FrameResult,
                    now: datetime) -> Path:
    """Give the frame its UNIQNAME, the same on every attempt; returns the night folder.

    A file that carries a UNIQNAME keeps it; otherwise the installation's
    registry gives the name this frame got before (a retry, a restart, a
    reprocessing) or claims a new one, unique across every night and process.
    """
    frame = prepared.frame
    night = night_of(frame.name) or observing_date(now, config.site.utc_offset)
    night_dir = config.paths.proc_dir / night
    night_dir.mkdir(parents=True, exist_ok=True)
    registry = UniqnameRegistry(config.paths.state_dir)
    carried = frame.primary.get("UNIQNAME")
    if isinstance(carried, str) and carried.strip():
        uniqname = registry.bind(frame.name, carried.strip())
    else:
        uniqname = registry.assign(frame.name, prepared.instrument or "mods", now,
                                   taken=_file_exists(night_dir, config.paths.repo_dir))
    frame.primary["UNIQNAME"] = (uniqname, "Unique file name at the LBT Archive")
    result.uniqname = uniqname
    result.notify("uniqname", uniqname)
    return night_dir


def _file_exists(*folders: Path) -> Callable[[str], bool]:
    """Whether a file of that name is already in one of ``folders`` (written before
    the registry existed, or by something else): its name is not given again.

    A folder that cannot be looked into now (a stale NFS handle, an I/O error on
    repoDir) counts as not having it: publication itself never replaces a file
    that is not this frame's, and the delivery waits for the folder to come back.
    """
    def there(path: Path) -> bool:
        try:
            return path.exists()
        except OSError:
            return False

    def taken(name: str) -> bool:
        return any(there(folder / name) for folder in folders)
    return taken


def same_uniqname(uniqname: str) -> Callable[[Path], bool]:
    """Whether a file on disk is an output with this UNIQNAME (an earlier attempt's)."""
    def is_ours(path: Path) -> bool:
        return bool(uniqname) and uniqname_in(path) == uniqname
    return is_ours


def file_pieces(prepared: PreparedFrame) -> list[bytes | memoryview]:
    """The processed file as buffers in order (headers must be final)."""
    header = None
    if prepared.merged is not None:
        header = merged_header(prepared.frame.primary, prepared.merged.shape, prepared.stats,
                               prepared.quality)
    return output_pieces(prepared.frame, prepared.merged, header)


def write_and_deliver(prepared: PreparedFrame, config: Config, result: FrameResult,
                      now: datetime, *, deliver: bool = True, retry: bool = False) -> None:
    """Write ``procDir/<night>/`` and ``repoDir`` at once from memory, then ``<CHAN>.new``.

    Both copies come from the same buffers in two threads (the kernel copies
    in parallel on two cores), instead of reading the processed file back.
    A failed delivery raises ``DeliveryFailed`` after the processed file is
    safe, so the frame can be delivered later with ``deliver``. With
    ``deliver=False`` only procDir is written and ``result.delivered`` stays
    None (the service keeps deliveries in order while older frames wait). An
    earlier output of this frame (same UNIQNAME) is replaced, never doubled;
    a ``retry`` first removes what an abandoned attempt left.
    """
    frame, start = prepared.frame, time.perf_counter()
    night_dir = assign_uniqname(prepared, config, result, now)
    pieces = file_pieces(prepared)
    names, size = [frame.name, result.uniqname or frame.name], size_of(pieces)
    result.size = size
    write = partial(publish, names=names, produce=write_pieces(pieces),
                    fsync=config.processing.fsync, expected_size=size,
                    ours=same_uniqname(result.uniqname or ""), take_over=retry)
    if not deliver:
        with timed(result, "write"):
            result.processed = write(night_dir)
        _note_rename(result, night_dir, frame.name, result.processed)
        _thumbnail(prepared, config, result, night_dir.name)
        return
    result.notify("step", "write")  # both copies at once: timed by hand below
    processed = threading.Event()
    delivery = _pool().submit(write, config.paths.repo_dir,
                              before_link=_after(processed, result))
    try:
        result.processed = write(night_dir)
        _note_rename(result, night_dir, frame.name, result.processed)
    finally:
        processed.set()
        written = time.perf_counter()
        result.timings["write"] = written - start
        delivery.exception()  # always wait: never leave a write running
        result.timings["deliver"] = time.perf_counter() - written
    try:
        delivered = delivery.result()  # reached only when the processed file is written
        with timed(result, "deliver"):
            result.delivered = _record_delivery(delivered, frame.name, result.instrument,
                                                config, result)
    finally:
        # After <CHAN>.new, which is what observers wait for; delivered or not, the
        # frame is processed, so the night report gets its picture either way.
        _thumbnail(prepared, config, result, night_dir.name)


def _thumbnail(prepared: PreparedFrame, config: Config, result: FrameResult, night: str) -> None:
    """Keep a small picture of the MERGED image for the night report; never fails the frame."""
    if prepared.merged is None or not config.quality.thumbnails:
        return
    with timed(result, "thumbnail"):
        problem = keep_thumbnail(prepared.merged, config.paths.state_dir, night,
                                 prepared.frame.name)
    if problem:
        result.warnings.append(problem)


def _after(processed: threading.Event, result: FrameResult) -> Callable[[], None]:
    """The delivered copy gets its name only after the processed one: a frame whose
    processed file cannot be written fails whole, with no copy left in repoDir."""
    def wait_for_processed() -> None:
        processed.wait()
        if result.processed is None:
            raise DeliveryFailed("not delivered: the processed file could not be written")
    return wait_for_processed


def _note_rename(result: FrameResult, folder: Path, wanted: str, got: Path) -> None:
    if got.name != wanted:
        result.warnings.append(f"{folder / wanted} exists; written as {got.name}")


def _record_delivery(path: Path, raw_name: str, instrument: str | None, config: Config,
                     result: FrameResult) -> Path:
    if path.name != raw_name:
        result.warnings.append(f"{config.paths.repo_dir / raw_name} exists; "
                               f"delivered as {path.name}")
    if instrument:
        record_newest(config.paths.repo_dir, config.paths.state_dir, instrument, raw_name,
                      path.name)
    return path


def deliver(processed: Path, raw_name: str, uniqname: str, instrument: str | None,
            config: Config, result: FrameResult) -> Path:
    """Deliver an already processed file later (staging disk was down): copy, then record."""
    path = publish(config.paths.repo_dir, [raw_name, uniqname], copy_of(processed),
                   fsync=config.processing.fsync, expected_size=processed.stat().st_size,
                   ours=same_uniqname(uniqname), take_over=True)
    return _record_delivery(path, raw_name, instrument, config, result)


def process_frame(path: str | Path, config: Config, *, buffers: Buffers | None = None,
                  now: Callable[[], datetime] = lambda: datetime.now(UTC),
                  redo: bool = False, deliver: bool = True,
                  trend: BiasTrend | None = None) -> FrameResult:
    """Process one raw frame completely; raises a named ``DataManError`` on failure.

    ``redo`` says the frame was processed before: what an abandoned attempt
    left is cleared first (its earlier outputs are replaced in any case).
    ``deliver=False`` writes procDir only (``dataman process --no-deliver``).
    ``trend`` is the night's bias trend from the frame before (``result.trend``).
    """
    path = Path(path)
    result = FrameResult(path.name)
    log.info("%s: processing", path.name)
    try:
        write_and_deliver(prepare(path, config, result, buffers, trend), config, result, now(),
                          deliver=deliver, retry=redo)
    finally:
        for warning in result.warnings:
            log.warning("%s: %s", path.name, warning)
    log_quality(result)
    if deliver:
        log.info("%s: delivered %s (%s)", path.name, result.delivered, format_timings(result))
    else:
        log.info("%s: written %s, not delivered (%s)", path.name, result.processed,
                 format_timings(result))
    return result


def log_quality(result: FrameResult) -> None:
    """The night log's line for a flagged frame, file name first."""
    if result.quality is not None and result.quality.findings:
        log.warning("%s: quality %s", result.name, result.quality.summary())


def format_timings(result: FrameResult) -> str:
    return format_step_timings(result.timings, total=True)
