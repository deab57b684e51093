"""``dataman process --scheduler``: the same per-frame function on a real Dask cluster.

The cluster is a ``LocalCluster`` of two worker processes on loopback, as a
season's cluster would be on shared storage.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from astropy.io import fits

from tests.batch.conftest import NAMES, NIGHT, delivered, hidden_files, lines_starting, run_dataman

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster:
        yield cluster.scheduler_address


def test_a_folder_on_the_cluster_then_a_rerun_skips_it(config, twelve, scheduler):
    shutil.copytree(twelve / "mods1b", config.paths.data_dir / "mods1b")

    first = run_dataman("process", "--scheduler", scheduler, config.paths.data_dir,
                        "-c", config.source)

    assert first.returncode == 0, first.stdout + first.stderr
    assert sorted(line.split()[1] for line in lines_starting(first, "ok")) == NAMES
    assert delivered(config) == NAMES
    assert sorted(os.listdir(config.paths.proc_dir / NIGHT)) == NAMES
    names = {fits.getval(config.paths.repo_dir / name, "UNIQNAME") for name in NAMES}
    assert len(names) == 12
    assert f"(Dask cluster at {scheduler} (2 worker threads))" in first.stdout
    assert (config.paths.repo_dir / "MODS1B.new").read_text() == "mods1b.20251230.0012.fits\n"
    assert hidden_files(config) == []

    again = run_dataman("process", "--scheduler", scheduler, config.paths.data_dir,
                        "-c", config.source)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(lines_starting(again, "skip   ")) == 12
    assert delivered(config) == NAMES


def test_an_unreachable_scheduler_is_said_plainly(config, twelve):
    frame = twelve / "mods1b" / NAMES[0]
    run = run_dataman("process", "--scheduler", "tcp://127.0.0.1:9", frame, "-c", config.source)
    assert run.returncode == 1
    assert "dataman process: cannot reach the Dask scheduler at tcp://127.0.0.1:9" in run.stderr
    assert "Traceback" not in run.stderr
    assert list(config.paths.repo_dir.iterdir()) == []
