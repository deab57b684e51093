"""The UDP command socket azcam sends ``proc <file>`` / ``quit`` to (docs/commands.md, "Datagrams").

Datagrams are read in batches: each time the socket is readable, everything
waiting (up to ``BATCH``) is read and handed over at once, so the service can
journal a burst in one transaction (one disk sync) instead of one per datagram.
A single datagram is a batch of one and is handled as soon as it arrives.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable

from dataman.core.errors import DataManError
from dataman.ipc.datagram import MAX_DATAGRAM
from dataman.ipc.port_holder import udp_port_holders

#: Kernel receive buffer: a burst of datagrams waits here while the loop is busy.
RECEIVE_BUFFER = 4 << 20
#: Most datagrams read per wake-up; the loop serves other events between batches.
BATCH = 64
#: Read size: the largest UDP payload, so an oversize datagram is seen (and refused) whole.
READ_SIZE = 65536

Datagram = tuple[bytes, tuple]
BatchHandler = Callable[[list[Datagram]], None]


class PortInUse(DataManError):
    """The command port is held by another program; a restart cannot change that."""


class CommandSocket:
    """A bound, non-blocking UDP socket feeding ``handler`` batches of (payload, sender)."""

    def __init__(self, sock: socket.socket, handler: BatchHandler) -> None:
        self._sock, self._handler = sock, handler
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._read_ready)

    def _read_ready(self) -> None:
        batch: list[Datagram] = []
        while len(batch) < BATCH:
            try:
                batch.append(self._sock.recvfrom(READ_SIZE))
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # an ICMP error reported on the socket: nothing to read
                break
        if batch:
            self._handler(batch)

    def close(self) -> None:
        if self._sock.fileno() >= 0:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()


def _check_receive_buffer(sock: socket.socket) -> None:
    """Say so when the kernel grants less than asked (capped by net.core.rmem_max).

    A short buffer drops datagrams in the kernel during a burst, before dataMan
    sees them (the raw-folder scan would still find those frames later).
    """
    granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2  # Linux doubles it
    if granted < RECEIVE_BUFFER:
        logging.getLogger("dataman").warning(
            "udp receive buffer is %d KiB, not the %d KiB asked for; raise it with "
            "'sysctl -w net.core.rmem_max=%d'", granted >> 10, RECEIVE_BUFFER >> 10,
            RECEIVE_BUFFER)


async def bind_command_socket(host: str, port: int, handler: BatchHandler) -> CommandSocket:
    """Bind ``host:port`` and call ``handler(batch)`` with the datagrams as they come.

    The handler is called from the event loop and must not block; oversize
    payloads (more than ``MAX_DATAGRAM``) reach it whole so it can reject them.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        _check_receive_buffer(sock)
        sock.setblocking(False)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            holders = udp_port_holders(host, port) or ["a holder that could not be found"]
            raise PortInUse(f"udp {host}:{port} is already in use, held by "
                            f"{'; '.join(holders)}: stop that program or set another "
                            "[server] port (and tell azcam)") from None
        return CommandSocket(sock, handler)
    except BaseException:
        sock.close()
        raise


__all__ = ["BATCH", "MAX_DATAGRAM", "CommandSocket", "PortInUse", "bind_command_socket"]
