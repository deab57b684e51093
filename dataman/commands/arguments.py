"""Argument types the subcommands share: a count of something, and an observing night.

One definition each, so ``--jobs 0``, ``--frames 0``, ``--nights x`` and ``--night
2025-12-30`` are refused in the same words by every command.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime


def count_of(what: str) -> Callable[[str], int]:
    """An argparse type for a whole number of ``what``, 1 or more.

    >>> count_of("frames")("3")
    3
    >>> count_of("frames")("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: '0' is not a number of frames (1 or more)
    """
    def parse(text: str) -> int:
        if not text.strip().isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {what} (1 or more)")
        return int(text)
    parse.__name__ = f"number of {what}"  # what argparse calls the type in its messages
    return parse


def night(text: str) -> str:
    """An argparse type for an observing night, ``YYYYMMDD``.

    >>> night("20251230")
    '20251230'
    >>> night("2025-12-30")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: not a night YYYYMMDD: '2025-12-30'
    """
    try:
        if not (len(text) == 8 and text.isdigit()):
            raise ValueError(text)
        datetime.strptime(text, "%Y%m%d")
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a night YYYYMMDD: {text!r}") from None
    return text
