"""Time one full MODS frame through dataMan, a straightforward baseline, and the I/O floor.

    .venv/bin/python benchmarks/bench_process.py [--runs 7] [--dir /path/on/the/target/disk]

Contenders, alternated run by run so page-cache and first-touch noise falls on all alike:

* ``dataman``  - ``process_frame`` with preallocated buffers, as a service worker runs it;
* ``baseline`` - the way most people would write it: astropy open, fix headers with
  astropy Time/SkyCoord, merged image from ``hdu.data``, ``writeto``, ``shutil.copy``;
* ``io-floor`` - copying a file of the output's size to both destinations (procDir, repoDir).

Prints per-step medians, the total, user/sys CPU, and the ratios the goals are stated in:
dataman <= 1/3 of baseline, dataman <= 2x the I/O floor; and the time of the quality checks
(goal <= 10 ms) and of the thumbnail, which dataman does and the baseline does not. Outputs
are deleted after each run. Last, the simulator: a full frame's scene of each kind and
channel alone, and the whole frame in memory (scene, noise, headers; goal well under 1 s).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.coordinates import EarthLocation, SkyCoord
from astropy.io import fits
from astropy.time import Time
from astropy.utils import iers

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dataman.core.buffers import Buffers  # noqa: E402
from dataman.core.config import Config, load_config  # noqa: E402
from dataman.core.geometry import AMPLIFIERS  # noqa: E402
from dataman.core.pipeline import FrameResult, process_frame  # noqa: E402
from dataman.core.pipeline import prepare as prepare_frame  # noqa: E402
from dataman.core.quality.assess import assess  # noqa: E402
from dataman.core.quality.thumbnail import thumbnail_png  # noqa: E402
from dataman.ipc.slots import FrameBudget  # noqa: E402
from dataman.sim.frames import FrameSpec, make_raw_hdulist, write_raw_frame  # noqa: E402
from dataman.sim.scenes import scene  # noqa: E402
from dataman.sim.setups import KINDS  # noqa: E402

iers.conf.auto_download = False  # the baseline must not touch the network either


def write_config(folder: Path) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataman.ini").write_text(
        "[paths]\ndataDir = data\nprocDir = proc\nrepoDir = newdata\nlogDir = log\n"
        "stateDir = state\nmakeDirs = True\n[server]\nhostid = bench\n")
    return load_config(folder / "dataman.ini")


@dataclass
class Prepared:
    """A full frame ready to time, with what processing it needs, as a service worker has it."""

    config: Config
    raw: Path
    buffers: Buffers
    output: Path  # the warm-up's delivered file: a file of the output's size


def prepare(work: Path) -> Prepared:
    """Config, a full raw frame, slot-sized buffers and one warm-up run (not counted).

    The warm-up's processed file is deleted; its delivered file is kept, renamed to
    ``work/output-sized.fits``, for the caller to use or delete.
    """
    config = write_config(work)
    folder = config.paths.data_dir / "mods1b"
    raw = write_raw_frame(folder, FrameSpec(roi="full", binning=1, night="20251230", number=1))
    budget = FrameBudget.largest()  # the size of a service slot
    buffers = Buffers(raw=memoryview(bytearray(budget.raw_size)),
                      merged=memoryview(bytearray(budget.merged_size)))
    sample = process_frame(raw, config, buffers=buffers)
    sample.processed.unlink()
    output = sample.delivered.rename(work / "output-sized.fits")
    return Prepared(config, raw, buffers, output)


class Clock:
    """Per-step wall times plus process CPU over the whole run."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self._last = time.perf_counter()
        self._cpu = resource.getrusage(resource.RUSAGE_SELF)

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.steps[step] = now - self._last
        self._last = now

    def cpu(self) -> tuple[float, float]:
        end = resource.getrusage(resource.RUSAGE_SELF)
        return end.ru_utime - self._cpu.ru_utime, end.ru_stime - self._cpu.ru_stime


def run_dataman(raw: Path, config: Config, buffers: Buffers, *,
                keep_end: bool = False) -> dict[str, float]:
    """Per-step seconds, total and CPU of one ``process_frame``; with ``keep_end`` also
    "end": the ``perf_counter`` when ``<CHAN>.new`` was written (before the thumbnail)."""
    clock = Clock()
    result = process_frame(raw, config, buffers=buffers)
    end = time.perf_counter() - result.timings.get("thumbnail", 0.0)
    user, system = clock.cpu()
    for path in (result.processed, result.delivered):
        path.unlink()
    run = {**result.timings, "total": result.total, "user": user, "sys": system}
    return {**run, "end": end} if keep_end else run


