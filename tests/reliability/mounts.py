"""Small file systems for the disk faults: a tmpfs of a given size, or read-only.

Mounting needs root (and a kernel that lets this container mount); a case
that cannot have one is skipped with that reason rather than faked.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


class Mounts:
    """Mounts a test makes and releases. ``strict``: a mount refused is a failure, not a
    skip (for a test that has already found that it can mount, such as the night replay,
    where a skip in the middle would hide the rest of the night)."""

    def __init__(self, *, strict: bool = False) -> None:
        self.mounted: list[Path] = []
        self.strict = strict

    def _run(self, *args: str) -> None:
        result = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
        if result.returncode:
            why = f"mount {' '.join(args)}: {result.stderr.strip() or result.returncode}"
            if self.strict:
                raise AssertionError(why)
            pytest.skip(f"cannot mount here ({why}): needs root and a kernel that allows "
                        "mounts in this container")

    def tmpfs(self, where: Path, size: str, *, read_only: bool = False) -> Path:
        """A fresh tmpfs of ``size`` (e.g. ``1m``) over ``where``."""
        where.mkdir(parents=True, exist_ok=True)
        self._run("-t", "tmpfs", "-o", f"size={size},mode=755" + (",ro" if read_only else ""),
                  "tmpfs", str(where))
        self.mounted.append(where)
        return where

    def resize(self, where: Path, size: str) -> None:
        self._run("-o", f"remount,size={size}", str(where))

    def read_only(self, where: Path) -> None:
        """``where`` becomes a read-only view of itself (a bind mount)."""
        self._run("--bind", str(where), str(where))
        self.mounted.append(where)
        self._run("-o", "remount,ro,bind", str(where))

    def try_read_only(self, where: Path) -> bool:
        """Whether a read-only bind mount can be made here (made and released at once)."""
        result = subprocess.run(["mount", "--bind", str(where), str(where)],
                                capture_output=True, check=False)
        if result.returncode:
            return False
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)
        return True

    def release(self, where: Path) -> None:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)
        self.mounted.remove(where)

    def release_all(self) -> None:
        for where in reversed(list(self.mounted)):
            self.release(where)
