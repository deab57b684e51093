"""dataMan installed the way operators install it: a wheel, not the checkout.

The package is built from a copy of its sources (so the checkout gains no build
folders) and installed with ``--no-deps`` into a fresh virtual environment that
borrows the test environment's dependencies through a ``.pth`` file, which keeps
the test quick and needs no index for them. The commands then run from an empty
folder, with a HOME of their own and no ``$DATAMAN_CONFIG``: what an operator
meets right after ``pip install``.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "dataman")


def pip(*args: object, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(the fresh environment, the version in the built wheel's name)."""
    if Path("/etc/dataman/dataman.ini").exists():
        pytest.skip("this machine has /etc/dataman/dataman.ini, which the lookup would take")
    folder = tmp_path_factory.mktemp("installed")
    source = folder / "source"
    for name in SOURCES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(origin, source / name)
    built = pip("wheel", "--no-deps", "-q", "-w", folder / "wheels", source)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (folder / "wheels").glob("mods_dataman-*.whl")
    version = wheel.name.split("-")[1]

    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path("
                              "'purelib'))"], capture_output=True, text=True, check=True,
                             timeout=60).stdout.strip()
    # The dependencies, from the test environment; searched after the venv's own packages,
    # and its .pth files (the checkout's editable install among them) are not read.
    borrowed = [sysconfig.get_path("purelib"), *site.getsitepackages()]
    Path(purelib, "borrowed-dependencies.pth").write_text("\n".join(dict.fromkeys(borrowed)))
    done = pip("--python", python, "install", "--no-deps", "--no-index", "-q", wheel)
    assert done.returncode == 0, done.stdout + done.stderr
    yield venv, version


@pytest.fixture
def operator(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An empty current folder and an environment with a HOME in tmp."""
    empty = tmp_path / "empty"
    empty.mkdir()
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DATAMAN_CONFIG", "XDG_STATE_HOME", "PYTHONPATH")}
    environment["HOME"] = str(tmp_path / "home")
    return empty, environment


def run(command: list[str | Path], where: tuple[Path, dict[str, str]]
        ) -> subprocess.CompletedProcess[str]:
    folder, environment = where
    return subprocess.run([str(part) for part in command], cwd=folder, env=environment,
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_installed_package_is_the_one_that_runs(installed, operator):
    venv, _ = installed
    found = run([venv / "bin" / "python", "-c", "import dataman; print(dataman.__file__)"],
                operator)
    assert found.returncode == 0, found.stderr
    package = Path(found.stdout.strip()).parent
    assert package.is_relative_to(venv)
    for shipped in ("py.typed", "core/configspec.ini", "core/default.ini", "tui/dataman.tcss"):
        assert (package / shipped).is_file(), shipped


def test_version(installed, operator):
    venv, version = installed
    result = run([venv / "bin" / "dataman", "--version"], operator)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"dataman {version}\n"


def test_the_distribution_is_mods_dataman(installed, operator):
    # `dataman` on the public package index is an unrelated project; ours is mods-dataman.
    venv, version = installed
    result = run([venv / "bin" / "python", "-c", "import importlib.metadata as m; "
                  "d = m.distribution('mods-dataman'); print(d.metadata['Name'], d.version)"],
                 operator)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"mods-dataman {version}\n"


def test_config_check_uses_the_packaged_default_and_says_so(installed, operator):
    venv, _ = installed
    result = run([venv / "bin" / "dataman", "config", "--check"], operator)
    assert result.returncode == 0, result.stderr
    user_folder = Path(operator[1]["HOME"]) / ".local" / "state" / "dataman"
    used = [line for line in result.stdout.splitlines()
            if line.startswith("# configuration file: ")]
    assert len(used) == 1
    assert used[0].startswith("# configuration file: ")
    assert f"{venv}/lib/" in used[0] and "/site-packages/dataman/core/default.ini" in used[0]
    assert "(the packaged default: " in used[0]
    assert str(user_folder) in used[0]
    assert "# not in the file, every key at its default: [server]" in result.stdout
    assert not user_folder.exists(), "a check creates no folders"


def test_health_says_down_with_no_service(installed, operator):
    venv, _ = installed
    result = run([venv / "bin" / "dataman", "health"], operator)
    user_folder = Path(operator[1]["HOME"]) / ".local" / "state" / "dataman"
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == f"dataMan DOWN: not running (state {user_folder / 'state'})\n"


def test_console_entry_point_is_installed(installed, operator):
    venv, _ = installed
    result = run([venv / "bin" / "dataman-console", "--help"], operator)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: dataman-console")
