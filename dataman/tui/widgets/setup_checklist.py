"""Tonight's setup checklist: each setup with science, and whether its calibrations are in.

An observer can still take the arcs while the setup is in the instrument; the
next morning they cannot. One entry per setup with OBJECT frames (channel,
grating, filter, slit mask, binning, readout region), its counts of OBJECT,
BIAS, FLAT and COMP frames, and what is missing, in the warning colour. Hidden
while the night has no science yet.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from dataman.ipc.protocol_snapshot import SetupEntry
from dataman.tui.markup import lines, markup
from dataman.tui.model import ServiceView


class SetupChecklist(Static):
    """One or two lines per setup: its label, then its counts and verdict."""

    DEFAULT_CSS = """
    SetupChecklist { height: auto; padding: 0 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Setups tonight"
        self._text: Content | None = None

    def show(self, view: ServiceView) -> None:
        self.display = bool(view.setups)
        text = lines(entry_markup(entry) for entry in view.setups)
        if text != self._text:
            self._text = text
            self.update(text)


def entry_markup(entry: SetupEntry) -> Content:
    """The label, then the counts and the verdict (``no arcs yet`` in the warning colour).
    Grating, filter and mask names come from headers: they are shown as written."""
    counts = (f"{entry.objects} OBJECT, {entry.biases} BIAS, {entry.flats} FLAT, "
              f"{entry.comps} COMP")
    label = (f"{entry.instrument} {entry.grating} {entry.filter} / {entry.mask} / "
             f"{entry.binning} {entry.roi}")
    if entry.missing:
        return markup("[bold $text-warning]✘[/] $label\n  $counts: "
                      "[bold $text-warning]no $missing yet[/]", label=label, counts=counts,
                      missing=" or ".join(entry.missing))
    return markup("[$text-success]✔[/] $label\n  [$text-muted]$counts: complete[/]",
                  label=label, counts=counts)
