"""repoDir on NFS: a stale file handle or an I/O error is an outage, not a failed frame.

ESTALE and EIO cannot be made on a local file system, so they are raised where the
kernel would report them: every ``stat`` and ``open`` of a path in repoDir, while
the fault lasts. The frame is processed, its delivery fails with the reason (the
service keeps it waiting), and it is delivered once, under its name, afterwards.
"""

from __future__ import annotations

import errno
import os
from datetime import UTC, datetime

import pytest

from dataman.core.diskfaults import passing_disk_error
from dataman.core.errors import DeliveryFailed
from dataman.core.pipeline import FrameResult, deliver, prepare, write_and_deliver
from tests.conftest import make_frame


@pytest.mark.parametrize(("code", "words"), [(errno.ESTALE, "Stale file handle"),
                                             (errno.EIO, "Input/output error")])
def test_a_failing_nfs_repo_dir_leaves_the_frame_processed_and_waiting(config, monkeypatch,
                                                                       code, words):
    raw = make_frame(config, roi="1kx1k", binning=2)
    repo = str(config.paths.repo_dir)
    real_stat, real_open = os.stat, os.open

    def in_repo(path) -> bool:
        return isinstance(path, str | os.PathLike) and os.fspath(path).startswith(repo)

    def stat(path, *args, **kwargs):
        if in_repo(path):
            raise OSError(code, os.strerror(code), os.fspath(path))
        return real_stat(path, *args, **kwargs)

    def open_(path, *args, **kwargs):
        if in_repo(path):
            raise OSError(code, os.strerror(code), os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "open", open_)
    result = FrameResult(raw.name)
    with pytest.raises(DeliveryFailed, match=words) as failure:
        write_and_deliver(prepare(raw, config, result), config, result, datetime.now(UTC))
    assert result.processed is not None and result.processed.exists()  # processed, waiting
    assert passing_disk_error(failure.value) is not None
    monkeypatch.undo()  # the mount is back
    delivered = deliver(result.processed, raw.name, result.uniqname or "", "MODS1B", config,
                        FrameResult(raw.name))
    assert delivered == config.paths.repo_dir / raw.name
    assert sorted(path.name for path in config.paths.repo_dir.iterdir()) == [
        "MODS1B.new", raw.name]
    assert delivered.read_bytes() == result.processed.read_bytes()
