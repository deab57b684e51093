"""The reference dataMan's YAML configuration, as on mods1, with its folders moved into a test's.

Written from the reference's keys (``server``, ``paths``, ``processing``, ``debug``) and
the values of its MODS1 file; only the four paths and the port are the test's own.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATE = """\
#
# MODS data manager runtime config for MODS1 (YAML), as the reference reads it
#
server:
  ipAddr: "{host}"
  ipPort: {port}

# raw and destination image data paths, including logs

paths:
   dataDir: "{folder}/data"          # raw frames
   procDir: "{folder}/proc"          # processed frames
   repoDir: "{folder}/newdata"       # /newdata
   logDir:  "{folder}/log/"          # night logs

processing:
   fixDETSEC: Y   # fix DETSEC, CCDSEC and LTVn
   fixDateTime: Y
   fixTemps: Y
   fixMisc: Y
   makeOTM: {make_otm}

debug: False
"""


def write_reference_yaml(folder: Path, *, host: str = "192.168.139.130", port: int = 10301,
                         make_otm: str = "Y", name: str = "dataman_MODS1.ini") -> Path:
    """The file, with its four folders and the default stateDir (var/state) created."""
    for sub in ("data", "proc", "newdata", "log", "var/state"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(TEMPLATE.format(host=host, port=port, folder=folder, make_otm=make_otm))
    return path
