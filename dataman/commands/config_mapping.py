"""What became of each key of the reference dataMan's YAML file, for ``dataman config``.

``config --check`` on such a file lists every key: *mapped* (the reference's key
and the ``dataman.ini`` key it became), *defaulted* (keys the reference did not
have, at their defaults) and *decide* (where taking the file as it is would not
do what the operator expects). ``config --convert`` prints the ``dataman.ini``
that loads to the same configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from configobj import ConfigObj

from dataman.core.config import Config
from dataman.core.nightlog import default_hostid
from dataman.core.reference_yaml import OURS, RENAMED, parse, to_sections

#: Sections the reference has no counterpart of: every key at its default.
NEW_SECTIONS = ("workers", "service", "site", "temperatures", "quality")


@dataclass(frozen=True)
class Note:
    kind: str  # "mapped", "defaulted" or "DECIDE"
    text: str
    #: For a decision: its section and the commented lines --convert writes above it.
    section: str = ""
    ini_hint: tuple[str, ...] = ()


def mapping_notes(text: str, source: Path, config: Config) -> list[Note]:
    """One note per key of the file and per key of ``dataman.ini`` it lacks."""
    document = parse(text, source)
    notes = [_mapped(section, key, value)
             for section, keys in document.items() if isinstance(keys, dict)
             for key, value in keys.items()]
    if "debug" in document:
        notes.append(Note("mapped", f"debug = {document['debug']}  ->  [server] logLevel = "
                                    f"{config.server.log_level}"))
    given = {(section, key) for section, keys in document.items() if isinstance(keys, dict)
             for key in keys}
    if "debug" in document:
        given.add(("server", "logLevel"))
    notes += [Note("defaulted", f"{section}.{key}: not in the file  ->  [{ini[0]}] {ini[1]} "
                                "at its default")
              for (section, key), ini in RENAMED.items() if (section, key) not in given]
    notes += _switches_read_as_text(document)
    notes += _our_keys(given, config)
    notes += [Note("defaulted", f"[{name}]: every key at its default (the reference had none)")
              for name in NEW_SECTIONS]
    return notes


def _mapped(section: str, key: str, value: object) -> Note:
    ini_section, ini_key = RENAMED.get((section, key), (section, key))
    return Note("mapped", f"{section}.{key} = {value}  ->  [{ini_section}] {ini_key}")


def _switches_read_as_text(document: dict) -> list[Note]:
    """``N`` switches a step off here; the reference ran the step anyway.

    YAML reads ``N`` (unlike ``no`` or ``False``) as text, and the reference
    tested the text's truth: any non-empty text, ``N`` included, meant on.
    """
    switches = document.get("processing") or {}
    return [Note("DECIDE", f"processing.{key} = {value}: the step is OFF here, but the "
                           "reference ran it (YAML reads N as text, which it took as true); "
                           f"write {key}: Y to keep what ran until now", "processing",
                 (f"DECIDE: {key} = False, as written, but the reference ran this step",
                  f"(it took the text N as true); {key} = True keeps what ran until now"))
            for key, value in switches.items()
            if isinstance(value, str) and value.strip().lower() == "n"]


def _our_keys(given: set[tuple[str, str]], config: Config) -> list[Note]:
    """The keys of [server], [paths], [processing] the reference lacks and the file omits."""
    notes = []
    if ("server", "allowedSenders") not in given:
        notes.append(Note("DECIDE", _senders_note(config), "server", (
            "DECIDE: the reference obeyed a datagram from anyone; dataMan only these senders.",
            "Add the Archon servers azcam sends from (addresses or a network), e.g.",
            f"allowedSenders = {', '.join(config.server.allowed_senders)}, 192.168.139.0/24")))
    if ("paths", "stateDir") not in given:
        notes.append(Note("DECIDE", f"[paths] stateDir = {config.paths.state_dir}: the "
                                    "journal and control socket live there (the reference kept "
                                    "no state); as a systemd service use /var/lib/dataman: "
                                    "stateDir: /var/lib/dataman under paths:", "paths",
                          ("DECIDE: journal and control socket (the reference kept no state);",
                           "as a systemd service:", "stateDir = /var/lib/dataman")))
    if ("server", "hostid") not in given:
        notes.append(Note("defaulted", f"[server] hostid = '' (the host name's first five "
                                       f"characters, {default_hostid()!r} here, as the "
                                       "reference): the night log keeps its name"))
    skipped = {("server", "allowedSenders"), ("paths", "stateDir"), ("server", "hostid")}
    notes += [Note("defaulted", f"[{section}] {key} at its default")
              for section, keys in OURS.items() for key in keys
              if (section, key) not in given | skipped]
    return notes


def _senders_note(config: Config) -> str:
    heard = ", ".join(config.server.allowed_senders)
    return (f"[server] allowedSenders = {heard}: the reference obeyed a datagram from anyone; "
            f"dataMan obeys only these senders and drops (and logs) the others, so azcam on "
            "the Archon servers is NOT heard until its addresses are added: under server: "
            "write allowedSenders: [127.0.0.1, <Archon server address>, ...] (a network such "
            "as 192.168.139.0/24 works too; the reference ignores the key)")


def print_notes(notes: list[Note]) -> None:
    print("# read as the reference dataMan's YAML format; what each key became:")
    for note in notes:
        print(f"#   {note.kind:<9}  {note.text}")
    decisions = sum(note.kind == "DECIDE" for note in notes)
    if decisions:
        print(f"# {decisions} {'key needs' if decisions == 1 else 'keys need'} a decision "
              "(DECIDE above)")


def converted_ini(text: str, source: Path, notes: list[Note]) -> str:
    """The ``dataman.ini`` equivalent to the YAML ``text``: the keys it sets, decisions noted."""
    sections = to_sections(text, source)
    decisions = [note for note in notes if note.kind == "DECIDE"]
    for note in decisions:
        sections.setdefault(note.section, {})
    ini = ConfigObj(sections)
    ini.indent_type = ""
    ini.initial_comment = [
        f"# dataman.ini converted from {source} (the reference dataMan's YAML format)",
        "# by `dataman config --convert`. Keys not here take their defaults (dataman",
        f"# config --check lists them). {len(decisions)} DECIDE notes below.",
    ]
    for note in decisions:
        ini.comments[note.section] = [*ini.comments.get(note.section, []), "",
                                      *(f"# {line}" for line in note.ini_hint)]
    return "\n".join(ini.write()) + "\n"
