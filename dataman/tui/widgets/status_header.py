"""The top lines: is the service running, for how long, where, how healthy, how busy."""

from __future__ import annotations

from textual.markup import escape
from textual.widgets import Static

from dataman.tui import palette
from dataman.tui.format import duration, since, size
from dataman.tui.model import ServiceView

#: Tonight's counts (``counts``: frames requested this observing night, by state). The
#: queue is not among them: its panel (or the collapsed line) shows every frame waiting.
COUNTS = ("running", "processed", "delivered", "failed")
SHORT_COUNTS = ("delivered", "failed")


class StatusHeader(Static):
    """Service state, uptime, host id, config file, health verdict and tonight's counts.

    ``compact`` (a narrow terminal) trades the config line for a one-line
    summary of the queue and transfers panels, which are hidden then.
    Every count says what it counts: ``tonight:`` for the journal's counts of
    the observing night (the health problems quote the same failed count),
    the queue's total for the frames waiting now, whatever their night.
    """

    DEFAULT_CSS = """
    StatusHeader {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    """

    _text = ""

    def show(self, view: ServiceView, now: float, socket: str = "", compact: bool = False) -> None:
        lines = [self._state(view, now, compact)]
        if not view.connected:
            lines.append(f"[$text-muted]socket[/] {escape(socket)}  [$text-warning]"
                         f"{escape(view.reason or 'not running')} — waiting[/]")
        elif compact:
            lines.append(self._collapsed(view, now))
        else:
            lines.append(self._origin(view))
        level, _, problems = view.verdict
        if problems and view.connected:
            tone = palette.HEALTH.get(level, "text-error")
            lines.append(f"[${tone}]" + escape("; ".join(problems)) + "[/]")
        text = "\n".join(lines)
        if text != self._text:  # redrawn every second: only when something shows a change
            self._text = text
            self.update(text)

    @staticmethod
    def _state(view: ServiceView, now: float, compact: bool) -> str:
        state = view.state
        level, verdict, _ = view.verdict
        parts = [f"[bold ${palette.STATE.get(state, 'text-warning')}]● {state.upper()}[/]"]
        if view.connected and view.service and view.service.shadow:  # not feeding the archive
            udp = "" if view.service.udp_port else ", no UDP"
            parts.append(f"[bold $text-warning]SHADOW (no delivery{udp})[/]")
        if view.connected:
            parts.append(f"up {duration(view.uptime(now))}")
            parts.append(escape(view.service.hostid if view.service else "?"))
        health = f"[bold ${palette.HEALTH.get(level, 'text-error')}]{verdict}[/]"
        parts.append(health if compact else f"health {health}")
        if view.connected and view.counts:
            tonight = {key: getattr(view.counts, key) for key in COUNTS}
            text = (" ".join(f"{tonight[key]} {key}" for key in SHORT_COUNTS)
                    if compact else " ".join(f"{key} {tonight[key]}" for key in COUNTS))
            parts.append(f"[$text-muted]tonight: {text}[/]")
        return "  ".join(parts)

    @staticmethod
    def _origin(view: ServiceView) -> str:
        service = view.service
        parts = [f"[$text-muted]config[/] {escape(service.config if service else '?')}",
                 f"[$text-muted]pid[/] {service.pid if service else '?'}",
                 f"[$text-muted]dataman[/] {escape(service.version if service else '?')}"]
        if view.dropped:
            parts.append(f"[$text-warning]{view.dropped} events dropped[/]")
        return "  ".join(parts)

    @staticmethod
    def _collapsed(view: ServiceView, now: float) -> str:
        """The queue and transfers panels in one line, for a terminal too narrow for them."""
        parts = []
        if view.queue:
            parts.append(f"queue {view.queue_total:,}: oldest "
                         f"{since(view.queue[0].requested_at, now)}")
        transfers = view.transfers
        if transfers:
            if transfers.repo_reachable:
                parts.append("staging [$text-success]ok[/]")
            else:
                parts.append("staging [bold $text-error]UNREACHABLE[/]")
            awaiting = len(transfers.awaiting_delivery)
            if awaiting:
                parts.append(f"[$text-warning]{awaiting} awaiting[/]")
            parts.append(f"proc {size(transfers.proc_free)} free")
        if view.dropped:
            parts.append(f"[$text-warning]{view.dropped} dropped[/]")
        return "  ".join(parts)
