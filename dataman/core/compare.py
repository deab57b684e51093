"""Two data managers' outputs of the same frames, compared frame by frame (``dataman compare``).

After a shadow night the processed files of the data manager in service and of
this one lie in two folders under the same raw names. Each pair is compared
extension by extension (matched by EXTNAME, not by position) with astropy's
``HDUDiff``, which does the FITS work: keyword values, keywords present on one
side only, and data. Comments are ignored: the two programs word them
differently on purpose.

A keyword difference is *expected* when this dataMan changes that keyword by
design (:data:`EXPECTED_KEYWORDS`): the recomputed detector sections
(``detsec.KEYWORDS``), the dates it writes (``dates.COMMENTS``: DATE-OBS,
MJD-OBS, HJD-OBS, BJD-OBS), the quality keywords it adds (``quality.report.KEYWORDS``),
the frame's own UNIQNAME (each program gives its own), ``NEXTEND`` (which
``fixMisc`` removes) and the checksums (which change whenever anything does).
Every other difference is unexpected, and so is every pixel that differs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.io.fits.diff import HDUDiff

from dataman.core import dates, detsec
from dataman.core.names import RAW_NAME, night_of
from dataman.core.quality import report

EXPECTED_KEYWORDS = frozenset({*detsec.KEYWORDS, *dates.COMMENTS, *report.KEYWORDS,
                               "UNIQNAME", "NEXTEND", "CHECKSUM", "DATASUM"})
#: Stands for a keyword or an extension that one side lacks.
ABSENT = "(absent)"
#: Rows of an image read at a time for its largest difference (bounds the memory used).
ROW_BLOCK = 512


@dataclass(frozen=True)
class KeywordDifference:
    """One keyword of one extension whose value differs, or that one side lacks."""

    extension: str
    keyword: str
    old: object
    new: object

    @property
    def expected(self) -> bool:
        return self.keyword in EXPECTED_KEYWORDS


@dataclass(frozen=True)
class DataDifference:
    """An extension whose data differ: how many values, and by how much at most
    (None when not numbers of the same shape: a table, or different dimensions)."""

    extension: str
    count: int
    max_abs: float | None
    note: str = ""


@dataclass(frozen=True)
class FrameComparison:
    name: str
    keywords: tuple[KeywordDifference, ...] = ()
    data: tuple[DataDifference, ...] = ()
    #: A file that could not be read: the reason (the frame then counts as unexpected).
    problem: str | None = None

    @property
    def unexpected(self) -> bool:
        return bool(self.problem or self.data
                    or any(not item.expected for item in self.keywords))


@dataclass(frozen=True)
class Comparison:
    """Two output folders: which frames each has alone, and each common frame's differences."""

    old: Path
    new: Path
    only_old: tuple[str, ...]
    only_new: tuple[str, ...]
    frames: tuple[FrameComparison, ...]

    @property
    def unexpected(self) -> bool:
        return bool(self.only_old or self.only_new
                    or any(frame.unexpected for frame in self.frames))


def output_folder(folder: Path, night: str | None) -> Path:
    """Where a night's files are: ``folder/<night>`` (a procDir) if it exists, else
    ``folder`` itself (a flat folder such as /newdata)."""
    if night and (folder / night).is_dir():
        return folder / night
    return folder


def frame_names(folder: Path, night: str | None = None) -> set[str]:
    """The files in ``folder`` named as raw frames (of ``night`` only, when given)."""
    return {name for name in os.listdir(folder)
            if RAW_NAME.match(name) and (night is None or night_of(name) == night)}


def compare_folders(old: Path, new: Path, night: str | None = None, *,
                    rtol: float = 0.0, atol: float = 0.0) -> Comparison:
    """Compare every frame the two folders share; list those only one of them has."""
    old, new = output_folder(old, night), output_folder(new, night)
    old_names, new_names = frame_names(old, night), frame_names(new, night)
    frames = tuple(compare_files(old / name, new / name, rtol=rtol, atol=atol)
                   for name in sorted(old_names & new_names))
    return Comparison(old, new, tuple(sorted(old_names - new_names)),
                      tuple(sorted(new_names - old_names)), frames)


