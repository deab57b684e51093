"""The command socket reads a burst in batches, so it can be journaled in one transaction."""

from __future__ import annotations

import asyncio
import socket

from dataman.ipc.udp import BATCH, bind_command_socket


def test_a_burst_of_datagrams_arrives_in_batches_and_oversize_ones_whole():
    async def scenario() -> list[list[tuple[bytes, tuple]]]:
        batches: list[list[tuple[bytes, tuple]]] = []
        command = await bind_command_socket("127.0.0.1", 0, batches.append)
        port = command._sock.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for number in range(3 * BATCH):
                sender.sendto(f"proc {number}".encode(), ("127.0.0.1", port))
            sender.sendto(b"x" * 5000, ("127.0.0.1", port))
        try:
            async with asyncio.timeout(10):
                while sum(map(len, batches)) < 3 * BATCH + 1:
                    await asyncio.sleep(0.01)
        finally:
            command.close()
        return batches

    batches = asyncio.run(scenario())
    payloads = [payload for batch in batches for payload, _ in batch]
    assert payloads[:3] == [b"proc 0", b"proc 1", b"proc 2"]
    assert len(payloads[-1]) == 5000
    assert max(map(len, batches)) == BATCH and len(batches) < 3 * BATCH
