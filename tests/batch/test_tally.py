"""The summary's counts, rate and exit status, from outcomes made by hand."""

import pytest

from dataman.batch.display import frame_lines
from dataman.batch.tally import Tally, plain_table
from dataman.batch.task import Outcome


def tally_of(*statuses: str, total: int | None = None) -> Tally:
    tally = Tally(total if total is not None else len(statuses))
    for number, status in enumerate(statuses, 1):
        tally.add(Outcome(f"/d/mods1b.20251230.{number:04d}.fits", status,
                          "why" if status in ("failed", "refused") else ""))
    return tally


@pytest.mark.parametrize(("statuses", "interrupted", "broken", "expected"), [
    (("done", "redone", "skipped"), False, "", 0),
    (("done", "failed"), False, "", 1),
    (("done", "refused"), False, "", 1),
    (("done",), False, "a worker process died", 1),
    (("done",), True, "", 130),
    (("failed",), True, "", 130),
])
def test_exit_status(statuses, interrupted, broken, expected):
    tally = tally_of(*statuses)
    tally.interrupted, tally.stopped_because = interrupted, broken
    assert tally.exit_status == expected


def test_rate_counts_processed_frames_over_the_run():
    tally = tally_of("done", "done", "redone", "skipped", "failed", total=7)
    tally.started = 100.0
    tally.ended = 104.0  # by hand: 3 frames written in 4 s
    tally.not_started, tally.interrupted = 2, True
    assert tally.processed == 3
    assert tally.rate == pytest.approx(0.75)
    table = plain_table(tally)
    assert table[1:8] == [
        "  processed   2  new outputs",
        "  redone      1  --force: replaced under the same names",
        "  skipped     1  done before; --force redoes them",
        "  failed      1  reasons below",
        "  refused     0",
        "  not started 2  interrupted; run the same command again to finish",
        "  3 frames written in 4.0 s: 0.75 frames/s"]
    assert "  failed: /d/mods1b.20251230.0005.fits: why" in table
    assert tally.closing_line() == ("3 of 7 frames processed in 4.0 s (0.75 frames/s), "
                                    "1 skipped, 1 failed or refused, 2 not started")


def test_frame_lines_keep_the_words_scripts_read():
    done = Outcome("/d/mods1b.20251230.0001.fits", "done", delivered="/n/mods1b.20251230.0001.fits",
                   timings={"read": 0.010, "write": 0.020}, warnings=["w1"])
    undelivered = Outcome("/d/mods1b.20251230.0002.fits", "done",
                          processed="/p/20251230/mods1b.20251230.0002.fits", timings={})
    assert frame_lines(done) == [
        "ok     mods1b.20251230.0001.fits -> /n/mods1b.20251230.0001.fits  "
        "read 10ms write 20ms total 30ms (1 warnings)", "       warning: w1"]
    assert frame_lines(undelivered)[0].startswith(
        "ok     mods1b.20251230.0002.fits -> /p/20251230/mods1b.20251230.0002.fits (not delivered)")
    assert frame_lines(Outcome("/d/x", "skipped", "done before")) == ["skip   x: done before"]
    assert frame_lines(Outcome("/d/x", "failed", "truncated")) == ["FAILED /d/x: truncated"]
    assert frame_lines(Outcome("/d/x", "refused", "odd")) == ["REFUSED /d/x: odd"]
