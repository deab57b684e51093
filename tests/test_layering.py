"""The layers point one way: core <- ipc <- sim <- service <- commands, and core <- ipc <- tui.

Every import of every module of the package is read from its source (``ast``, also
the imports inside functions and under ``TYPE_CHECKING``), so a layer that reaches
upwards fails here, not months later as a slow start or an import cycle.

Where ``sim`` sits: the simulated camera writes raw frames (``core``) and sends
datagrams (``ipc``); the service imports it for one thing, the synthetic frame each
worker warms up on before its hello (``service/warmup.py``). So ``sim`` lies between
``ipc`` and ``service``, and must never import the service or a command.

The console (``tui``) talks to the service only through the control socket, so it
imports ``core`` and ``ipc`` alone; ``textual`` is imported by ``tui`` and nothing else.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dataman"

#: Layer → the layers of ``dataman`` it may import (besides itself and the package root,
#: whose ``__init__`` holds only the version).
ALLOWED = {
    "core": set(),
    "ipc": {"core"},
    "sim": {"core", "ipc"},
    "service": {"core", "ipc", "sim"},
    "batch": {"core", "ipc"},  # dataman process: beside service, never through it
    "tui": {"core", "ipc"},
    "commands": {"core", "ipc", "sim", "service", "batch"},
    "cli": {"commands"},  # cli.py and __main__.py: the entry points
}
#: Third-party packages only one layer may import.
ONLY_IN = {"textual": "tui"}


def layer_of(path: Path) -> str:
    """``dataman/<layer>/...`` → ``layer``; the top-level modules are the ``cli`` layer."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else "cli"


def imported_modules(path: Path, source: str) -> list[tuple[int, str]]:
    """Every absolute module name the module at ``path`` imports, with its line
    (relative imports are resolved against the module's own package)."""
    tree = ast.parse(source, filename=str(path))
    package = ".".join(("dataman", *path.relative_to(PACKAGE).parent.parts))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            if base == "dataman":  # `from dataman import service`: the names are layers
                found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
    return found


def violations(path: Path, source: str | None = None) -> list[str]:
    """What ``path`` imports against the layering, as ``file:line: layer imports module``."""
    layer, problems = layer_of(path), []
    text = path.read_text() if source is None else source
    for line, module in imported_modules(path, text):
        parts = module.split(".")
        where = f"{path.relative_to(PACKAGE.parent)}:{line}: {layer} imports {module}"
        if parts[0] == "dataman" and len(parts) > 1 and parts[1] in ALLOWED:
            target = parts[1] if (PACKAGE / parts[1]).is_dir() else "cli"
            if target != layer and target not in ALLOWED.get(layer, set()):
                problems.append(where)
        elif parts[0] in ONLY_IN and ONLY_IN[parts[0]] != layer:
            problems.append(where)
    return problems


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_known_layer():
    assert {layer_of(path) for path in MODULES} == set(ALLOWED)


def test_no_layer_imports_upwards():
    problems = [problem for path in MODULES for problem in violations(path)]
    assert problems == []


@pytest.mark.parametrize(("source", "expected"), [
    ("from dataman.service.health import duration\n", ["dataman.service.health"]),
    ("from dataman.commands import send\n", ["dataman.commands"]),
    ("def f():\n    from dataman.service import health\n", ["dataman.service"]),
    ("from ..service import health\n", ["dataman.service"]),
    ("import dataman.sim.frames\n", ["dataman.sim.frames"]),
    ("import textual.app\nfrom dataman.ipc import control\nfrom dataman.core import names\n",
     []),
    ("from . import format\n", []),
    ("from dataman import service\n", ["dataman.service"]),
    ("from .. import service\n", ["dataman.service"]),
    ("from dataman import __version__, ipc\n", []),
])
def test_the_check_sees_an_upward_import(source: str, expected: list[str]):
    """The checker itself, on a console module: importing the service, a command or the
    simulator is caught, also inside a function or relative; ``ipc``, ``core`` and
    ``textual`` are not."""
    found = violations(PACKAGE / "tui" / "probe.py", source)
    assert [problem.split(" imports ", 1)[1] for problem in found] == expected


@pytest.mark.parametrize(("layer", "module"), [
    ("core", "dataman.ipc.slots"),
    ("core", "dataman.service.journal"),
    ("core", "dataman.sim.frames"),
    ("ipc", "dataman.service.worker_process"),
    ("ipc", "dataman.sim.camera"),
    ("sim", "dataman.commands.send"),
    ("service", "dataman.tui.format"),
    ("service", "dataman.commands.common"),
    ("service", "textual.widgets"),
    ("commands", "textual"),
    ("commands", "dataman.tui.app"),
])
def test_each_forbidden_edge_is_reported(layer: str, module: str):
    found = violations(PACKAGE / layer / "probe.py", f"import {module}\n")
    assert found == [f"dataman/{layer}/probe.py:1: {layer} imports {module}"]


@pytest.mark.parametrize(("module", "absent"), [
    ("dataman.core.pipeline", {"textual", "dataman.service", "dataman.ipc"}),
    ("dataman.ipc.mappings", {"textual", "dataman.service", "dataman.core.pipeline"}),
    ("dataman.service.supervisor", {"textual"}),
])
def test_importing_a_layer_does_not_load_what_is_above_it(module: str, absent: set[str]):
    """In a fresh interpreter, as a worker or ``dataman process`` starts."""
    script = (f"import sys, {module}\n"
              f"print(sorted(m for m in {sorted(absent)!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "[]"
