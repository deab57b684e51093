"""What the ``dataman process`` tests share: twelve small frames made once, and helpers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from astropy.io import fits

from dataman.core.config import load_config
from tests.conftest import make_frame, write_config

NIGHT = "20251230"
NAMES = [f"mods1b.{NIGHT}.{number:04d}.fits" for number in range(1, 13)]


def run_dataman(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "dataman", *map(str, args)],
                          capture_output=True, text=True, check=False, timeout=timeout)


@pytest.fixture(scope="session")
def twelve(tmp_path_factory) -> Path:
    """Twelve raw frames of one night, made once: ``<dataDir>/mods1b/mods1b.20251230.00NN.fits``."""
    template = load_config(write_config(tmp_path_factory.mktemp("template")))
    for number in range(1, 13):
        make_frame(template, roi="1kx1k", binning=2, number=number)
    return template.paths.data_dir


@pytest.fixture
def frames(config, twelve) -> Path:
    """The twelve frames in this test's dataDir; returns the folder holding them."""
    folder = config.paths.data_dir / "mods1b"
    shutil.copytree(twelve / "mods1b", folder)
    return folder


def files_state(*folders: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under ``folders``: (inode, mtime_ns, size), to tell whether anything changed."""
    state = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                stat = path.stat()
                state[str(path)] = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    return state


def hidden_files(config) -> list[Path]:
    return [path for folder in (config.paths.repo_dir, config.paths.proc_dir / NIGHT)
            if folder.exists() for path in folder.iterdir() if path.name.startswith(".")]


def delivered(config) -> list[str]:
    return sorted(path.name for path in config.paths.repo_dir.glob("mods*.fits"))


def lines_starting(run, word: str) -> list[str]:
    return [line for line in run.stdout.splitlines() if line.startswith(word)]


def uniqnames(folder: Path) -> dict[str, str]:
    return {path.name: fits.getval(path, "UNIQNAME") for path in folder.glob("mods*.fits")}