def run_baseline(raw: Path, config: Config) -> dict[str, float]:
    clock = Clock()
    hdus = fits.open(raw)
    data = {name: hdus[name].data for name in ("IM1", "IM2", "IM3", "IM4")}
    clock.lap("read")
    baseline_fix_headers(hdus)
    clock.lap("fixes")
    merged, stats = baseline_merge(data, overscan=hdus["IM1"].header["OVRSCAN1"])
    clock.lap("otm")
    header = hdus[0].header.copy()
    for quadrant, (bias, noise) in stats.items():
        header[f"Q{quadrant}BIAS"], header[f"Q{quadrant}STD"] = bias, noise
    hdus.append(fits.ImageHDU(merged, header=header, name="MERGED"))
    night = config.paths.proc_dir / "baseline"
    night.mkdir(exist_ok=True)
    processed = night / raw.name
    hdus.writeto(processed)
    hdus.close()
    clock.lap("write")
    delivered = config.paths.repo_dir / raw.name
    shutil.copy(processed, delivered)
    clock.lap("deliver")
    user, system = clock.cpu()
    processed.unlink()
    delivered.unlink()
    return {**clock.steps, "total": sum(clock.steps.values()), "user": user, "sys": system}


def baseline_fix_headers(hdus: fits.HDUList) -> None:
    primary = hdus[0].header
    c0, r0 = primary["REF-PIX1"], primary["REF-PIX2"]
    for number in range(1, 5):
        header = hdus[f"IM{number}"].header
        bx, by = (int(v) for v in header["CCDSUM"].split())
        width = (header["NAXIS1"] - header["OVRSCAN1"]) * bx
        height = header["NAXIS2"] * by
        x = (c0 - width + 1, c0) if number in (1, 3) else (c0 + width, c0 + 1)
        y = (r0 - height + 1, r0) if number in (1, 2) else (r0 + 1, r0 + height)
        header["DETSEC"] = header["CCDSEC"] = f"[{x[0]}:{x[1]},{y[0]}:{y[1]}]"
    primary["DATE-OBS"] = f"{primary['DATE-OBS']}T{primary['UTC-OBS']}"
    site = EarthLocation.from_geodetic(-primary["LONGITUD"] * u.deg, primary["LATITUDE"] * u.deg,
                                       primary["ELEVATIO"] * u.m)
    start = Time(primary["DATE-OBS"], scale="utc", location=site)
    target = SkyCoord(primary["TELRA"], primary["TELDEC"], unit=(u.hourangle, u.deg))
    primary["MJD-OBS"] = start.mjd
    primary["HJD-OBS"] = (start + start.light_travel_time(target, "heliocentric")).utc.mjd
    primary["BJD-OBS"] = (start.tdb + start.light_travel_time(target)).tdb.mjd
    primary["ZD"] = 90.0 - float(primary["TELALT"])
    primary["IMAGETYP"] = str(primary["IMAGETYP"]).upper()
    primary.remove("NEXTEND", ignore_missing=True)


def baseline_merge(data: dict[str, np.ndarray], overscan: int):
    stats, parts = {}, {}
    for quadrant, name in ((1, "IM3"), (2, "IM4"), (3, "IM1"), (4, "IM2")):
        image = data[name]
        columns = image.shape[1] - overscan
        block = image[2:-2, columns + 2:]
        bias = float(np.median(block))
        stats[quadrant] = (bias, float(np.std(block)))
        trimmed = image[:, :columns].astype(np.float32) - bias
        parts[quadrant] = np.flipud(trimmed) if quadrant in (1, 3) else np.flip(trimmed)
    merged = np.vstack([np.hstack([parts[1], parts[2]]), np.hstack([parts[3], parts[4]])])
    return merged, stats


def run_floor(source: Path, config: Config) -> dict[str, float]:
    clock = Clock()
    targets = [config.paths.proc_dir / "floor.fits", config.paths.repo_dir / "floor.fits"]
    for target in targets:
        shutil.copy(source, target)
    clock.lap("copy x2")
    user, system = clock.cpu()
    for target in targets:
        target.unlink()
    return {**clock.steps, "total": sum(clock.steps.values()), "user": user, "sys": system}


