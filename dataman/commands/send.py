"""``dataman send proc FILE`` / ``dataman send quit``: the datagrams azcam sends, by hand.

For operators and tests: ask a running dataMan to (re)process a frame, or stop
it, exactly as the camera server would (docs/commands.md). Host and port come from
``[server]`` unless given; the working directories are not needed, so a
configuration whose directories are missing (another host's) still works. When
the host answers that nobody listens on the port (at once, for this machine),
it says so and exits 1 instead of printing "sent".

    dataman send proc /home/data/mods1b/mods1b.20251230.0012.fits
    dataman send quit --host mods1 --port 10301
"""

from __future__ import annotations

import argparse
import sys
from pathlib import PurePath

from dataman.commands.common import add_config_option, config_or_exit
from dataman.core.names import RAW_NAME
from dataman.ipc.client import send_datagram
from dataman.ipc.datagram import encode_proc, encode_quit

#: How long to wait for the host to say that nobody listens on the port, seconds. On
#: the local host the refusal is queued before send() returns (measured: 300 of 300 seen
#: with a 1 µs wait); a host on the LAN answers well within a millisecond. A service that
#: listens never answers, so every successful send waits this long in full: it is kept
#: small, as azcam's own client never waits at all.
REFUSAL_WAIT = 0.005
#: A service bound to every interface is reached on the loopback one.
WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``send proc|quit``; ``args.func(args)`` runs it and returns the exit status."""
    parser = subparsers.add_parser(
        "send", help="send a 'proc FILE' or 'quit' datagram to a running dataMan",
        description="Send one command datagram to a running dataMan, as azcam does. "
                    "No reply is awaited (UDP, fire-and-forget).")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    common = argparse.ArgumentParser(add_help=False)
    add_config_option(common)
    common.add_argument("--host", help="where dataMan listens (default: [server] host)")
    common.add_argument("--port", type=port_number, help="its UDP port (default: [server] port)")
    proc = actions.add_parser("proc", parents=[common], help="process a raw frame",
                              description="Ask dataMan to process FILE; only its base "
                                          "name matters, it is looked up in dataDir.")
    proc.add_argument("file", metavar="FILE", help="raw frame, as the camera server names it")
    actions.add_parser("quit", parents=[common], help="stop the service cleanly",
                       description="Ask dataMan to stop cleanly (systemd restarts it).")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Send the datagram and print one line saying what went where."""
    if args.action == "proc":
        if not RAW_NAME.fullmatch(PurePath(args.file).name):
            print(f"dataman send: warning: {PurePath(args.file).name!r} is not a raw frame "
                  "name; dataMan will reject it", file=sys.stderr)
        try:
            payload = encode_proc(args.file)
        except ValueError as error:
            print(f"dataman send: {error}", file=sys.stderr)
            return 2
    else:
        payload = encode_quit()
    host, port = args.host, args.port
    if host is None or port is None:
        config = config_or_exit(args, check_dirs=False)
        server = config.server
        host = host if host is not None else WILDCARDS.get(server.host, server.host)
        port = port if port is not None else server.port
        if not port:
            print(f"dataman send: {config.source}: [server] port = 0: that dataMan listens "
                  "on no UDP port (give --port to send elsewhere)", file=sys.stderr)
            return 2
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        send_datagram(host, port, payload, refusal_wait=REFUSAL_WAIT)
    except ConnectionRefusedError:
        print(f"dataman send: nobody listens on {where} (the host refused the datagram): "
              "is dataMan running, and on this port?", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"dataman send: cannot send to {where}: {error}", file=sys.stderr)
        return 1
    print(f"sent {payload.decode()!r} ({len(payload)} bytes) to {where}")
    return 0


def port_number(text: str) -> int:
    """A UDP port, 1..65535."""
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a UDP port: {value}")
    return value
