"""What must hold after any night, however it went: the archive's invariants.

Computed from the files and the journal alone, never from the service's own
account of itself: every raw frame is exactly one file in repoDir or failed
with a reason; UNIQNAMEs are distinct; nothing hidden, partial or temporary of
ours is left; each ``<CHAN>.new`` names the newest delivered exposure; the
journal agrees with the files.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from astropy.io import fits

from dataman.core.config import PathsConfig
from dataman.core.names import channel_of, exposure_order
from dataman.core.quality.thumbnail_place import FOLDER as THUMBNAILS

#: A processed file: primary, IM1..IM4, CONPARS, MERGED.
HDUS = ("PRIMARY", "IM1", "IM2", "IM3", "IM4", "CONPARS", "MERGED")


@dataclass
class NightAccount:
    requested: list[str]
    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    duplicates: dict[str, int] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    uniqnames_distinct: bool = True
    last_data: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)

    @property
    def last_data_correct(self) -> bool:
        return all(shown == expected for shown, expected in self.last_data.values())

    def problems(self) -> list[str]:
        found = [f"{label}: {items}" for label, items in (
            ("lost", self.lost), ("duplicates", self.duplicates),
            ("leftovers", self.leftovers), ("partial", self.partial),
            ("journal disagrees", self.disagreements)) if items]
        if not self.uniqnames_distinct:
            found.append("UNIQNAMEs not distinct")
        if not self.last_data_correct:
            found.append(f".new wrong (shown, expected): {self.last_data}")
        failed_without_reason = [name for name, reason in self.failed.items() if not reason]
        if failed_without_reason:
            found.append(f"failed without a reason: {failed_without_reason}")
        return found


def journal_rows(state_dir: Path) -> dict[str, dict]:
    with sqlite3.connect(f"file:{state_dir / 'journal.sqlite3'}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        return {row["name"]: dict(row) for row in db.execute("SELECT * FROM frames")}


def account_night(paths: PathsConfig, requested: list[str]) -> NightAccount:
    """Check the archive's invariants for the raw frames ``requested``."""
    account = NightAccount(sorted(requested))
    rows = journal_rows(paths.state_dir)
    repo = _outputs(paths.repo_dir, account)
    processed = _outputs_in_tree(paths.proc_dir, account)
    owners = _owners(paths.state_dir)
    thumbnails = paths.state_dir / THUMBNAILS
    if thumbnails.is_dir():  # dataMan's own files: only no temporary may stay among them
        account.leftovers += [str(path) for path in thumbnails.glob("*/.*")]
    copies: Counter[str] = Counter(owners.get(uniqname, f"?{uniqname}")
                                   for uniqname in repo.values())
    account.duplicates = {name: n for name, n in copies.items() if n > 1}
    for tree in (repo, processed):
        if len(set(tree.values())) != len(tree):
            account.uniqnames_distinct = False
    for name in account.requested:
        row = rows.get(name)
        state = row["state"] if row else None
        if copies[name] >= 1:
            account.delivered.append(name)
        elif state == "failed":
            account.failed[name] = row["reason"] or ""
        else:
            account.lost.append(name)
        _compare(account, name, row, copies[name], repo, owners)
    _check_last_data(account, paths.repo_dir, repo, owners)
    return account


def _outputs(folder: Path, account: NightAccount) -> dict[str, str]:
    """file name -> UNIQNAME of every complete output in ``folder``; notes the rest."""
    found = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            account.leftovers.append(str(path))
        elif path.is_file() and path.suffix == ".fits":
            uniqname = _complete_uniqname(path)
            if uniqname is None:
                account.partial.append(str(path))
            else:
                found[path.name] = uniqname
    return found


def _outputs_in_tree(proc_dir: Path, account: NightAccount) -> dict[str, str]:
    found = {}
    for entry in sorted(proc_dir.iterdir()):
        if entry.name.startswith("."):
            account.leftovers.append(str(entry))
        elif entry.is_dir():
            found |= {f"{entry.name}/{name}": uniqname
                      for name, uniqname in _outputs(entry, account).items()}
    return found


def _complete_uniqname(path: Path) -> str | None:
    """The UNIQNAME of a complete processed file (all HDUs, all data there), else None."""
    try:
        with fits.open(path, memmap=False, lazy_load_hdus=False) as hdus:
            names = tuple(hdu.name for hdu in hdus)
            uniqname = hdus[0].header.get("UNIQNAME")
    except (OSError, ValueError, TypeError):
        return None
    return uniqname if names == HDUS and isinstance(uniqname, str) else None


def _owners(state_dir: Path) -> dict[str, str]:
    """UNIQNAME -> raw frame, from the installation's registry markers."""
    root = state_dir / "uniqnames" / "frames"
    return {marker.read_text().strip(): marker.name for marker in root.rglob("*.fits")}


def _compare(account: NightAccount, name: str, row: dict | None, copies: int,
             repo: dict[str, str], owners: dict[str, str]) -> None:
    if row is None:
        account.disagreements.append(f"{name}: not in the journal")
        return
    state = row["state"]
    if state == "delivered":
        delivered = Path(row["delivered_path"] or "").name
        if copies != 1 or owners.get(repo.get(delivered, "")) != name:
            account.disagreements.append(f"{name}: journal says delivered as {delivered}, "
                                         f"repoDir has {copies} copies")
        elif row["uniqname"] != repo[delivered]:
            account.disagreements.append(f"{name}: journal UNIQNAME {row['uniqname']}, "
                                         f"file {repo[delivered]}")
    elif state == "failed":
        if copies:
            account.disagreements.append(f"{name}: failed in the journal, but delivered")
    else:
        account.disagreements.append(f"{name}: still {state} in the journal")


def _check_last_data(account: NightAccount, repo_dir: Path, repo: dict[str, str],
                     owners: dict[str, str]) -> None:
    newest: dict[str, tuple[tuple[str, int], str]] = {}
    for file_name, uniqname in repo.items():
        raw = owners.get(uniqname)
        order = exposure_order(raw) if raw else None
        channel = channel_of(raw) if raw else None
        if order and channel and (channel not in newest or order > newest[channel][0]):
            newest[channel] = (order, file_name)
    for channel, (_, file_name) in newest.items():
        path = repo_dir / f"{channel.upper()}.new"
        shown = path.read_text().strip() if path.exists() else None
        account.last_data[channel.upper()] = (shown, file_name)
