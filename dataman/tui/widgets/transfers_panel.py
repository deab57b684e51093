"""Transfers: is the staging disk there, how much room is left, what went out last."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from dataman.ipc.protocol_snapshot import Transfers
from dataman.tui.format import duration, size
from dataman.tui.markup import lines as join_lines
from dataman.tui.markup import markup
from dataman.tui.model import ServiceView


class TransfersPanel(Static):
    """Staging disk reachability, free space, last file per channel, frames awaiting delivery."""

    DEFAULT_CSS = """
    TransfersPanel { height: auto; padding: 0 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Transfers"

    _text = ""

    def show(self, view: ServiceView, now: float) -> None:
        transfers = view.transfers
        if not transfers:
            self._text = "[$text-muted]no transfer information[/]"
            self.update(markup(self._text))
            return
        repo = transfers.repo_dir or "repoDir"
        if transfers.repo_reachable:
            lines = [markup("staging $repo [bold $text-success]reachable[/]", repo=repo)]
        else:
            lines = [markup("staging $repo [bold $text-error]UNREACHABLE[/]", repo=repo),
                     markup("  [$text-error]$reason[/]",
                            reason=transfers.repo_reason or "unreachable")]
        lines.append(markup(f"free    proc {size(transfers.proc_free)}  "
                            f"repo {size(transfers.repo_free)}"))
        for channel, name in sorted(transfers.last.items()):
            lines.append(markup("[$text-muted]$channel.new[/] $name", channel=channel,
                                name=name))
        lines.append(self._awaiting(transfers, now))
        text = join_lines(lines)
        if text.markup != self._text:  # free space is sent every second, mostly unchanged
            self._text = text.markup
            self.update(text)

    @staticmethod
    def _awaiting(transfers: Transfers, now: float) -> Content:
        waiting = transfers.awaiting_delivery
        if not waiting:
            return markup("[$text-muted]nothing waiting for delivery[/]")
        text = f"[$text-warning]{len(waiting)} waiting for delivery[/]"
        retry = transfers.next_retry_at
        if retry is not None:
            text += f", next try in {duration(max(0.0, retry - now))}"
        return markup(text + ": $names",
                      names=", ".join(waiting[:3]) + (" …" if len(waiting) > 3 else ""))
