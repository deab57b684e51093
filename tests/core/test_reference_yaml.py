"""The reference dataMan's YAML file read by load_config: detection, mapping, precise errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dataman.core.config import load_config
from dataman.core.errors import ConfigError
from dataman.core.reference_yaml import is_reference_yaml, switch
from tests.reference_yaml_fixture import write_reference_yaml


@pytest.mark.parametrize(("text", "yaml"), [
    ("server:\n  ipAddr: x\n", True),
    ("# comment\n\n   \ndebug: False\n", True),
    ("server: {ipAddr: x}\n", True),
    ("---\nserver:\n  ipAddr: x\n", True),
    ("[server]\nhost = x\n", False),
    ("# a: b\n[paths]\n", False),
    ("hostid = a:b\n", False),  # a top-level ini key whose value holds a colon
    ("", False),
])
def test_the_first_significant_line_tells_the_format(text, yaml):
    assert is_reference_yaml(text) is yaml


@pytest.mark.parametrize(("value", "on"), [
    ("Y", True), ("y", True), ("N", False), ("n", False), ("yes", True), ("NO", False),
    ("True", True), ("false", False), ("On", True), ("off", False), (True, True),
    (False, False),
])
def test_switch_words_in_any_case(value, on):
    assert switch(value, Path("f"), "processing.makeOTM") is on


def test_the_deployments_file_maps_key_by_key(tmp_path):
    config = load_config(write_reference_yaml(tmp_path, make_otm="N"))
    assert (config.server.host, config.server.port) == ("192.168.139.130", 10301)
    assert config.paths.data_dir == tmp_path / "data"
    assert config.paths.proc_dir == tmp_path / "proc"
    assert config.paths.repo_dir == tmp_path / "newdata"
    assert config.paths.log_dir == tmp_path / "log"
    processing = config.processing
    assert (processing.fix_detsec, processing.fix_date_time, processing.fix_temps,
            processing.fix_misc, processing.make_otm) == (True, True, True, True, False)
    assert config.server.log_level == "INFO"
    # What the reference did not have takes the defaults of dataman.ini.
    assert config.server.allowed_senders == ("127.0.0.1", "::1")
    assert config.paths.state_dir == tmp_path / "var" / "state"
    assert config.workers.count == 2


def test_debug_true_is_the_debug_log_level(tmp_path):
    path = write_reference_yaml(tmp_path)
    path.write_text(path.read_text().replace("debug: False", "debug: True"))
    assert load_config(path).server.log_level == "DEBUG"


def test_our_keys_are_accepted_in_the_reference_sections(tmp_path):
    path = write_reference_yaml(tmp_path)
    path.write_text(path.read_text().replace(
        "  ipPort: 10301\n",
        "  ipPort: 10301\n  allowedSenders: [127.0.0.1, 192.168.139.131, 10.9.0.0/16]\n"))
    config = load_config(path)
    assert config.server.allowed_senders == ("127.0.0.1", "192.168.139.131", "10.9.0.0/16")


def test_a_value_of_the_wrong_type_names_the_ini_key(tmp_path):
    path = write_reference_yaml(tmp_path)
    path.write_text(path.read_text().replace("ipPort: 10301", "ipPort: ten"))
    with pytest.raises(ConfigError, match=r": \[server\] port: .*wrong type"):
        load_config(path)


BAD = {
    "tab": (("   fixTemps: Y", "\tfixTemps: Y"), "line 19: fixTemps: indented with a tab"),
    "maybe": (("makeOTM: Y", "makeOTM: maybe"),
              "processing.makeOTM: 'maybe' is not a switch; write Y or N"),
    "unknown top-level key": (("debug: False", "debug: False\nverbose: True"),
                              "verbose: unknown top-level key"),
    "unknown key": (("fixMisc: Y", "fixMisk: Y"), "processing.fixMisk: unknown key"),
    "key without a colon": (("  ipPort: 10301", "  ipPort 10301"),
                            "line 6: ipPort: malformed YAML: could not find expected ':'"),
    "key twice": (("  ipPort: 10301", "  ipPort: 10301\n  ipPort: 10302"),
                  "line 7: ipPort: malformed YAML: ipPort is given twice"),
    "section not a mapping": (("server:\n  ipAddr: \"192.168.139.130\"\n  ipPort: 10301",
                               "server: 10301"), "server: must hold keys"),
    "a mapping for a value": (('procDir: "', 'procDir: {a: 1}  # "'),
                              "paths.procDir: {'a': 1} is not a single value"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_file_and_key(tmp_path, case):
    (old, new), message = BAD[case]
    path = write_reference_yaml(tmp_path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert f"{path}: " in str(error.value)
    assert message in str(error.value)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n#---\n"])
def test_an_empty_file_is_refused(tmp_path, text):
    path = tmp_path / "dataman.ini"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"^{path}: empty: no section and no key"):
        load_config(path)


def test_the_converted_ini_of_a_file_loads_to_the_same_configuration(tmp_path):
    from dataman.commands.config_mapping import converted_ini, mapping_notes

    yaml_path = write_reference_yaml(tmp_path, make_otm="N")
    from_yaml = load_config(yaml_path)
    text = yaml_path.read_text()
    ini_path = tmp_path / "dataman.ini"
    ini_path.write_text(converted_ini(text, yaml_path, mapping_notes(text, yaml_path,
                                                                     from_yaml)))
    from_ini = load_config(ini_path)
    assert not is_reference_yaml(ini_path.read_text())
    assert dataclasses.replace(from_ini, source=yaml_path) == from_yaml


def test_debug_true_puts_debug_lines_in_the_night_log(tmp_path):
    import logging

    from dataman.commands.logs import setup_logging

    path = write_reference_yaml(tmp_path)
    path.write_text(path.read_text().replace("debug: False", "debug: True"))
    logger = logging.getLogger("dataman")
    saved = (logger.level, list(logger.handlers), logger.propagate)
    try:
        setup_logging(load_config(path))
        logger.debug("a detail for finding bugs")
        for handler in logger.handlers:
            handler.flush()
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(saved[0])
        logger.propagate = saved[2]
        for handler in saved[1]:
            logger.addHandler(handler)
    logs = list((tmp_path / "log").glob("*dm.*.txt"))
    assert len(logs) == 1
    assert " | DEBUG | a detail for finding bugs" in logs[0].read_text()
