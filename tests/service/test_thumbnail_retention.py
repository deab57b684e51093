"""Old nights' thumbnails are removed, recent ones and anything not a night's folder kept.

The cut-off dates are worked out by hand in each test: 60 nights before 20251230 is
20251031 (30 days back to 20251130, 30 more to 20251031).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from dataman.service.thumbnail_retention import expired_nights, prune_thumbnails
from tests.service_harness import wait_until


def thumbnail_folders(state_dir, *names):
    root = state_dir / "thumbnails"
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "mods1b.x.0001.png").write_bytes(b"\x89PNG")
    return root


def test_nights_more_than_the_kept_number_before_tonight_are_expired(tmp_path):
    root = thumbnail_folders(tmp_path, "20250901", "20251030", "20251031", "20251229",
                             "20251230", "20251345", "notes", "2025123")
    (root / "20250101").write_text("a file, not a night's folder")
    (root / "20250102").symlink_to(root / "20251230")
    assert expired_nights(tmp_path, 60, "20251230") == [root / "20250901", root / "20251030"]
    assert expired_nights(tmp_path, 1, "20251230") == [
        root / name for name in ("20250901", "20251030", "20251031")]
    assert expired_nights(tmp_path, 0, "20251230") == []  # 0: keep every night


def test_pruning_removes_whole_folders_and_says_which(tmp_path, caplog):
    root = thumbnail_folders(tmp_path, "20250901", "20251030", "20251031", "notes")
    caplog.set_level(logging.INFO, logger="dataman")
    removed = prune_thumbnails(tmp_path, 60, "20251230")
    assert removed == [root / "20250901", root / "20251030"]
    assert sorted(path.name for path in root.iterdir()) == ["20251031", "notes"]
    assert ("removed the thumbnails of nights more than 60 nights before 20251230: "
            "20250901 20251030") in caplog.text


def test_no_thumbnails_folder_is_nothing_to_do(tmp_path):
    assert prune_thumbnails(tmp_path / "absent", 60, "20251230") == []


def test_a_starting_service_removes_old_nights_thumbnails(service_factory):
    service = service_factory(quality={"thumbnailNights": 30})
    today = datetime.now(UTC).date()
    old, recent = ((today - timedelta(days=days)).strftime("%Y%m%d") for days in (400, 2))
    root = thumbnail_folders(service.config.paths.state_dir, old, recent)
    service.start()
    wait_until(lambda: not (root / old).exists(), 30, what="the old night's thumbnails removed")
    assert (root / recent).is_dir()
    assert "removed the thumbnails of nights more than 30 nights before" in service.log_text()
    assert f": {old}\n" in service.log_text()
