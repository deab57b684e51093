"""What the quality checks found about one frame, and how that is written down.

A :class:`QualityReport` travels from the worker to the supervisor in the job
messages and into the journal as a plain dict (:meth:`QualityReport.to_dict`),
and into the MERGED header as ``QCSTATUS``, ``QCFLAGS`` and one saturation
fraction per quadrant (``Q1SAT`` .. ``Q4SAT``, numbered like ``Q1BIAS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """A frame's verdict: ``BAD`` when an amplifier is dead, ``WARN`` for any other finding."""

    OK = "OK"
    WARN = "WARN"
    BAD = "BAD"


#: Checks whose failure makes the frame BAD rather than WARN.
BAD_CHECKS = frozenset({"dead"})
#: Image types whose pixels the image-type checks judge; their flags start with the type
#: (``'COMP:lines'``): a failed exposure, for the observer, not a sick detector.
IMAGE_TYPES = ("BIAS", "FLAT", "COMP", "OBJECT")


def is_image_type_flag(flag: str) -> bool:
    """Whether ``flag`` comes from an image-type check (``'FLAT:dim'``, not ``'IM2:dead'``)."""
    return flag.partition(":")[0] in IMAGE_TYPES


@dataclass(frozen=True)
class Finding:
    """One failed check: its flag (``'IM2:dead'``, ``'hdr:DATE-OBS'``) and why, in words."""

    flag: str
    reason: str

    @property
    def status(self) -> Status:
        return Status.BAD if self.flag.partition(":")[2] in BAD_CHECKS else Status.WARN


@dataclass(frozen=True)
class AmpQuality:
    """One amplifier's measured values: bias and noise in DN, saturated fraction of its data."""

    amp: str
    quadrant: int
    bias: float
    noise: float
    saturated: float


@dataclass(frozen=True)
class QualityReport:
    """Every finding about a frame and the per-amplifier values they rest on."""

    findings: tuple[Finding, ...] = ()
    amps: tuple[AmpQuality, ...] = ()

    @property
    def status(self) -> Status:
        worst = {finding.status for finding in self.findings}
        return Status.BAD if Status.BAD in worst else Status.WARN if worst else Status.OK

    @property
    def flags(self) -> str:
        """``QCFLAGS``: the flags separated by spaces, empty when all is well."""
        return " ".join(finding.flag for finding in self.findings)

    def summary(self) -> str:
        """One line for logs: ``'WARN IM2:noise (IM2 read noise 10.5 DN above 8)'``."""
        if not self.findings:
            return str(self.status)
        reasons = "; ".join(finding.reason for finding in self.findings)
        return f"{self.status} {self.flags} ({reasons})"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (job messages, the journal's ``qc`` column)."""
        return {"findings": [[f.flag, f.reason] for f in self.findings],
                "amps": [[a.amp, a.quadrant, a.bias, a.noise, a.saturated] for a in self.amps]}

    @classmethod
    def from_dict(cls, values: object) -> QualityReport:
        """The inverse of :meth:`to_dict`; ``ValueError`` says what does not fit."""
        if not isinstance(values, dict):
            raise ValueError(f"not a quality report: {values!r:.200}")
        try:
            findings = tuple(Finding(str(flag), str(reason))
                             for flag, reason in values["findings"])
            amps = tuple(AmpQuality(str(amp), int(quadrant), float(bias), float(noise),
                                    float(saturated))
                         for amp, quadrant, bias, noise, saturated in values["amps"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a quality report: {values!r:.200}") from error
        return cls(findings, amps)


#: Every keyword ``header_cards`` may write (the MERGED extension's quality keywords).
KEYWORDS = ("QCSTATUS", "QCFLAGS", "Q1SAT", "Q2SAT", "Q3SAT", "Q4SAT")


def header_cards(report: QualityReport) -> list[tuple[str, object, str]]:
    """The MERGED extension's quality keywords, quadrants in order."""
    flags = report.flags
    cards: list[tuple[str, object, str]] = [
        ("QCSTATUS", str(report.status), "dataMan quality: OK, WARN or BAD"),
        # A long list goes on CONTINUE cards; a comment would then be cut, so it has none.
        ("QCFLAGS", flags, "dataMan quality checks failed" if len(flags) <= 36 else ""),
    ]
    for amp in sorted(report.amps, key=lambda item: item.quadrant):
        cards.append((f"Q{amp.quadrant}SAT", round(amp.saturated, 6),
                      f"Q{amp.quadrant} fraction of pixels at 65535"))
    return cards
