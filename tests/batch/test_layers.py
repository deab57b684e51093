"""``dataman.batch`` sits beside the service: it uses core and ipc, never the service, the
console or the command line, and Dask stays optional (imported only for ``--scheduler``)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import importlib, pkgutil, sys
import dataman.batch
for info in pkgutil.walk_packages(dataman.batch.__path__, "dataman.batch."):
    importlib.import_module(info.name)
print(sorted({name.split(".")[0] if not name.startswith("dataman.") else
              ".".join(name.split(".")[:2]) for name in sys.modules
              if name.startswith(("dataman.", "distributed", "dask", "textual"))}))
"""


def test_batch_imports_only_core_and_ipc_and_not_dask():
    probe = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                           timeout=120, check=True)
    assert probe.stdout.strip() == "['dataman.batch', 'dataman.core', 'dataman.ipc']", \
        probe.stdout
