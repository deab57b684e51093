"""Shared fixtures: a configuration whose every directory lives in a temporary folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dataman.core.config import Config, load_config

REPO = Path(__file__).resolve().parents[1]


def write_config(folder: Path, **sections: dict[str, object]) -> Path:
    """A dataman.ini in ``folder`` with local directories, plus overrides per section."""
    values: dict[str, dict[str, object]] = {
        "paths": {"dataDir": "data", "procDir": "proc", "repoDir": "newdata",
                  "logDir": "log", "stateDir": "state", "makeDirs": True},
        "server": {"hostid": "mods1"},
    }
    for section, overrides in sections.items():
        values.setdefault(section, {}).update(overrides)
    lines = []
    for section, keys in values.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {value}" for key, value in keys.items()]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dataman.ini"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path))


@pytest.fixture
def python() -> str:
    return sys.executable


def make_frame(config: Config, **spec: object) -> Path:
    """Write a simulated raw frame into ``<dataDir>/<chan>/`` and return its path."""
    from dataman.sim.frames import FrameSpec, write_raw_frame

    frame_spec = FrameSpec(**spec)
    folder = config.paths.data_dir / frame_spec.instrument.lower()
    folder.mkdir(parents=True, exist_ok=True)
    return write_raw_frame(folder, frame_spec)
