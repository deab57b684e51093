"""Who holds a UDP port: the process named in a "port already in use" refusal.

``psutil.net_connections`` pairs the kernel's socket table (``/proc/net/udp``,
``udp6``) with each process's open descriptors. A process of another user (the
reference dataMan run by root, say) shows up with no pid when looked at as an
ordinary user: it is then named as such, with the command that can tell.
"""

from __future__ import annotations

import ipaddress

import psutil

WILDCARDS = {"0.0.0.0", "::"}


def udp_port_holders(host: str, port: int) -> list[str]:
    """Who holds UDP ``port`` in a way that clashes with binding ``host``: ``pid N (name)``,
    or a note for a holder this user may not see; empty when none is found."""
    try:
        sockets = psutil.net_connections(kind="udp")
    except (psutil.Error, OSError):
        return []
    found = []
    for sock in sockets:
        if not sock.laddr or sock.laddr.port != port or not _clash(sock.laddr.ip, host):
            continue
        found.append(_describe(sock.pid) + f" on {sock.laddr.ip}:{port}")
    return sorted(set(found))


def _clash(bound: str, host: str) -> bool:
    """A socket on ``bound`` keeps ``host`` from binding the same port."""
    try:
        same_family = ipaddress.ip_address(bound).version == ipaddress.ip_address(host).version
    except ValueError:
        return bound == host
    return same_family and (bound in WILDCARDS or host in WILDCARDS or bound == host)


def _describe(pid: int | None) -> str:
    if pid is None:
        return "a process of another user (as root, `ss -ulpn` names it)"
    try:
        return f"pid {pid} ({psutil.Process(pid).name()})"
    except psutil.Error:
        return f"pid {pid}"
