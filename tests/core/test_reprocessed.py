"""The records ``dataman process`` keeps for the night report: one line per frame, the
newest line of a name counts, a line cut short by a crash is passed over."""

from __future__ import annotations

from pathlib import Path

from dataman.core import reprocessed


def test_the_newest_line_of_a_frame_counts_and_a_cut_line_is_passed_over(tmp_path: Path):
    first, second = "mods1b.20251230.0001.fits", "mods1r.20251230.0001.fits"
    reprocessed.append(tmp_path, {"name": first, "state": "failed", "reason": "truncated"})
    reprocessed.append(tmp_path, {"name": second, "state": "delivered"})
    reprocessed.append(tmp_path, {"name": first, "state": "delivered"})  # processed again
    reprocessed.append(tmp_path, {"name": "mods1b.20251231.0001.fits", "state": "delivered"})
    path = tmp_path / "processed" / "20251230.jsonl"
    with path.open("a") as stream:
        stream.write('{"name": "mods1b.20251230.0002.fits", "sta')  # a crash mid-line
    assert reprocessed.read(tmp_path, "20251230") == [
        {"name": first, "state": "delivered"}, {"name": second, "state": "delivered"}]
    assert [item["name"] for item in reprocessed.read(tmp_path, "20251231")] == [
        "mods1b.20251231.0001.fits"]
    assert reprocessed.read(tmp_path, "20260101") == []


def test_a_damaged_record_is_left_out_of_the_report(tmp_path: Path):
    from dataman.service.report.frames import night_frames

    reprocessed.append(tmp_path, {"name": "mods1b.20251230.0001.fits", "state": "lost"})
    reprocessed.append(tmp_path, {"name": "mods1b.20251230.0002.fits", "state": "delivered",
                                  "processed_at": 1767064366.0,
                                  "date_obs": "2025-12-30T03:12:40.5"})
    frames = night_frames(tmp_path, 0.0, 1.0, "20251230")
    assert [frame.name for frame in frames] == ["mods1b.20251230.0002.fits"]
    assert frames[0].batch and frames[0].latency is None
    assert frames[0].exposed == 1767064360.5  # 2025-12-30 03:12:40.5 UTC