def measure(runs: int, work: Path) -> tuple[dict[str, list[dict[str, float]]],
                                            dict[str, list[float]]]:
    bench = prepare(work)
    raw, config, source = bench.raw, bench.config, bench.output
    contenders: dict[str, Callable[[], dict[str, float]]] = {
        "dataman": lambda: run_dataman(raw, config, bench.buffers),
        "baseline": lambda: run_baseline(raw, config),
        "io-floor": lambda: run_floor(source, config),
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, contender in contenders.items():
            results[name].append(contender())
    print(f"full frame: raw {raw.stat().st_size / 1e6:.1f} MB, output "
          f"{source.stat().st_size / 1e6:.1f} MB, {runs} alternating runs, medians, seconds\n")
    return results, time_quality(bench)


def time_quality(bench: Prepared, repeats: int = 30) -> dict[str, list[float]]:
    """The checks and the thumbnail alone, on one full frame in its buffers, ``repeats`` times
    (less at the mercy of the disk and of other processes than a whole frame's steps)."""
    result = FrameResult(bench.raw.name)
    frame = prepare_frame(bench.raw, bench.config, result, bench.buffers)
    assert frame.merged is not None
    times: dict[str, list[float]] = {"checks": [], "thumbnail": []}
    for _ in range(repeats):
        start = time.perf_counter()
        assess(frame.frame.primary, frame.frame.amps, frame.readout.columns, frame.stats,
               instrument=frame.instrument, binning=result.facts.binning, night="20251230",
               settings=bench.config.quality)
        middle = time.perf_counter()
        thumbnail_png(frame.merged)
        times["checks"].append(middle - start)
        times["thumbnail"].append(time.perf_counter() - middle)
    return times


def report_quality(times: dict[str, list[float]]) -> None:
    print(f"\nalone, {len(times['checks'])} times on one full frame in memory:")
    for step, goal in (("checks", "   (goal <= 10 ms)"), ("thumbnail", "")):
        values = sorted(value * 1e3 for value in times[step])
        print(f"quality {step}: median {statistics.median(values):.1f} ms, "
              f"min {values[0]:.1f} max {values[-1]:.1f}{goal}")


def time_scenes(repeats: int = 3) -> None:
    """Median seconds of a full unbinned frame's scene (four amplifiers) and of the whole
    frame in memory, per kind and channel."""
    print(f"\nsimulator, full frame 1x1, median of {repeats}:   scene   whole frame")
    for kind in KINDS:
        for instrument in ("MODS1B", "MODS1R"):
            spec = FrameSpec(instrument=instrument, kind=kind, roi="full", binning=1)
            scenes, frames = [], []
            for seed in range(repeats):
                rng = np.random.default_rng(seed)
                start = time.perf_counter()
                for amp in range(1, len(AMPLIFIERS) + 1):
                    scene(spec.exposure, *spec.readout.pixel_centres(amp), rng)
                middle = time.perf_counter()
                make_raw_hdulist(spec)
                scenes.append(middle - start)
                frames.append(time.perf_counter() - middle)
            print(f"  {kind:<8}{instrument:<8}{statistics.median(scenes):>22.3f}"
                  f"{statistics.median(frames):>14.3f}")


def report(results: dict[str, list[dict[str, float]]]) -> None:
    columns = ["read", "fixes", "otm", "checks", "write", "deliver", "thumbnail", "copy x2",
               "total", "user", "sys"]
    print(f"{'contender':<10}" + "".join(f"{c:>9}" for c in columns))
    medians = {}
    for name, runs in results.items():
        medians[name] = {c: statistics.median(run[c] for run in runs) for c in columns
                         if c in runs[0]}
        cells = "".join(f"{medians[name][c]:>9.3f}" if c in medians[name] else f"{'':>9}"
                        for c in columns)
        print(f"{name:<10}{cells}")
    total = medians["dataman"]["total"]
    print(f"\ndataman / baseline = {total / medians['baseline']['total']:.2f}   (goal <= 0.33)")
    print(f"dataman / io-floor = {total / medians['io-floor']['total']:.2f}   (goal <= 2.0)")
    spread = [r["total"] for r in results["dataman"]]
    print(f"dataman total min {min(spread):.3f} max {max(spread):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="dataman-bench-") as work:
        results, quality = measure(max(5, args.runs), Path(work))
        report(results)
        report_quality(quality)
    time_scenes()


if __name__ == "__main__":
    main()
