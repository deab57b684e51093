"""The worker's warm-up frame: the whole pipeline, and nothing left anywhere afterwards."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import pytest

from dataman.core.config import Config
from dataman.core.identity import UniqnameRegistry
from dataman.core.quality.thumbnail_place import FOLDER
from dataman.service.warmup import SPEC, warm_up


def test_the_warm_up_processes_a_frame_and_leaves_no_file(config: Config, tmp_path: Path,
                                                          monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    made: list[Path] = []
    original = tempfile.TemporaryDirectory.__enter__

    def remember(self):  # the folder the warm-up works in, to look into it afterwards
        made.append(Path(original(self)))
        return str(made[-1])
    monkeypatch.setattr(tempfile.TemporaryDirectory, "__enter__", remember)
    seconds = warm_up(config)
    assert seconds > 0
    assert len(made) == 1 and made[0].parent == scratch and not made[0].exists()
    paths = config.paths
    for folder in (paths.data_dir, paths.proc_dir, paths.repo_dir, scratch):
        assert list(folder.iterdir()) == [], folder


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_the_warm_up_leaves_the_state_folder_as_it_was(config: Config):
    assert config.quality.thumbnails  # the warm-up makes one: it must land elsewhere
    state = config.paths.state_dir
    state.mkdir(parents=True, exist_ok=True)
    (state / "keep.txt").write_text("an operator's note\n")
    before = _tree(state)
    warm_up(config)
    assert _tree(state) == before
    assert sorted(path.name for path in state.iterdir()) == ["keep.txt"]


def test_the_warm_up_frame_name_is_not_one_a_camera_writes():
    assert SPEC.name == "mods1b.00000000.0000.fits"
    with pytest.raises(ValueError):  # its night is no date
        datetime.strptime(SPEC.night, "%Y%m%d")
    assert SPEC.number == 0  # azcam numbers frames from 1


def test_reprocessing_a_real_frame_after_a_warm_up_gives_it_a_name_of_its_own(config: Config):
    warm_up(config)
    registry = UniqnameRegistry(config.paths.state_dir)
    assert registry.uniqname_of("mods1b.20251230.0001.fits") is None
    assert not (config.paths.state_dir / FOLDER).exists()
