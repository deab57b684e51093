"""Sending command datagrams to a running dataMan, as azcam does (docs/commands.md)."""

from __future__ import annotations

import contextlib
import select
import socket


def send_datagram(host: str, port: int, payload: bytes, *, refusal_wait: float = 0.0) -> None:
    """Send ``payload`` as one UDP datagram to ``host``:``port`` (IPv4 or IPv6); no reply.

    azcam's client is fire-and-forget, so this one is too: nothing is awaited
    and nobody acknowledges. Every address ``host`` resolves to is tried in
    turn until one accepts the datagram; the last error is raised if none does.

    With ``refusal_wait`` (seconds) the datagram also counts as not accepted
    when the host answers, within that time, that nobody listens on the port
    (ICMP "port unreachable", seen on a connected socket as ConnectionRefusedError).
    The local host answers at once; silence proves nothing, since a remote
    firewall may swallow the answer, so the datagram then counts as sent.
    """
    error: OSError | None = None
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM):
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.connect(address)  # only a connected socket is told of a refusal
                sock.send(payload)
                if refusal_wait > 0:
                    _raise_if_refused(sock, refusal_wait)
                return
        except OSError as failure:
            error = failure
    raise error or OSError(f"{host}: no address to send to")


def _raise_if_refused(sock: socket.socket, wait: float) -> None:
    """ConnectionRefusedError if the refusal of the datagram just sent arrives in ``wait`` s."""
    readable, _, _ = select.select([sock], [], [], wait)
    if readable:
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            sock.recv(1)  # a pending refusal is raised here; dataMan itself never replies
