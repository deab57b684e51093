"""After a power cut: outputs the journal calls written, checked before new work.

The journal is synced at every change (``synchronous=FULL``); the processed and
delivered files are not, unless ``[processing] fsync = True``. So a power cut
can leave them empty or short while the journal says ``delivered`` (new files
on ext4 after a crash). The service records a clean stop
(``<stateDir>/clean-stop``, synced); a start that finds none follows an
unclean one (a power cut, a kill, a kernel panic) and, before it takes any
work, checks the outputs of every frame processed in the last
``VERIFY_WINDOW`` before the journal's last change (far longer than the
kernel keeps written data in memory, 30 s by default): the size the journal
recorded and the FITS structure (:mod:`dataman.core.fitscheck`). Files that are
not whole are removed (the journal names them: they are ours) and their frames
redone with ``dataman process --force``, which writes them again under the
same names and the same UNIQNAMEs (kept by the registry).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from dataman.core.config import Config
from dataman.core.fitscheck import fits_problem
from dataman.service.journal import FrameRecord, Journal

log = logging.getLogger("dataman")
CLEAN_STOP = "clean-stop"
#: Seconds of processing before the last journal change whose outputs are checked.
VERIFY_WINDOW = 600.0
#: Longest time the redo of damaged frames may take, seconds.
REDO_TIMEOUT = 600.0


def record_clean_stop(state_dir: Path, now: float) -> None:
    """Say, durably, that the service stopped cleanly (its last act)."""
    path = Path(state_dir) / CLEAN_STOP
    with open(path, "w", encoding="ascii") as stream:
        stream.write(f"{now:.3f}\n")
        stream.flush()
        os.fsync(stream.fileno())
    folder = os.open(state_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def stopped_cleanly(state_dir: Path) -> bool:
    """Whether the last run recorded a clean stop; the record is used up (removed)."""
    path = Path(state_dir) / CLEAN_STOP
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


@dataclass
class Damage:
    """A frame's outputs that are not whole, and why."""

    paths: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Verification:
    """What the check after an unclean stop found and did."""

    checked: int = 0
    damaged: dict[str, Damage] = field(default_factory=dict)  # by raw name
    seconds: float = 0.0
    redone: bool = True


def damage_of(record: FrameRecord) -> Damage:
    """What is wrong with a frame's outputs: the damaged files, one phrase each."""
    damage = Damage()
    files = [record.processed_path]
    if record.delivered_path is not None:
        files.append(record.delivered_path)
    for path in files:
        if path is None:
            continue
        try:
            problem = fits_problem(path, record.output_size)
        except OSError as error:
            problem = error.strerror or str(error)
        if problem:
            damage.paths.append(path)
            damage.problems.append(f"{path}: {problem}")
    return damage


def check_outputs(records: list[FrameRecord]) -> Verification:
    """The check itself (in a thread: it reads files)."""
    begun = time.perf_counter()
    result = Verification(checked=len(records))
    for record in records:
        damage = damage_of(record)
        if damage.paths:
            result.damaged[record.name] = damage
    result.seconds = time.perf_counter() - begun
    return result


def redo(config: Config, raws: list[Path]) -> bool:
    """Process ``raws`` again, replacing their outputs under the same names; True if all
    succeeded (``dataman process --force``, one process: the service is not serving yet)."""
    command = [sys.executable, "-m", "dataman.cli", "process", "--force", "-j", "1",
               "-c", str(config.source), *map(str, raws)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False,
                              timeout=REDO_TIMEOUT)
    except subprocess.TimeoutExpired:
        log.critical("redoing damaged outputs took over %.0f s; stopped", REDO_TIMEOUT)
        return False
    if done.returncode:
        log.critical("redoing damaged outputs failed (exit %d): %s", done.returncode,
                     (done.stdout + done.stderr).strip()[-400:])
    return done.returncode == 0


def verify_after_unclean_stop(config: Config, journal: Journal) -> Verification:
    """Check the recent outputs and redo the damaged ones; logs what it found.

    Called at start, before any work is taken, when :func:`stopped_cleanly` said no.
    The journal is read here (the caller's thread); files are read and frames redone
    in whatever thread calls it.
    """
    records = journal.written_lately(VERIFY_WINDOW)
    result = check_outputs(records)
    log.log(logging.WARNING if result.checked else logging.INFO,
            "no clean stop recorded (power cut, kill or crash): checked the outputs of %d "
            "frames of the last %.0f min in %.2f s, %d damaged", result.checked,
            VERIFY_WINDOW / 60, result.seconds, len(result.damaged))
    if not result.damaged:
        return result
    by_name = {record.name: record for record in records}
    for name, damage in result.damaged.items():
        log.error("%s: output damaged by the unclean stop: %s; redoing it", name,
                  "; ".join(damage.problems))
        for path in damage.paths:  # ours (the journal names them), and not whole
            path.unlink(missing_ok=True)
    result.redone = redo(config, [by_name[name].path for name in result.damaged])
    for name in result.damaged:
        left = damage_of(replace(by_name[name], output_size=None))  # its new size may differ
        if left.paths:
            log.critical("%s: still damaged after the redo: %s", name,
                         "; ".join(left.problems))
        else:
            log.info("%s: redone under the same names (%s)", name, by_name[name].uniqname)
    return result
