"""From the PATHs of ``dataman process`` to the raw frames to process.

A PATH is a raw frame or a folder, walked (through its subfolders) for files
named as azcam names raw frames, ``<chan>.<YYYYMMDD>.<NNNN>.fits``; anything
else in a folder is passed over, so a night folder holding notes, flats or
dataMan's own outputs gives only its raw frames. What cannot be taken is said
precisely and the rest goes on: a file not named as a raw frame, a PATH that
does not exist, a folder with no raw frame or one that cannot be listed, a file
inside procDir or repoDir (an output, not a raw frame), two different files of
the same frame name.

Frames come out in exposure order (night, then sequence number), each once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dataman.batch.task import RAW_FORM, REFUSED_NAME
from dataman.core.names import RAW_NAME


@dataclass(frozen=True)
class Refusal:
    """A PATH (or a file found under one) that will not be processed, and why."""

    path: str
    reason: str


@dataclass
class Selection:
    frames: list[Path] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    #: Named on the command line, but of a night ``--night`` did not select.
    other_nights: list[Path] = field(default_factory=list)


def select_frames(paths: Iterable[Path], nights: Collection[str] = (),
                  outputs: Collection[Path] = ()) -> Selection:
    """The raw frames under ``paths``, of ``nights`` only when given, outside ``outputs``."""
    selection = Selection()
    found: dict[str, Path] = {}  # frame name -> the file taken for it
    output_dirs = [Path(folder).resolve() for folder in outputs]
    for path in paths:
        candidates = _candidates(Path(path), nights, output_dirs, selection)
        for frame in candidates:
            _take(frame, found, selection)
    selection.frames = sorted(found.values(), key=_exposure_key)
    return selection


def _candidates(path: Path, nights: Collection[str], output_dirs: list[Path],
                selection: Selection) -> list[Path]:
    """The frames one PATH stands for; refusals and other nights go to ``selection``."""
    inside = _inside(path, output_dirs)
    if inside is not None:
        selection.refusals.append(Refusal(
            str(path), f"is in {inside}, where dataMan writes its outputs (not raw frames)"))
        return []
    if path.is_dir():
        unreadable: list[OSError] = []
        frames = [frame for frame in _walk(path, output_dirs, unreadable.append)
                  if not nights or _night(frame) in nights]
        selection.refusals += [Refusal(str(error.filename), f"cannot be read: {error.strerror}")
                               for error in unreadable]
        if not frames and not unreadable:
            which = f"of night {', '.join(sorted(nights))} " if nights else ""
            selection.refusals.append(Refusal(
                str(path), f"no raw frames {which}in this folder (names like {RAW_FORM})"))
        return frames
    if not path.exists():
        selection.refusals.append(Refusal(str(path), "no such file or folder"))
        return []
    if not RAW_NAME.match(path.name):
        selection.refusals.append(Refusal(str(path), REFUSED_NAME))
        return []
    if nights and _night(path) not in nights:
        selection.other_nights.append(path)
        return []
    return [path]


def _walk(folder: Path, output_dirs: list[Path],
          unreadable: Callable[[OSError], None]) -> Iterator[Path]:
    """Raw frame names under ``folder``; hidden folders and dataMan's outputs are not entered,
    a folder that cannot be listed is passed to ``unreadable``."""
    for root, dirs, files in os.walk(folder, onerror=unreadable):
        here = Path(root)
        dirs[:] = sorted(name for name in dirs if not name.startswith(".")
                         and (here / name).resolve() not in output_dirs)
        for name in sorted(files):
            if RAW_NAME.match(name):
                yield here / name


def _take(frame: Path, found: dict[str, Path], selection: Selection) -> None:
    """Keep one file per frame name: the same file twice is one frame, two files are refused."""
    earlier = found.get(frame.name)
    if earlier is None:
        found[frame.name] = frame
    elif not _same_file(earlier, frame):
        selection.refusals.append(Refusal(
            str(frame), f"another file of this frame name is taken: {earlier}; "
                        "a frame is processed once"))


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.samefile(second)
    except OSError:
        return first.resolve() == second.resolve()


def _inside(path: Path, output_dirs: list[Path]) -> Path | None:
    resolved = path.resolve()
    return next((folder for folder in output_dirs if resolved.is_relative_to(folder)), None)


def _night(frame: Path) -> str:
    match = RAW_NAME.match(frame.name)
    return match.group(2) if match else ""


def _exposure_key(frame: Path) -> tuple[str, int, str]:
    match = RAW_NAME.match(frame.name)
    assert match is not None  # only raw names are taken
    return match.group(2), int(match.group(3)), frame.name
