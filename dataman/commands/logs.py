"""Logging for the commands that process frames (``run``, ``process``): night file and stderr."""

from __future__ import annotations

import logging
import sys

from dataman.core.config import Config
from dataman.core.nightlog import NightLogHandler, UtcFormatter, default_hostid


def setup_logging(config: Config, *, console_level: int = logging.WARNING) -> NightLogHandler:
    """Log to the night file (``[server] logLevel`` and up) and to stderr (``console_level``
    and up)."""
    logger = logging.getLogger("dataman")
    logger.setLevel(logging.DEBUG if config.server.log_level == "DEBUG" else logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    night = NightLogHandler(config.paths.log_dir, config.server.hostid or default_hostid(),
                            config.site.utc_offset)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(UtcFormatter())
    console.setLevel(console_level)
    logger.addHandler(night)
    logger.addHandler(console)
    return night
