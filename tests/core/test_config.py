"""dataman.ini: defaults, validation messages with file, key and reason, exit status 78."""

import subprocess
import sys

import pytest

from dataman.core.config import load_config, snake_case
from dataman.core.errors import ConfigError
from tests.conftest import REPO, write_config


def test_embedded_default_loads_with_documented_values():
    config = load_config(REPO / "dataman.ini", check_dirs=False)
    assert config.server.port == 10301
    assert config.processing.bias_col_skip == 2 and config.processing.bias_row_skip == 2
    assert config.paths.data_dir == REPO / "var" / "data"
    assert config.site.longitude == pytest.approx(109.88906)
    assert config.temperatures["MODS1B"].ccd == "MOD10/TEMPB"
    assert config.temperatures["MODS2R"].ccd == "MOD10/TEMPA"
    assert config.temperatures["MODS2R"].backplane == "BACKPLANE_TEMP"


def test_every_key_has_a_default(tmp_path):
    (tmp_path / "empty.ini").write_text("")
    config = load_config(tmp_path / "empty.ini", check_dirs=False)
    assert config.workers.count == 2
    assert config.processing.make_otm is True
    assert config.server.allowed_senders == ("127.0.0.1", "::1")


@pytest.mark.parametrize(("workers", "slots"), [({}, 2), ({"count": 3}, 3),
                                                ({"count": 3, "slots": 0}, 3),
                                                ({"count": 1, "slots": 2}, 2)])
def test_slots_default_to_one_per_worker(tmp_path, workers, slots):
    config = load_config(write_config(tmp_path, workers=workers), check_dirs=False)
    assert config.workers.slots == slots


def test_wrong_type_names_file_key_and_reason(tmp_path):
    path = write_config(tmp_path, server={"port": "abc"})
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert f"{path}: [server] port:" in str(error.value)
    assert "wrong type" in str(error.value)


def test_out_of_range_value_is_reported(tmp_path):
    path = write_config(tmp_path, processing={"biasColSkip": 40})
    with pytest.raises(ConfigError, match=r"\[processing\] biasColSkip: .*too big"):
        load_config(path)


def test_unknown_key_and_section_are_reported(tmp_path):
    path = write_config(tmp_path, paths={"dataDri": "x"}, bogus={"a": 1})
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "[paths] dataDri: unknown key" in str(error.value)
    assert "bogus: unknown key or section" in str(error.value)


def test_missing_directory_is_reported_unless_makedirs(tmp_path):
    path = write_config(tmp_path, paths={"makeDirs": False})
    with pytest.raises(ConfigError, match=r"\[paths\] dataDir: directory .* does not exist"):
        load_config(path)
    config = load_config(write_config(tmp_path))
    assert config.paths.proc_dir.is_dir() and config.paths.repo_dir.is_dir()


def test_relative_paths_are_relative_to_the_file(tmp_path):
    config = load_config(write_config(tmp_path))
    assert config.paths.log_dir == tmp_path / "log"
    assert config.server.control_socket == tmp_path / "state" / "dataman.sock"


def test_config_check_prints_effective_values_and_exits_78_on_error(tmp_path):
    good = write_config(tmp_path)
    run = subprocess.run([sys.executable, "-m", "dataman", "config", "--check", str(good)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "port = 10301" in run.stdout and "biasRowSkip = 2" in run.stdout
    bad = write_config(tmp_path, workers={"count": "many"})
    run = subprocess.run([sys.executable, "-m", "dataman", "config", "--check", str(bad)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 78
    assert "[workers] count" in run.stderr


def test_snake_case_of_operator_keys():
    assert snake_case("dataDir") == "data_dir"
    assert snake_case("fixDETSEC") == "fix_detsec"
    assert snake_case("makeOTM") == "make_otm"
    assert snake_case("utcOffset") == "utc_offset"
