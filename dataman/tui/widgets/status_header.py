"""The top lines: is the service running, for how long, where, how healthy, how busy."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from dataman.ipc.states import ServiceState
from dataman.tui import palette
from dataman.tui.format import duration, since, size
from dataman.tui.markup import lines as join_lines
from dataman.tui.markup import markup
from dataman.tui.model import ServiceView

#: Tonight's counts (``counts``: frames requested this observing night, by state), with
#: how many of them the quality checks flagged after ``delivered``. The queue is not
#: among them: its panel (or the collapsed line) shows every frame waiting.
COUNTS = ("running", "processed", "delivered", "failed")
SHORT_COUNTS = ("delivered", "failed")


class StatusHeader(Static):
    """Service state, uptime, host id, config file, health verdict and tonight's counts.

    ``compact`` (a narrow terminal) trades the config line for a one-line
    summary of the queue and transfers panels, which are hidden then.
    Every count says what it counts: ``tonight:`` for the journal's counts of
    the observing night (the health problems quote the same failed count), with
    the frames flagged BAD and WARN beside the delivered ones (``140 delivered,
    1 BAD, 1 WARN``), the queue's total for the frames waiting now, whatever
    their night. Text from the service (host, config, problems) is shown as written.
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
            lines.append(markup("[$text-muted]socket[/] $socket  [$text-warning]$reason"
                                " — waiting[/]", socket=socket,
                                reason=view.reason or "not running"))
        elif compact:
            lines.append(self._collapsed(view, now))
        else:
            lines.append(self._origin(view))
        level, _, problems = view.verdict
        if problems and view.connected:
            tone = palette.HEALTH.get(level, "text-error")
            lines.append(markup(f"[${tone}]$problems[/]", problems="; ".join(problems)))
        text = join_lines(lines)
        if text.markup != self._text:  # redrawn every second: only when it shows a change
            self._text = text.markup
            self.update(text)

    def _state(self, view: ServiceView, now: float, compact: bool) -> Content:
        state = view.state
        level, verdict, _ = view.verdict
        parts = [f"[bold ${palette.STATE.get(state, 'text-warning')}]● {state.upper()}[/]"]
        if view.connected and view.service and view.service.shadow:  # not feeding the archive
            udp = "" if view.service.udp_port else ", no UDP"
            parts.append(f"[bold $text-warning]SHADOW (no delivery{udp})[/]")
        if view.connected:  # an 80-column line has room for the counts, not the uptime
            parts.append("$hostid" if compact else f"up {duration(view.uptime(now))}  $hostid")
        health = f"[bold ${palette.HEALTH.get(level, 'text-error')}]{verdict}[/]"
        parts.append(health if compact else f"health {health}")
        if view.connected and view.counts:  # running, awaiting delivery: from 160 columns
            wide = (self.size.width or 0) >= 158
            parts.append(f"[$text-muted]tonight:[/] {tonight(view, compact or not wide)}")
        return markup("  ".join(parts), hostid=view.service.hostid if view.service else "?")

    @staticmethod
    def _origin(view: ServiceView) -> Content:
        service = view.service
        parts = ["[$text-muted]config[/] $config",
                 f"[$text-muted]pid[/] {service.pid if service else '?'}",
                 "[$text-muted]dataman[/] $version"]
        if view.dropped:
            parts.append(f"[$text-warning]{view.dropped} events dropped[/]")
        return markup("  ".join(parts), config=service.config if service else "?",
                      version=service.version if service else "?")

    @staticmethod
    def _collapsed(view: ServiceView, now: float) -> Content:
        """The queue and transfers panels in one line, for a terminal too narrow for them."""
        parts = []
        if view.queue:
            paused = " [$text-warning]paused[/]" if view.state == ServiceState.PAUSED else ""
            parts.append(f"queue {view.queue_total:,}{paused}: oldest "
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
        return markup("  ".join(parts))


def tonight(view: ServiceView, compact: bool) -> str:
    """Tonight's counts as markup: ``140 delivered, 1 BAD, 1 WARN, 1 failed`` (compact),
    with the frames running and awaiting delivery in front when there is room."""
    counts = view.counts
    assert counts is not None
    flagged = [f"[bold ${palette.QUALITY[word]}]{count} {word}[/]"
               for word, count in (("BAD", counts.bad), ("WARN", counts.warn)) if count]
    failed = f"{counts.failed} failed"
    parts = [f"{counts.delivered} delivered", *flagged,
             f"[bold $text-error]{failed}[/]" if counts.failed else failed]
    if not compact:
        parts = [f"{counts.running} running", f"{counts.processed} awaiting delivery", *parts]
    return ", ".join(parts)
