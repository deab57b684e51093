"""``dataman simulate``: frames land where azcam would put them, one report line each."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from astropy.io import fits

from dataman.sim import command


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dataman")
    command.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["simulate", *argv])


def test_frames_go_to_out_chan_name_with_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse("--count", "2", "--night", "20260105", "--roi", "1kx1k", "--binning", "2",
                 "--out", str(tmp_path))
    assert args.func(args) == 0
    names = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.fits"))
    assert names == ["mods1b/mods1b.20260105.0001.fits", "mods1b/mods1b.20260105.0002.fits"]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(str(tmp_path / "mods1b" / "mods1b.20260105.0001.fits"))
    assert " bytes " in lines[0] and lines[0].endswith(" s")


def test_all_cycles_the_channels_each_with_its_own_numbers(tmp_path: Path) -> None:
    args = parse("--count", "5", "--instrument", "all", "--night", "20260105", "--roi", "1kx1k",
                 "--binning", "2", "--start-number", "7", "--out", str(tmp_path))
    assert command.run(args) == 0
    names = sorted(p.name for p in tmp_path.rglob("*.fits"))
    assert names == [
        "mods1b.20260105.0007.fits", "mods1b.20260105.0008.fits", "mods1r.20260105.0007.fits",
        "mods2b.20260105.0007.fits", "mods2r.20260105.0007.fits",
    ]
    header = fits.getheader(tmp_path / "mods1b" / "mods1b.20260105.0008.fits")
    assert (header["DATE-OBS"], header["UTC-OBS"]) == ("2026-01-05", "03:18:45.123")
    assert header["INSTRUME"] == "MODS1B"


def test_existing_frame_stops_the_run_without_overwriting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse("--count", "1", "--night", "20260105", "--roi", "1kx1k", "--out", str(tmp_path))
    assert command.run(args) == 0
    frame = tmp_path / "mods1b" / "mods1b.20260105.0001.fits"
    before = frame.read_bytes()
    assert command.run(args) == 1
    assert "exists already" in capsys.readouterr().err
    assert frame.read_bytes() == before


@pytest.mark.parametrize("argv", [["--count", "0"], ["--night", "20261340"], ["--roi", "2kx2k"],
                                  ["--binning", "3"], ["--instrument", "MODS3B"]])
def test_bad_options_are_refused_by_the_parser(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse(*argv)


def test_frame_numbers_beyond_9999_are_refused(tmp_path: Path) -> None:
    args = parse("--count", "2", "--start-number", "9999", "--out", str(tmp_path))
    assert command.run(args) == 2
    assert not tmp_path.joinpath("mods1b").exists()
