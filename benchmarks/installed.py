"""The ``dataman`` command as an operator's installation runs it, for timing commands.

The checkout's ``.venv`` holds dataMan as an *editable* install: every interpreter
start runs setuptools' import finder (about 30 ms: it imports pathlib and
importlib.util), and where ``PYTHONDONTWRITEBYTECODE`` is set no bytecode is ever
cached, so each command compiles its modules again. Neither is true of the service
host, where ``pip install .`` puts the package and its compiled bytecode in
``/opt/dataman``. So commands are timed in a throwaway environment built like
that: a wheel of this checkout, installed with pip (which compiles it) into a fresh
venv whose only other path is the checkout venv's site-packages, for the
dependencies.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path


def installed_command(work: Path) -> tuple[list[str], str]:
    """(argv prefix of the installed ``dataman``, what it is); the checkout's script,
    with the reason, if the wheel cannot be built here."""
    repo = Path(__file__).resolve().parents[1]
    wheels, venv = work / "wheel", work / "installed"
    try:
        run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
             str(repo)])
        run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
        python = venv / "bin" / "python"
        site = Path(run([str(python), "-c", "import sysconfig; "
                         "print(sysconfig.get_path('purelib'))"]).strip())
        (site / "dataman-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
        run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
             *map(str, wheels.glob("mods_dataman-*.whl"))])
    except (subprocess.CalledProcessError, OSError) as error:
        script = Path(sys.executable).with_name("dataman")
        return [str(script)], f"the checkout's editable script (no wheel: {error})"
    return [str(python), str(site / "bin" / "dataman")], "a pip-installed wheel (bytecode compiled)"


def checkout_command() -> list[str]:
    """The checkout venv's ``dataman`` script (editable install)."""
    script = Path(sys.executable).with_name("dataman")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dataman"]


def run(argv: list[str]) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout
