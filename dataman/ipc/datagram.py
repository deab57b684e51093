"""The UDP commands azcam sends (docs/commands.md), validated before anything acts on them.

A datagram is untrusted input arriving on a network port, so ``parse_datagram``
never raises and never touches a shell: it returns a ``ProcRequest``, a
``QuitRequest`` or a ``Rejected`` whose one-line reason, naming the sender,
goes to the log. Only the base name of a ``proc`` path is used (the path is the
camera server's own), and the file it names must resolve inside ``dataDir``.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dataman.core.names import RAW_NAME
from dataman.core.senders import Network, parse_sender

#: Longest datagram accepted (docs/commands.md); receivers read one byte more to see overlong ones.
MAX_DATAGRAM = 1024
#: Padding some senders add around the command (C strings, line-oriented clients).
PADDING = " \t\r\n\v\f\x00"
#: Separators between the command word and its argument: spaces and tabs, never a line break.
SEPARATORS = re.compile(r"[ \t]+")
#: Control characters: Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
#: ``recvfrom`` gives (host, port) for IPv4 and (host, port, flowinfo, scope_id) for IPv6.
Sender = tuple[str, int] | tuple[str, int, int, int]


@dataclass(frozen=True)
class ProcRequest:
    """Process the raw frame ``path`` = ``<dataDir>/<channel>/<name>``."""
    name: str
    channel: str
    path: Path


@dataclass(frozen=True)
class QuitRequest:
    """Stop the service cleanly; systemd starts it again."""


@dataclass(frozen=True)
class Rejected:
    """A datagram that is ignored; ``reason`` is one log line naming the sender."""
    reason: str


@dataclass(frozen=True)
class SenderPolicy:
    """The hosts allowed to send commands (``[server] allowedSenders``)."""
    networks: tuple[Network, ...]

    @classmethod
    def from_config(cls, allowed: Sequence[str]) -> SenderPolicy:
        """Addresses or CIDR networks, IPv4 or IPv6; ValueError names a bad entry.

        The configuration check accepts only entries :func:`parse_sender` accepts,
        so a loaded configuration never fails here.
        """
        networks = []
        for entry in allowed:
            try:
                networks.append(parse_sender(entry))
            except ValueError as error:
                raise ValueError(f"allowed sender {entry!r}: {error}") from None
        return cls(tuple(networks))

    def allows(self, address: str) -> bool:
        """True when ``address`` (``::ffff:a.b.c.d`` counts as ``a.b.c.d``) is allowed."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)


def parse_datagram(payload: bytes, sender: Sender, policy: SenderPolicy,
                   data_dir: Path) -> ProcRequest | QuitRequest | Rejected:
    """The request in one datagram, or why it is rejected. Never raises.

    The sender is checked first and the size before decoding, so an unwanted
    or overlong datagram costs nothing but a log line.
    """
    origin = _describe_sender(sender)
    if not policy.allows(sender[0]):
        return Rejected(f"from {origin}: sender not in allowedSenders")
    if len(payload) > MAX_DATAGRAM:
        return Rejected(f"from {origin}: datagram of {len(payload)} bytes, "
                        f"more than {MAX_DATAGRAM}")
    result = _parse_text(bytes(payload), data_dir)
    return Rejected(f"from {origin}: {result}") if isinstance(result, str) else result


def encode_proc(path: str | os.PathLike[str]) -> bytes:
    """``proc <path>`` as azcam sends it; ValueError if longer than a datagram may be."""
    payload = f"proc {os.fspath(path)}".encode()
    if len(payload) > MAX_DATAGRAM:
        raise ValueError(f"'proc <path>' is {len(payload)} bytes, more than {MAX_DATAGRAM}")
    return payload


def encode_quit() -> bytes:
    """``quit`` as azcam sends it."""
    return b"quit"


def _parse_text(payload: bytes, data_dir: Path) -> ProcRequest | QuitRequest | str:
    """The request, or a reason (without sender) for rejecting it."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"not UTF-8 (invalid byte at offset {error.start})"
    text = text.strip(PADDING)
    if not text:
        return "empty datagram"
    if "\n" in text or "\r" in text:
        return "more than one line (one command per datagram)"
    word, *arguments = SEPARATORS.split(text)
    command = word.lower() if word.isascii() else word
    if command == "quit":
        return "'quit' takes no argument" if arguments else QuitRequest()
    if command != "proc":
        return f"unknown command {_quote(word)}"
    if not arguments:
        return "'proc' without a file name"
    if len(arguments) > 1:
        return f"'proc' takes one file name, got {len(arguments)} words"
    return proc_request(arguments[0], data_dir)


def proc_request(path: str, data_dir: Path) -> ProcRequest | str:
    """The request for ``path``, or why not (also used for the console's 'process' op).

    Only the base name is used; it must be a raw name that resolves inside ``data_dir``.
    """
    if CONTROL.search(path):
        return f"control character in file name {_quote(path)}"
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    match = RAW_NAME.fullmatch(name) if name.isascii() else None
    if match is None:
        return f"{_quote(name)} is not a raw frame name (<chan>.<YYYYMMDD>.<NNNN>.fits)"
    channel = match.group(1)
    target = data_dir / channel / name
    outside = resolves_outside(target, data_dir)
    return ProcRequest(name=name, channel=channel, path=target) if outside is None else outside


def resolves_outside(target: Path, data_dir: Path) -> str | None:
    """Why ``target`` is not a file inside ``data_dir`` once symlinks are resolved, or None.

    Checked when the request comes and again just before the worker reads the
    file: a symlink put in place after the datagram must not lead outside either.
    """
    name = target.name
    try:  # resolves what exists: the file itself may not be visible yet (delayed NFS)
        root, resolved = _real_root(os.fspath(data_dir)), os.path.realpath(target)
    except (OSError, ValueError) as error:
        return f"{name}: cannot resolve its path in dataDir: {_quote(str(error))}"
    if os.path.commonpath([root, resolved]) != root or resolved == root:
        return f"{name} resolves to {_quote(resolved, 300)}, outside dataDir {root}"
    return None


def _describe_sender(sender: Sender) -> str:
    """``127.0.0.1:40123`` or ``[::1]:40123``, escaped so that a log line stays one line."""
    host = sender[0] if sender[0].isascii() and sender[0].isprintable() else _quote(sender[0])
    return f"[{host}]:{sender[1]}" if ":" in host else f"{host}:{sender[1]}"


def _quote(text: str, limit: int = 80) -> str:
    """``text`` as a one-line, ASCII repr, shortened for the log."""
    quoted = ascii(text)
    return quoted if len(quoted) <= limit else quoted[: limit - 4] + "...'"


@functools.lru_cache(maxsize=8)
def _real_root(data_dir: str) -> str:
    """dataDir resolved once, not per datagram (on NFS each resolution is I/O)."""
    return os.path.realpath(data_dir)
