"""The UDP command socket azcam sends ``proc <file>`` / ``quit`` to (SPEC §3)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

from dataman.ipc.datagram import MAX_DATAGRAM

#: Kernel receive buffer: a burst of datagrams waits here while the loop is busy.
RECEIVE_BUFFER = 4 << 20

DatagramHandler = Callable[[bytes, tuple], None]


class _CommandProtocol(asyncio.DatagramProtocol):
    def __init__(self, handler: DatagramHandler) -> None:
        self._handler = handler

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self._handler(data, addr)

    def error_received(self, exc: Exception) -> None:  # ICMP errors on a UDP socket: ignore
        pass


async def bind_command_socket(host: str, port: int,
                              handler: DatagramHandler) -> asyncio.DatagramTransport:
    """Bind ``host:port`` and call ``handler(payload, sender)`` for every datagram.

    The handler is called from the event loop and must not block; oversize
    payloads (more than ``MAX_DATAGRAM``) reach it whole so it can reject them.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _CommandProtocol(handler),
                                                       sock=sock)
    return transport


__all__ = ["MAX_DATAGRAM", "bind_command_socket"]
