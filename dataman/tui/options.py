"""The command line of ``dataman-console``: which control socket to attach to."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def socket_from_args(args: argparse.Namespace) -> tuple[Path, Path | None]:
    """The control socket: ``--socket``, else the configuration's ``[server] controlSocket``."""
    if args.socket:
        return args.socket, None
    from dataman.core.config import EXIT_CONFIG, default_config_path, load_config
    from dataman.core.errors import ConfigError

    path = args.config or default_config_path()
    try:
        config = load_config(path, check_dirs=False, create_dirs=False)
    except ConfigError as error:
        print(f"dataman-console: configuration error:\n{error}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from error
    return config.server.control_socket, config.source


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dataman-console",
        description="Live console of a running dataMan service (quitting leaves it running).")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-c", "--config", type=Path, default=None, metavar="FILE",
                       help="configuration whose control socket to attach to (default: "
                            "$DATAMAN_CONFIG, ./dataman.ini, /etc/dataman/dataman.ini, "
                            "or the packaged default)")
    where.add_argument("--socket", type=Path, default=None, metavar="PATH",
                       help="the control socket itself")
    return parser
