"""Output trees for ``dataman compare``: a copy of a processed night with differences put in."""

from __future__ import annotations

import shutil
from pathlib import Path

from astropy.io import fits

#: What ``inject_differences`` does to a file: OBJECT in the primary header, one IM2 pixel.
NEW_OBJECT = "not the same target"
PIXEL = (10, 20)
STEP = 100


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def inject_differences(path: Path) -> tuple[str, int]:
    """Change OBJECT and raise one IM2 pixel by STEP; returns OBJECT's and the pixel's
    values before (read back from the file, not assumed)."""
    with fits.open(path, mode="update") as hdus:
        before = str(hdus[0].header["OBJECT"])
        hdus[0].header["OBJECT"] = NEW_OBJECT
        value = int(hdus["IM2"].data[PIXEL])
        assert value + STEP <= 65535
        hdus["IM2"].data[PIXEL] = value + STEP
    with fits.open(path) as hdus:
        assert int(hdus["IM2"].data[PIXEL]) == value + STEP
    return before, value


def change_by_design(path: Path) -> None:
    """Differences dataMan makes on purpose, as the data manager in service would show them:
    another DETSEC in IM1, another HJD-OBS, no QCFLAGS and another QCSTATUS in MERGED."""
    with fits.open(path, mode="update") as hdus:
        hdus["IM1"].header["DETSEC"] = "[1:2048,1:1544]"
        hdus[0].header["HJD-OBS"] = float(hdus[0].header["HJD-OBS"]) + 1e-6
        del hdus["MERGED"].header["QCFLAGS"]
        hdus["MERGED"].header["QCSTATUS"] = "UNKNOWN"


def section(stdout: str, title: str) -> list[str]:
    """The lines of one table of ``dataman compare``'s report, its column header included,
    each line's runs of spaces made one."""
    lines = stdout.splitlines()
    start = lines.index(title) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return [" ".join(line.split()) for line in lines[start:end]]
