"""The reference dataMan's YAML configuration, read as it is and mapped to ``dataman.ini``.

The data manager dataMan replaces (v1.2.4, on mods1 and mods2) reads a YAML file
with four top-level keys: ``server`` (``ipAddr``, ``ipPort``), ``paths``
(``dataDir``, ``procDir``, ``repoDir``, ``logDir``), ``processing`` (the five
switches, written ``Y``/``N``) and ``debug``. An operator can point ``-c`` at that
file unchanged: :func:`to_sections` turns it into the sections of
``dataman.ini``, which then go through the same validation as any ini file.

Which format a file is in is decided by its first significant line (neither
blank nor a ``#`` comment): ``[section]`` or a ``key = value`` line is ini;
``key:`` with no ``=`` before the colon, or YAML's document start ``---``, is
YAML. A file with no significant line is empty, an error in either format
(:func:`is_empty`).

Within the three sections, the keys of ``dataman.ini``'s sections of the same
name are accepted besides the reference's, e.g. ``allowedSenders`` under
``server:``: the reference ignores keys it does not read, so both can run from
one file during a migration.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataman.core.errors import ConfigError

if TYPE_CHECKING:
    import yaml

#: reference key -> (section, dataman.ini key); ``debug`` is handled apart.
RENAMED = {
    ("server", "ipAddr"): ("server", "host"),
    ("server", "ipPort"): ("server", "port"),
    **{("paths", key): ("paths", key) for key in ("dataDir", "procDir", "repoDir", "logDir")},
    **{("processing", key): ("processing", key)
       for key in ("fixDETSEC", "fixDateTime", "fixTemps", "fixMisc", "makeOTM")},
}
#: dataman.ini keys also accepted in a YAML file, per section (the reference ignores them).
OURS = {
    "server": ("allowedSenders", "controlSocket", "hostid", "logLevel"),
    "paths": ("stateDir", "makeDirs"),
    "processing": ("biasColSkip", "biasRowSkip", "fsync"),
}
SECTIONS = ("server", "paths", "processing")
TOP_LEVEL = (*SECTIONS, "debug")
SWITCH_WORDS = {"y": True, "yes": True, "true": True, "on": True,
                "n": False, "no": False, "false": False, "off": False}

_SIGNIFICANT = re.compile(r"^\s*[^\s#]")
_YAML_KEY = re.compile(r"^[^\s=\[#][^=]*?:(\s|$)")
_KEY_ON_LINE = re.compile(r"^\s*([^\s:#]+)\s*:")


def _first_significant(text: str) -> str | None:
    return next((line for line in text.splitlines() if _SIGNIFICANT.match(line)), None)


def is_empty(text: str) -> bool:
    """Nothing but blank lines and comments."""
    return _first_significant(text) is None


def is_reference_yaml(text: str) -> bool:
    """The first significant line is a ``key:`` (YAML), not ``[section]`` or ``key = value``."""
    line = _first_significant(text)
    if line is None:
        return False
    return _YAML_KEY.match(line) is not None or line.rstrip() == "---"  # a document start


def to_sections(text: str, source: Path) -> dict[str, dict[str, Any]]:
    """The ``dataman.ini`` sections equivalent to the YAML ``text`` of ``source``.

    Values are strings or lists of strings, as configobj reads an ini file; keys
    the YAML lacks are left out (they take their defaults). Raises ``ConfigError``
    naming the file, the key and the reason.
    """
    document = parse(text, source)
    sections: dict[str, dict[str, Any]] = {}
    for name, value in document.items():
        if name == "debug":
            level = "DEBUG" if switch(value, source, "debug") else "INFO"
            sections.setdefault("server", {})["logLevel"] = level
            continue
        for key, item in value.items():
            section, ini_key = RENAMED.get((name, key), (name, key))
            sections.setdefault(section, {})[ini_key] = _ini_value(item, source, name, key)
    return sections


def parse(text: str, source: Path) -> dict[str, Any]:
    """The YAML document, checked to have the reference's shape (top-level keys, sections)."""
    import yaml  # here: `dataman health` reads dataman.ini and must start fast

    _refuse_tabs(text, source)
    try:
        document = yaml.load(text, Loader=_unique_key_loader())  # a SafeLoader
    except yaml.YAMLError as error:
        raise ConfigError(_yaml_error(error, text, source)) from None
    if not isinstance(document, dict):
        raise ConfigError(f"{source}: not a YAML mapping of server, paths, processing "
                          "and debug")
    problems = []
    for name, value in document.items():
        if name not in TOP_LEVEL:
            problems.append(f"{source}: {name}: unknown top-level key (known: "
                            f"{', '.join(TOP_LEVEL)})")
        elif name in SECTIONS and not isinstance(value, dict):
            problems.append(f"{source}: {name}: must hold keys (e.g. {name}:\\n  key: value),"
                            f" not {value!r}")
        elif name in SECTIONS:
            problems += [f"{source}: {name}.{key}: unknown key (known: "
                         f"{', '.join(_known(name))})"
                         for key in value if key not in _known(name)]
    if problems:
        raise ConfigError("\n".join(problems))
    return document


def _known(section: str) -> list[str]:
    return [key for (name, key) in RENAMED if name == section] + list(OURS[section])


def switch(value: object, source: Path, where: str) -> bool:
    """``Y``/``N``, ``yes``/``no``, ``True``/``False``, ``on``/``off``, any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in SWITCH_WORDS:
        return SWITCH_WORDS[value.strip().lower()]
    raise ConfigError(f"{source}: {where}: {value!r} is not a switch; write Y or N "
                      "(yes/no and True/False are read too)")


def _ini_value(value: object, source: Path, section: str, key: str) -> str | list[str]:
    """A YAML scalar or list as configobj's validator expects it (text)."""
    where = f"{section}.{key}"
    if section == "processing" and (section, key) in RENAMED:
        return str(switch(value, source, where))
    if isinstance(value, list) and all(_is_scalar(item) for item in value):
        return [str(item) for item in value]
    if _is_scalar(value) and value is not None:
        return str(value)
    raise ConfigError(f"{source}: {where}: {value!r} is not a single value")


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool)


def _refuse_tabs(text: str, source: Path) -> None:
    """YAML indents with spaces only; say which line and key, not the scanner's words."""
    for number, line in enumerate(text.splitlines(), 1):
        indent = line[:len(line) - len(line.lstrip())]
        if "\t" in indent and line.strip() and not line.lstrip().startswith("#"):
            key = _KEY_ON_LINE.match(line)
            raise ConfigError(f"{source}: line {number}: {key[1] if key else line.strip()}: "
                              "indented with a tab; YAML indents with spaces only")


def _yaml_error(error: yaml.YAMLError, text: str, source: Path) -> str:
    """File, line, the key on that line and the parser's reason."""
    mark = getattr(error, "problem_mark", None)
    reason = getattr(error, "problem", None) or str(error)
    if mark is None:
        return f"{source}: cannot read as YAML: {reason}"
    lines = text.splitlines()
    context = getattr(error, "context_mark", None)
    number = min((context or mark).line, len(lines) - 1)
    line = lines[number] if lines else ""
    key = _KEY_ON_LINE.match(line)
    name = key[1] if key else (line.split() or ["?"])[0]
    return f"{source}: line {number + 1}: {name}: malformed YAML: {reason}"


@cache
def _unique_key_loader() -> type[yaml.SafeLoader]:
    """The safe loader, refusing a key given twice (PyYAML keeps the last silently)."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: yaml.MappingNode,
                              deep: bool = False) -> dict[Any, Any]:
            seen: set[object] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"{key} is given twice", key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader
