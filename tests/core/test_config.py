"""dataman.ini: defaults, validation messages with file, key and reason, exit status 78."""

import subprocess
import sys
from pathlib import Path

import pytest

from dataman.core import config as config_module
from dataman.core.config import (
    PACKAGED_CONFIG,
    find_config,
    load_config,
    snake_case,
    with_synced_writes,
)
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
    (tmp_path / "empty.ini").write_text("[server]\n")
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


@pytest.mark.parametrize(("value", "expected"), [
    ("10.99.0.0/16", ("10.99.0.0/16",)),           # one network, no comma
    ("192.168.1.5", ("192.168.1.5",)),             # one address, no comma
    ("fd00:1::/64", ("fd00:1::/64",)),
    ("192.168.1.5,", ("192.168.1.5",)),            # the trailing comma still works
    ("192.168.1.5, 10.99.0.0/16", ("192.168.1.5", "10.99.0.0/16")),
])
def test_allowed_senders_take_one_entry_or_a_list(tmp_path, value, expected):
    config = load_config(write_config(tmp_path, server={"allowedSenders": value}))
    assert config.server.allowed_senders == expected


def test_every_bad_allowed_sender_is_named_with_the_key(tmp_path):
    path = write_config(tmp_path, server={
        "allowedSenders": "999.1.1.1, 127.0.0.1, banana, 10.0.0.7/24, ::ffff:10.1.2.3"})
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (
        f"{path}: [server] allowedSenders: 4 bad entries:"
        " '999.1.1.1' (not an IP address or CIDR network),"
        " 'banana' (not an IP address or CIDR network),"
        " '10.0.0.7/24' (host bits set; the network is 10.0.0.0/24),"
        " '::ffff:10.1.2.3' (IPv4-mapped, write it as an IPv4 address or network)")


@pytest.mark.parametrize(("value", "reason"), [
    (",", "no address or network given (every datagram would be dropped)"),
    ('""', "1 bad entry: '' (empty entry)"),
    ("camera-host", "1 bad entry: 'camera-host' (not an IP address or CIDR network)"),
])
def test_an_empty_or_single_bad_allowed_senders_value_is_reported(tmp_path, value, reason):
    path = write_config(tmp_path, server={"allowedSenders": value})
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == f"{path}: [server] allowedSenders: {reason}"


def test_snake_case_of_operator_keys():
    assert snake_case("dataDir") == "data_dir"
    assert snake_case("fixDETSEC") == "fix_detsec"
    assert snake_case("makeOTM") == "make_otm"
    assert snake_case("utcOffset") == "utc_offset"


# --- which file: -c, $DATAMAN_CONFIG, ./dataman.ini, /etc/dataman/dataman.ini, packaged ---

@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """An empty current folder, no $DATAMAN_CONFIG, a system configuration path in tmp,
    and a HOME of its own: nothing for the lookup to find."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("DATAMAN_CONFIG", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(config_module, "SYSTEM_CONFIG", tmp_path / "etc" / "dataman.ini")
    return tmp_path


def test_lookup_falls_back_to_the_packaged_default(nowhere):
    path, why = find_config()
    assert path == PACKAGED_CONFIG
    assert PACKAGED_CONFIG.is_file()
    assert why.startswith("the packaged default")
    assert str(nowhere / "home" / ".local" / "state" / "dataman") in why


def test_lookup_order_system_then_current_folder_then_variable_then_option(nowhere,
                                                                          monkeypatch):
    system = write_config(nowhere / "etc")
    assert find_config() == (system, "the system configuration")
    local = write_config(nowhere / "work")
    assert find_config() == (Path("dataman.ini"), "found in the current folder")
    assert Path("dataman.ini").resolve() == local
    monkeypatch.setenv("DATAMAN_CONFIG", str(nowhere / "named.ini"))
    assert find_config() == (nowhere / "named.ini", "from $DATAMAN_CONFIG")
    assert find_config(nowhere / "option.ini") == (nowhere / "option.ini", "given with -c")


def test_a_named_file_that_does_not_exist_is_an_error_not_skipped(nowhere, monkeypatch):
    monkeypatch.setenv("DATAMAN_CONFIG", str(nowhere / "typo.ini"))
    path, _ = find_config()
    with pytest.raises(ConfigError, match=r"typo\.ini: no such configuration file"):
        load_config(path)


def test_packaged_default_keeps_every_folder_under_the_user_folder(nowhere, monkeypatch):
    config = load_config(PACKAGED_CONFIG, check_dirs=False)
    base = nowhere / "home" / ".local" / "state" / "dataman"
    assert (config.paths.data_dir, config.paths.proc_dir, config.paths.repo_dir,
            config.paths.log_dir, config.paths.state_dir) == (
        base / "data", base / "proc", base / "newdata", base / "log", base / "state")
    assert config.paths.make_dirs is True
    assert config.server.control_socket == base / "state" / "dataman.sock"
    monkeypatch.setenv("XDG_STATE_HOME", str(nowhere / "xdg"))
    config = load_config(PACKAGED_CONFIG, check_dirs=False)
    assert config.paths.state_dir == nowhere / "xdg" / "dataman" / "state"


def test_sections_missing_from_the_file_are_named_and_marked(tmp_path):
    path = tmp_path / "partial.ini"
    path.write_text("[paths]\nmakeDirs = True\n[processing]\n"
                    "[temperatures]\n[[MODS1B]]\nccd = X\n")
    config = load_config(path, check_dirs=False)
    assert config.defaulted == ("[server]", "[workers]", "[service]", "[site]",
                                "[temperatures][MODS1R]", "[temperatures][MODS2B]",
                                "[temperatures][MODS2R]", "[quality]")
    assert "# [workers]: not in the file, every key at its default\n[workers]\n" in config.text
    assert "# [temperatures][MODS2B]: not in the file" in config.text
    assert "# [processing]:" not in config.text  # present, though empty
    assert load_config(write_config(tmp_path / "full"), check_dirs=False).defaulted == (
        "[processing]", "[workers]", "[service]", "[site]", "[temperatures]", "[quality]")


def test_synced_writes_turn_fsync_on_and_leave_the_rest(config):
    synced = with_synced_writes(config)
    assert (config.processing.fsync, synced.processing.fsync) == (False, True)
    assert synced.paths == config.paths and synced.workers == config.workers
