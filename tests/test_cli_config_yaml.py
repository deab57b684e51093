"""``dataman config --check`` / ``--convert`` on the reference dataMan's YAML file, as operators
would run them: key by key what was mapped, defaulted, or needs a decision; exit 78 on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dataman.core.config import load_config
from tests.reference_yaml_fixture import write_reference_yaml


def dataman(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dataman", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=60)


def test_check_says_what_each_key_became(tmp_path):
    path = write_reference_yaml(tmp_path, make_otm="N")
    run = dataman("config", "--check", path, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    notes = [line[4:] for line in lines if line.startswith("#   ")]
    assert notes[:12] == [
        "mapped     server.ipAddr = 192.168.139.130  ->  [server] host",
        "mapped     server.ipPort = 10301  ->  [server] port",
        f"mapped     paths.dataDir = {tmp_path}/data  ->  [paths] dataDir",
        f"mapped     paths.procDir = {tmp_path}/proc  ->  [paths] procDir",
        f"mapped     paths.repoDir = {tmp_path}/newdata  ->  [paths] repoDir",
        f"mapped     paths.logDir = {tmp_path}/log/  ->  [paths] logDir",
        "mapped     processing.fixDETSEC = Y  ->  [processing] fixDETSEC",
        "mapped     processing.fixDateTime = Y  ->  [processing] fixDateTime",
        "mapped     processing.fixTemps = Y  ->  [processing] fixTemps",
        "mapped     processing.fixMisc = Y  ->  [processing] fixMisc",
        "mapped     processing.makeOTM = N  ->  [processing] makeOTM",
        "mapped     debug = False  ->  [server] logLevel = INFO",
    ]
    decisions = [note for note in notes if note.startswith("DECIDE")]
    assert len(decisions) == 3
    assert decisions[0].startswith("DECIDE     processing.makeOTM = N: the step is OFF here, "
                                   "but the reference ran it")
    assert decisions[1].startswith("DECIDE     [server] allowedSenders = 127.0.0.1, ::1: the "
                                   "reference obeyed a datagram from anyone")
    assert "write allowedSenders: [127.0.0.1, <Archon server address>, ...]" in decisions[1]
    assert decisions[2].startswith(f"DECIDE     [paths] stateDir = {tmp_path}/var/state:")
    assert "defaulted  [workers]: every key at its default (the reference had none)" in notes
    assert "# 3 keys need a decision (DECIDE above)" in lines
    # ...then the effective configuration, as for any file.
    assert "host = 192.168.139.130" in lines and "makeOTM = False" in lines
    assert lines[-1] == f"# {path}: OK"


def test_check_with_senders_added_leaves_two_decisions(tmp_path):
    path = write_reference_yaml(tmp_path)
    path.write_text(path.read_text().replace(
        "  ipPort: 10301\n", "  ipPort: 10301\n  allowedSenders: [127.0.0.1, 192.168.139.131]\n"))
    run = dataman("config", "--check", path, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "#   mapped     server.allowedSenders = ['127.0.0.1', '192.168.139.131']  ->  " \
           "[server] allowedSenders" in run.stdout
    assert "# 1 key needs a decision (DECIDE above)" in run.stdout  # stateDir
    assert "allowedSenders = 127.0.0.1, 192.168.139.131\n" in run.stdout


def test_convert_prints_an_ini_that_loads_to_the_same_configuration(tmp_path):
    path = write_reference_yaml(tmp_path, make_otm="N")
    run = dataman("config", "--convert", path, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    converted = tmp_path / "dataman.ini"
    converted.write_text(run.stdout)
    assert "[processing]\nfixDETSEC = True\nfixDateTime = True\nfixTemps = True\n" \
           "fixMisc = True\nmakeOTM = False\n" in run.stdout
    assert "[server]\nhost = 192.168.139.130\nport = 10301\nlogLevel = INFO\n" in run.stdout
    assert "# stateDir = /var/lib/dataman\n" in run.stdout
    from_ini, from_yaml = load_config(converted), load_config(path)
    assert from_ini.server == from_yaml.server
    assert from_ini.paths == from_yaml.paths
    assert from_ini.processing == from_yaml.processing
    assert (from_ini.workers, from_ini.service, from_ini.site, from_ini.quality) == \
           (from_yaml.workers, from_yaml.service, from_yaml.site, from_yaml.quality)
    check = dataman("config", "--check", converted, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "read as the reference" not in check.stdout


def test_convert_of_an_ini_prints_it_unchanged(tmp_path):
    path = tmp_path / "dataman.ini"
    path.write_text("[server]\nport = 10400\n")
    run = dataman("config", "--convert", path, cwd=tmp_path)
    assert (run.returncode, run.stdout) == (0, "[server]\nport = 10400\n")
    assert "already in the dataman.ini format" in run.stderr


@pytest.mark.parametrize(("old", "new", "message"), [
    ("   fixTemps: Y", "\tfixTemps: Y", "line 19: fixTemps: indented with a tab"),
    ("makeOTM: Y", "makeOTM: maybe", "processing.makeOTM: 'maybe' is not a switch"),
    ("debug: False", "debug: False\nsimulate: Y", "simulate: unknown top-level key"),
    ("  ipPort: 10301", "  ipPort 10301", "line 6: ipPort: malformed YAML"),
])
@pytest.mark.parametrize("command", ["config --check", "config --convert", "run -c",
                                     "health -c"])
def test_bad_yaml_is_a_configuration_error_for_every_command(tmp_path, old, new, message,
                                                              command):
    path = write_reference_yaml(tmp_path)
    path.write_text(path.read_text().replace(old, new))
    run = dataman(*command.split(), path, cwd=tmp_path)
    assert run.returncode == 78, run.stderr
    assert f"{path}: {message}" in run.stderr
    assert "Traceback" not in run.stderr


def test_an_empty_file_is_a_configuration_error(tmp_path):
    path = tmp_path / "dataman.ini"
    path.write_text("")
    run = dataman("config", "--check", path, cwd=tmp_path)
    assert run.returncode == 78
    assert f"{path}: empty: no section and no key in it" in run.stderr
    assert "Traceback" not in run.stderr


def test_an_ini_file_is_read_without_importing_the_yaml_parser(tmp_path):
    # `dataman health` runs every few seconds from the status display: no import it can spare.
    path = tmp_path / "dataman.ini"
    path.write_text("[server]\nport = 10400\n")
    probe = ("import sys; from dataman.core.config import load_config; "
             f"load_config({str(path)!r}, check_dirs=False); print('yaml' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=False, timeout=60)
    assert (run.returncode, run.stdout) == (0, "False\n"), run.stderr


@pytest.mark.slow
def test_dataman_process_takes_the_yaml_file_too(tmp_path):
    from astropy.io import fits

    from tests.conftest import make_frame

    path = write_reference_yaml(tmp_path, make_otm="N")
    raw = make_frame(load_config(path), roi="1kx1k", binning=2)
    run = dataman("process", "-c", path, raw, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    with fits.open(tmp_path / "newdata" / raw.name) as hdus:
        assert "MERGED" not in [hdu.name for hdu in hdus]
