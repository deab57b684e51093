"""``dataman config --check`` and ``dataman run`` on ``[server] allowedSenders``, as an
operator runs them: exit status 78 and every bad entry named, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import write_config

BAD = "999.1.1.1, 127.0.0.1, banana"


def dataman(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dataman", *args], capture_output=True,
                          text=True, check=False, timeout=60)


def test_config_check_accepts_a_single_network_without_a_comma(tmp_path: Path):
    path = write_config(tmp_path, server={"allowedSenders": "10.99.0.0/16"})
    run = dataman("config", "--check", str(path))
    assert run.returncode == 0, run.stderr
    assert "allowedSenders = 10.99.0.0/16,\n" in run.stdout
    assert run.stdout.endswith(f"# {path}: OK\n")


def test_config_check_names_every_bad_sender_and_exits_78(tmp_path: Path):
    path = write_config(tmp_path, server={"allowedSenders": BAD})
    run = dataman("config", "--check", str(path))
    assert run.returncode == 78
    assert run.stderr == (
        "dataman: configuration error:\n"
        f"{path}: [server] allowedSenders: 2 bad entries:"
        " '999.1.1.1' (not an IP address or CIDR network),"
        " 'banana' (not an IP address or CIDR network)\n")
    assert run.stdout == ""


def test_run_refuses_bad_senders_with_78_before_starting_anything(tmp_path: Path):
    path = write_config(tmp_path, server={"allowedSenders": BAD})
    run = dataman("run", "-c", str(path))
    assert run.returncode == 78
    assert "Traceback" not in run.stderr
    assert f"{path}: [server] allowedSenders: 2 bad entries: '999.1.1.1' (" in run.stderr
    assert "'banana' (not an IP address or CIDR network)" in run.stderr
    assert not (tmp_path / "state" / "journal.sqlite3").exists()
