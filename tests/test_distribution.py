"""The distribution is ours on a package index: `mods-dataman`, not `dataman` (an unrelated
2020 project there), and no install line in the documentation installs the other one."""

from __future__ import annotations

import re
import tomllib

import pytest

from tests.conftest import REPO

PAGES = sorted({REPO / "README.md", REPO / "systemd" / "README.md",
                *(REPO / "docs").glob("*.md")})
#: `pip install` and what follows on the line, options left out.
INSTALL = re.compile(r"pip install((?:\s+-\S+)*)\s+(\S+)")


def test_the_distribution_name_is_mods_dataman_and_the_commands_stay():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["name"] == "mods-dataman"
    assert set(project["scripts"]) == {"dataman", "dataman-console"}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_every_install_line_installs_this_project_from_a_path(page):
    for _, target in INSTALL.findall(page.read_text()):
        target = target.strip("'\"`")
        name = re.split(r"[\[=<>@ ]", target)[0]
        assert name.startswith(("/", ".", "~")) or name == "mods-dataman", \
            f"{page.name}: pip install {target}"
