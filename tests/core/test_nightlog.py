"""The night log: observing date rule and file switching, with an injected clock."""

import logging
from datetime import UTC, datetime

import pytest

from dataman.core.nightlog import NightLogHandler, observing_date


@pytest.mark.parametrize(("utc", "expected"), [
    ("2025-12-30T03:12:46", "20251230"),  # 20:12 local on the 29th: night of the 30th
    ("2025-12-30T18:59:59", "20251230"),  # 11:59 local: still the morning after
    ("2025-12-30T19:00:00", "20251231"),  # local noon: next night's date
    ("2025-12-30T23:59:59", "20251231"),  # 16:59 local
    ("2025-12-31T00:00:00", "20251231"),  # 17:00 local: UTC date has caught up
])
def test_observing_date_switches_at_local_noon(utc, expected):
    moment = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert observing_date(moment, 7) == expected


def test_lines_go_to_the_nights_file_and_switch_with_the_date(tmp_path):
    now = [datetime(2025, 12, 30, 18, 0, tzinfo=UTC)]
    handler = NightLogHandler(tmp_path, "mods1", 7, clock=lambda: now[0])
    logger = logging.getLogger("test.nightlog")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("mods1b.20251230.0001.fits: delivered")
        now[0] = datetime(2025, 12, 30, 19, 30, tzinfo=UTC)
        logger.warning("mods1b.20251231.0001.fits: CCDTEMP missing")
    finally:
        logger.removeHandler(handler)
        handler.close()
    first = (tmp_path / "mods1dm.20251230.txt").read_text().splitlines()
    second = (tmp_path / "mods1dm.20251231.txt").read_text().splitlines()
    assert len(first) == 1 and first[0].endswith(" | INFO | mods1b.20251230.0001.fits: delivered")
    assert second[0].split(" | ")[1:] == ["WARNING", "mods1b.20251231.0001.fits: CCDTEMP missing"]
    # 2025-12-30 03:12:46,120 style: date, time, comma, milliseconds
    stamp = first[0].split(" | ")[0]
    assert datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")


def test_an_unwritable_log_folder_sends_lines_to_stderr_says_so_once_and_recovers(tmp_path):
    import io

    missing = tmp_path / "log-disk-not-mounted"
    fallback = io.StringIO()
    handler = NightLogHandler(missing, "mods1", 7, fallback=fallback,
                              clock=lambda: datetime(2025, 12, 30, 3, 0, tzinfo=UTC))
    handler.RETRY_PERIOD = 0.0
    record = logging.LogRecord("dataman", logging.INFO, __file__, 1, "%s: delivered",
                               ("mods1b.20251230.0001.fits",), None)
    handler.handle(record)
    handler.handle(record)
    lines = fallback.getvalue().splitlines()
    assert lines[0].startswith(f"dataman: cannot write the night log {missing}/mods1dm.")
    assert "No such file or directory; logging to stderr until it can be written" in lines[0]
    assert [line.split(" | ")[-1] for line in lines[1:]] == [
        "mods1b.20251230.0001.fits: delivered"] * 2
    assert "Traceback" not in fallback.getvalue()
    missing.mkdir()
    handler.handle(record)
    handler.close()
    assert fallback.getvalue().splitlines()[-1] == (
        f"dataman: night log {missing}/mods1dm.20251230.txt is writable again")
    assert (missing / "mods1dm.20251230.txt").read_text().count("delivered") == 1