def compare_files(old: Path, new: Path, *, rtol: float = 0.0,
                  atol: float = 0.0) -> FrameComparison:
    """One frame's two files, extension by extension."""
    try:
        with fits.open(old) as old_hdus, fits.open(new) as new_hdus:
            keywords: list[KeywordDifference] = []
            data: list[DataDifference] = []
            for extension, a, b in _paired(old_hdus, new_hdus):
                if a is None or b is None:
                    keywords.append(KeywordDifference(extension, "(extension)",
                                                      "present" if a else ABSENT,
                                                      "present" if b else ABSENT))
                    continue
                diff = HDUDiff(a, b, ignore_comments=["*"], numdiffs=0, rtol=rtol, atol=atol)
                keywords += _keyword_differences(extension, diff)
                found = _data_difference(extension, a, b, diff)
                if found is not None:
                    data.append(found)
    except (OSError, ValueError, TypeError) as error:
        return FrameComparison(old.name, problem=f"cannot read: {error}")
    return FrameComparison(old.name, tuple(keywords), tuple(data))


def _paired(old: fits.HDUList, new: fits.HDUList) -> Iterator[tuple[str, object, object]]:
    """(name, old HDU or None, new HDU or None) in the old file's order, then the new's."""
    def named(hdus: fits.HDUList) -> dict[str, object]:
        found: dict[str, object] = {}
        for index, hdu in enumerate(hdus):
            name = "PRIMARY" if index == 0 else (hdu.name or f"HDU{index}")
            found[name if hdu.ver <= 1 else f"{name},{hdu.ver}"] = hdu
        return found
    a, b = named(old), named(new)
    for name in [*a, *(name for name in b if name not in a)]:
        yield name, a.get(name), b.get(name)


def _keyword_differences(extension: str, diff: HDUDiff) -> list[KeywordDifference]:
    headers = diff.diff_headers
    found = [KeywordDifference(extension, keyword, old, new)
             for keyword, pairs in sorted(headers.diff_keyword_values.items())
             for old, new in (pair for pair in pairs if pair is not None)]  # None: same
    if headers.diff_keywords:
        only_old, only_new = headers.diff_keywords
        found += [KeywordDifference(extension, keyword, _value(diff.a.header, keyword), ABSENT)
                  for keyword in only_old]
        found += [KeywordDifference(extension, keyword, ABSENT, _value(diff.b.header, keyword))
                  for keyword in only_new]
    return found


def _value(header: fits.Header, keyword: str) -> object:
    return header.get(keyword, "")


def _data_difference(extension: str, a, b, diff: HDUDiff) -> DataDifference | None:
    found = diff.diff_data
    if found is None:  # an extension without data on either side, or of another kind
        if diff.diff_extension_types:
            return DataDifference(extension, 1, None, "different kinds of extension")
        return None
    dimensions = getattr(found, "diff_dimensions", ())
    if dimensions:
        return DataDifference(extension, 1, None, f"shape {dimensions[0]} against "
                                                  f"{dimensions[1]}")
    if not found.diff_total:
        return None
    if isinstance(a, fits.ImageHDU | fits.PrimaryHDU):
        return DataDifference(extension, int(found.diff_total), largest_difference(a.data,
                                                                                   b.data))
    return DataDifference(extension, int(found.diff_total), None, "table values")


def largest_difference(a: np.ndarray, b: np.ndarray) -> float:
    """The largest ``|a - b|`` of two images of one shape, in float64, a block of rows at a
    time; NaN where exactly one side is NaN counts as infinitely far.

    >>> largest_difference(np.array([[1, 2], [3, 4]]), np.array([[1, 2], [3, 1.5]]))
    2.5
    """
    largest = 0.0
    for start in range(0, a.shape[0], ROW_BLOCK) if a.ndim else [0]:
        rows = slice(start, start + ROW_BLOCK)
        old = np.asarray(a[rows] if a.ndim else a, dtype=np.float64)
        new = np.asarray(b[rows] if b.ndim else b, dtype=np.float64)
        gap = np.abs(old - new)
        gap[np.isnan(old) != np.isnan(new)] = np.inf
        gap[np.isnan(old) & np.isnan(new)] = 0.0
        if gap.size:
            largest = max(largest, float(gap.max()))
    return largest
