"""Console markup in which text from outside reads exactly as it was written.

Object names (``M42 [OIII] field``), header values, file names, datagram fields
and log lines come from outside the console. Put into a markup string they
would be read as markup: ``[/]`` closes the panel's own style, ``[@click=...]``
is an action, and :func:`textual.markup.escape` misses Textual's own tags
(``[$text-warning]``, ``[OIII]``, an unclosed ``[bold``). So every panel builds
its text with :func:`markup`, whose values are inserted as text, never parsed.

>>> markup("[bold]$name[/] $verdict", name="M42 [OIII] [/]", verdict="BAD").plain
'M42 [OIII] [/] BAD'
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.content import Content


def markup(template: str, **values: object) -> Content:
    """``template`` (console markup written here) with each ``$name`` replaced by the
    text of ``values[name]``, shown exactly as written."""
    return Content.from_markup(template, **{name: str(value) for name, value in values.items()})


def lines(items: Iterable[Content | str]) -> Content:
    """One block of lines; a ``str`` item is markup written here (no outside text).

    >>> lines([markup("[b]$x[/]", x="[/]"), "[i]y[/]"]).plain
    '[/]\\ny'
    """
    return Content("\n").join(item if isinstance(item, Content) else Content.from_markup(item)
                              for item in items)


def plain(text: object) -> Content:
    """Outside text with no markup at all (a border title naming a channel, a label)."""
    return Content(str(text))
