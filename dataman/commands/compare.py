"""``dataman compare``: the morning after a shadow night, two output folders side by side.

The comparison itself is :mod:`dataman.core.compare` (astropy's ``HDUDiff``
per extension); this module reads the arguments, prints the tables and turns
the result into the exit status: 0 when the only differences are the ones this
dataMan makes by design, 1 when there is anything else, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from dataman.commands.arguments import night
from dataman.core.compare import ABSENT, Comparison, compare_folders, frame_names

#: Longest keyword value shown in a table cell.
VALUE_WIDTH = 30


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare two data managers' outputs frame by frame (shadow night)",
        description="Compare the processed files in OLD_DIR (the data manager in service) "
                    "with those of the same names in NEW_DIR (a shadow dataMan), frame by "
                    "frame and extension by extension: frames only in one folder, header "
                    "keywords that differ (the ones dataMan changes by design listed apart), "
                    "and differing pixels per extension. A folder holding a <night> "
                    "subfolder (a procDir) is read there. Exit status 0: only expected "
                    "differences; 1: unexpected ones; 2: bad arguments.")
    parser.add_argument("old", type=Path, metavar="OLD_DIR",
                        help="the reference outputs (its procDir, or /newdata)")
    parser.add_argument("new", type=Path, metavar="NEW_DIR", help="this dataMan's procDir")
    parser.add_argument("--night", type=night, default=None, metavar="YYYYMMDD",
                        help="only this observing night's frames (and its subfolder)")
    parser.add_argument("--rtol", type=float, default=0.0,
                        help="relative tolerance for numbers, keywords and pixels (default 0)")
    parser.add_argument("--atol", type=float, default=0.0,
                        help="absolute tolerance for numbers, keywords and pixels (default 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for role, folder in (("OLD_DIR", args.old), ("NEW_DIR", args.new)):
        problem = _folder_problem(folder)
        if problem:
            print(f"dataman compare: {role} {folder}: {problem}", file=sys.stderr)
            return 2
    result = compare_folders(args.old, args.new, args.night, rtol=args.rtol, atol=args.atol)
    print("\n".join(render(result, args.night)))
    return 1 if result.unexpected else 0


def _folder_problem(folder: Path) -> str | None:
    if not folder.exists():
        return "no such folder"
    if not folder.is_dir():
        return "not a folder"
    try:
        frame_names(folder)
    except OSError as error:
        return f"cannot list it: {error.strerror or error}"
    return None


def render(result: Comparison, night: str | None = None) -> list[str]:
    """The report: the folders, then one table per kind of difference, then the verdict."""
    common = len(result.frames)
    lines = [f"old: {result.old} ({common + len(result.only_old)} frames)",
             f"new: {result.new} ({common + len(result.only_new)} frames)"]
    only = [("only in old", name) for name in result.only_old] + \
           [("only in new", name) for name in result.only_new]
    lines += _section("Frames only in one folder", ("", "frame"), only)
    keywords = [item for frame in result.frames for item in frame.keywords]
    lines += _section("Expected header differences (dataMan changes these by design)",
                      ("keyword", "extensions", "frames"), _expected_rows(result))
    lines += _section("Unexpected header differences",
                      ("frame", "extension", "keyword", "old", "new"),
                      [(frame.name, item.extension, item.keyword, _shown(item.old),
                        _shown(item.new))
                       for frame in result.frames for item in frame.keywords
                       if not item.expected]
                      + [(frame.name, "", "(file)", frame.problem, "")
                         for frame in result.frames if frame.problem])
    lines += _section("Pixel differences", ("frame", "extension", "pixels", "max |diff|"),
                      [(frame.name, item.extension, f"{item.count:,}",
                        f"{item.max_abs:.6g}" if item.max_abs is not None else item.note)
                       for frame in result.frames for item in frame.data])
    expected = sum(item.expected for item in keywords)
    unexpected = len(keywords) - expected + sum(bool(f.problem) for f in result.frames)
    pixels = sum(len(frame.data) for frame in result.frames)
    what = f"night {night}: " if night else ""
    lines += ["", f"{what}{common} frames compared, {len(result.only_old)} only in old, "
                  f"{len(result.only_new)} only in new; {expected} expected header "
                  f"differences; {unexpected} unexpected header differences, {pixels} "
                  f"extensions with different pixels: "
                  + ("UNEXPECTED DIFFERENCES" if result.unexpected else "only expected")]
    return lines


def _expected_rows(result: Comparison) -> list[tuple[str, ...]]:
    """One row per expected keyword: in which extensions, in how many frames."""
    extensions: dict[str, set[str]] = defaultdict(set)
    frames: dict[str, set[str]] = defaultdict(set)
    for frame in result.frames:
        for item in frame.keywords:
            if item.expected:
                extensions[item.keyword].add(item.extension)
                frames[item.keyword].add(frame.name)
    return [(keyword, " ".join(sorted(extensions[keyword])), str(len(frames[keyword])))
            for keyword in sorted(extensions)]


def _section(title: str, header: tuple[str, ...],
             rows: Sequence[tuple[object, ...]]) -> list[str]:
    lines = ["", title]
    if not rows:
        return [*lines, "  (none)"]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        lines.append("  " + "  ".join(str(cell).ljust(width)
                                      for cell, width in zip(row, widths, strict=True)).rstrip())
    return lines


def _shown(value: object) -> str:
    """A keyword's value in a cell: strings quoted (so a trailing space shows), cut short."""
    text = repr(value) if isinstance(value, str) and value != ABSENT else str(value)
    text = " ".join(text.split())
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 3] + "..."

