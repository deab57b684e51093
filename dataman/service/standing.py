"""Conditions that hold now and that the service itself knows of, for the health line.

Most health problems are read off the snapshot (a worker missing, a frame
failed, a queue backing up). These are not visible there: processing stalled
on a full or failing disk (:class:`~dataman.service.stall.ProcessingStall`),
requests the journal refuses to record (:class:`~dataman.service.refusals.Refusals`),
and notices kept for the rest of the night (a damaged journal or UNIQNAME registry
set aside at start). They travel in the snapshot's ``service.alerts``, so the
console, ``dataman health`` and the status display all say them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataman.service.supervisor import Supervisor


def standing_problems(sup: Supervisor) -> tuple[str, ...]:
    """Each condition as ``phrase: reason``, most urgent first."""
    found = [sup.intake.refusals.problem, sup.stall.problem, *sup.notices]
    return tuple(problem for problem in found if problem)


def night_notes(sup: Supervisor, date: str, start: float, end: float) -> list[str]:
    """The night log summary's lines on what the journal could not say itself."""
    return [*sup.intake.refusals.summary_lines(date, start, end),
            *(f"night {date} {notice}" for notice in sup.notices)]
