"""``dataman config --check``: says which file it read and why, and what it filled in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import write_config


def config_check(*args: object, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "DATAMAN_CONFIG"}
    return subprocess.run([sys.executable, "-m", "dataman", "config", "--check",
                           *map(str, args)], cwd=cwd, env=environment | env,
                          capture_output=True, text=True, check=False, timeout=60)


def test_names_the_file_given_and_the_sections_taken_from_defaults(tmp_path: Path):
    path = write_config(tmp_path)  # [paths] and [server] only
    run = config_check(path, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    tail = run.stdout.splitlines()[-3:]
    assert tail == [
        f"# configuration file: {path} (given with -c)",
        "# not in the file, every key at its default: "
        "[processing], [workers], [service], [site], [temperatures], [quality]",
        f"# {path}: OK",
    ]
    assert "# [workers]: not in the file, every key at its default\n[workers]\n" in run.stdout


def test_without_a_name_takes_the_current_folders_file_and_says_so(tmp_path: Path):
    (tmp_path / "dataman.ini").write_text(
        "[server]\n[paths]\nmakeDirs = True\n[processing]\n[workers]\n[service]\n[site]\n"
        "[temperatures]\n[[MODS1B]]\n[[MODS1R]]\n[[MODS2B]]\n[[MODS2R]]\n"
        "[quality]\n[[MODS1B]]\n[[MODS1R]]\n[[MODS2B]]\n[[MODS2R]]\n")  # every section
    run = config_check(cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-2:] == [
        f"# configuration file: {tmp_path / 'dataman.ini'} (found in the current folder)",
        f"# {tmp_path / 'dataman.ini'}: OK",
    ]


def test_the_variable_beats_the_current_folder(tmp_path: Path):
    write_config(tmp_path)
    named = write_config(tmp_path / "elsewhere")
    run = config_check(cwd=tmp_path, DATAMAN_CONFIG=str(named))
    assert run.returncode == 0, run.stderr
    assert f"# configuration file: {named} (from $DATAMAN_CONFIG)\n" in run.stdout
