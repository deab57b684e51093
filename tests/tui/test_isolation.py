"""Only ``dataman.tui`` imports textual: the service, the core and the CLI never do."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import importlib, pkgutil, sys
import dataman
for package in ("dataman.core", "dataman.ipc", "dataman.service", "dataman.batch",
                "dataman.sim", "dataman.commands"):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
importlib.import_module("dataman.cli")
print(sorted(name for name in sys.modules if name.split(".")[0] == "textual"))
"""


def test_nothing_outside_tui_imports_textual():
    probe = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                           timeout=120, check=True)
    assert probe.stdout.strip() == "[]", probe.stdout
