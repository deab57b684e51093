"""The shadow switches: ``[server] port = 0`` (no UDP) and ``[service] deliver = False``."""

import pytest

from dataman.core.config import load_config
from dataman.core.errors import ConfigError
from tests.conftest import REPO, write_config


def test_the_shipped_shadow_configuration_has_no_udp_port_and_no_delivery():
    config = load_config(REPO / "systemd" / "shadow.ini", check_dirs=False)
    assert config.server.port == 0
    assert config.service.deliver is False
    assert config.service.scan_interval == 10.0
    assert config.paths.state_dir.name == "dataman-shadow"


def test_delivery_is_on_by_default(tmp_path):
    assert load_config(write_config(tmp_path)).service.deliver is True


def test_no_udp_port_without_a_scan_is_refused_naming_both_keys(tmp_path):
    path = write_config(tmp_path, server={"port": 0}, service={"scanInterval": 0})
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (f"{path}: [server] port = 0 (no UDP) needs [service] "
                                "scanInterval above 0: without datagrams, the scan is what "
                                "finds the frames")


def test_make_dirs_leaves_repo_dir_alone_in_shadow_mode(tmp_path):
    config = load_config(write_config(tmp_path, service={"deliver": False}))
    assert config.paths.proc_dir.is_dir() and config.paths.state_dir.is_dir()
    assert not config.paths.repo_dir.exists()


def test_the_guide_shows_the_shipped_shadow_configuration(tmp_path):
    guide = (REPO / "systemd" / "README.md").read_text()
    night = guide[guide.index("## Shadow night"):]
    block = night[night.index("```ini\n") + 7:]
    (tmp_path / "shadow.ini").write_text(block[:block.index("```")])
    shown = load_config(tmp_path / "shadow.ini", check_dirs=False)
    shipped = load_config(REPO / "systemd" / "shadow.ini", check_dirs=False)
    for part in ("server", "paths", "service"):
        assert getattr(shown, part) == getattr(shipped, part), part
