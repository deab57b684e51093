"""A table rebuilt when its data changes, whose elapsed-time cells tick in place in between."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey


class LiveTable(DataTable):
    """A :class:`DataTable` with :meth:`set_cell` for the cells that change every second."""

    def set_cell(self, row: RowKey, column: str, value: str | Text) -> None:
        """Show ``value`` in one cell, the column sized as rebuilding the rows would size it.

        A longer value widens the column; a shorter one does not narrow it (``clear``
        keeps column widths), so the panel does not shift from one second to the next.
        """
        wider = cell_len(str(value)) > self.columns[ColumnKey(column)].content_width
        self.update_cell(row, column, value, update_width=wider)
