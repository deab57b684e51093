"""The examples in the docstrings run, and importing a module to find them starts nothing.

Every module of the package is imported (``__main__`` modules excepted: running
them is their purpose) and its examples are run with plain ``doctest``; a
module that gains examples is picked up without listing it here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys
from types import ModuleType

import pytest

import dataman

#: Modules that carried examples when this test was written; fewer means some were lost.
KNOWN_WITH_EXAMPLES = 15


def module_names() -> list[str]:
    return sorted(info.name for info in pkgutil.walk_packages(dataman.__path__, "dataman.")
                  if not info.name.endswith(".__main__"))


def examples(module: ModuleType) -> list[doctest.DocTest]:
    return [test for test in doctest.DocTestFinder().find(module) if test.examples]


def modules_with_examples() -> list[str]:
    return [name for name in module_names() if examples(importlib.import_module(name))]


WITH_EXAMPLES = modules_with_examples()


def test_the_examples_are_found():
    assert len(WITH_EXAMPLES) >= KNOWN_WITH_EXAMPLES, WITH_EXAMPLES
    assert "dataman.core.detsec" in WITH_EXAMPLES  # LTV, worked out in docs/processing.md


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_pass(name: str):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    for test in examples(module):
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, "".join(report)


IMPORT_ALL = """
import importlib, multiprocessing, pkgutil, sys, threading
import dataman
for info in pkgutil.walk_packages(dataman.__path__, "dataman."):
    if not info.name.endswith(".__main__"):
        importlib.import_module(info.name)
print(threading.active_count(), len(multiprocessing.active_children()))
"""


def test_importing_every_module_starts_nothing():
    # No thread, no child process, nothing printed: a module that did something at import
    # would do it for every doctest run and every `dataman` command.
    run = subprocess.run([sys.executable, "-c", IMPORT_ALL], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "1 0\n"
    assert run.stderr == ""
