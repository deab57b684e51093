"""The worker's warm-up frame: the whole pipeline, and nothing left anywhere afterwards."""

from __future__ import annotations

import tempfile
from pathlib import Path

from dataman.core.config import Config
from dataman.service.warmup import warm_up


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
