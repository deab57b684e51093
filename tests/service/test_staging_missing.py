"""A missing staging disk (/newdata, repoDir) at start is not a configuration error: the service
starts, frames wait in procDir, and are delivered once the folder is there (what the unit's
comment and docs/configuration.md say)."""

from __future__ import annotations

import pytest

from tests.service_harness import frames

pytestmark = pytest.mark.slow


def test_frames_wait_for_a_staging_disk_missing_at_start(service_factory):
    service = service_factory(service={"deliveryRetryMax": 1})
    config_text = service.config_path.read_text()
    service.config_path.write_text(config_text.replace("makeDirs = True", "makeDirs = False"))
    repo = service.config.paths.repo_dir
    repo.rmdir()
    service.start()
    raw = frames(service, 1)[0]
    service.send(raw)
    service.wait_states([raw.name], "processed")
    assert (service.config.paths.proc_dir / "20251230" / raw.name).is_file()
    assert not repo.exists()
    repo.mkdir()  # the disk is mounted
    service.wait_states([raw.name], "delivered")
    assert (repo / raw.name).is_file()
    assert service.stop() == 0
