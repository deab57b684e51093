"""Sending command datagrams to a running dataMan, as azcam does (SPEC §3)."""

from __future__ import annotations

import socket


def send_datagram(host: str, port: int, payload: bytes) -> None:
    """Send ``payload`` as one UDP datagram to ``host``:``port`` (IPv4 or IPv6); no reply.

    azcam's client is fire-and-forget, so this one is too: nothing is awaited
    and nobody acknowledges. Every address ``host`` resolves to is tried in
    turn until one accepts the datagram; the last error is raised if none does.
    """
    error: OSError | None = None
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM):
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.sendto(payload, address)
                return
        except OSError as failure:
            error = failure
    raise error or OSError(f"{host}: no address to send to")
