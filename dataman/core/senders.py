"""Entries of ``[server] allowedSenders``: IPv4/IPv6 addresses or CIDR networks.

Parsed here, in the core, so that the configuration check and the UDP sender
policy (:mod:`dataman.ipc.datagram`) accept exactly the same entries: a value
that passes ``dataman config --check`` can never stop ``dataman run`` later.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def parse_sender(entry: str) -> Network:
    """One entry as a network (an address is a /32 or /128); ValueError says why not.

    Host names are not accepted: the policy compares the sender's address and
    must not depend on a name server at start.

    Host bits set in a network (``10.0.0.7/24``) are an error, not silently
    widened, and so is an IPv4-mapped entry, which no sender would match (the
    policy unmaps senders): the operator must say what was meant.
    """
    text = str(entry).strip()
    if not text:
        raise ValueError("empty entry")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError("not an IP address or CIDR network") from None
    if ipaddress.ip_interface(text).ip != network.network_address:
        raise ValueError(f"host bits set; the network is {network}")
    if network.version == 6 and network.subnet_of(IPV4_MAPPED):
        raise ValueError("IPv4-mapped, write it as an IPv4 address or network")
    return network


def sender_problems(entries: Iterable[str]) -> list[str]:
    """``'<entry>' (<reason>)`` for every entry that is not an address or network."""
    problems = []
    for entry in entries:
        try:
            parse_sender(entry)
        except ValueError as error:
            problems.append(f"{entry!r} ({error})")
    return problems
