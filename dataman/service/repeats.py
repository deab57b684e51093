"""Requests for a frame already known: logged once in a while, not once per datagram.

azcam sends one ``proc`` per frame, but a misbehaving client (or an attacker
among the allowed senders) may send the same one thousands of times a second.
Each repeat costs nothing but a journal lookup; this keeps it from costing a
log line too, so a flood cannot fill the log disk or drown the real events.

>>> repeats = RepeatedRequests(period=60.0)
>>> repeats.should_log("mods1b.20251230.0001.fits", now=0.0)
True
>>> repeats.should_log("mods1b.20251230.0001.fits", now=1.0)
False
>>> repeats.suppressed("mods1b.20251230.0001.fits")
1
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Names remembered at most; older ones are forgotten first (they log again, that is all).
CAPACITY = 4096


@dataclass
class RepeatedRequests:
    period: float = 60.0
    _last: dict[str, float] = field(default_factory=dict)
    _suppressed: dict[str, int] = field(default_factory=dict)

    def should_log(self, name: str, now: float) -> bool:
        """True for the first repeat of ``name`` in ``period`` seconds."""
        last = self._last.get(name)
        if last is not None and now - last < self.period:
            self._suppressed[name] = self._suppressed.get(name, 0) + 1
            return False
        self._last.pop(name, None)  # re-inserted last: the first key is the oldest
        if len(self._last) >= CAPACITY:
            oldest = next(iter(self._last))
            del self._last[oldest]
            self._suppressed.pop(oldest, None)
        self._last[name] = now
        return True

    def suppressed(self, name: str) -> int:
        """Repeats of ``name`` not logged since it was last logged; reset by reading."""
        return self._suppressed.pop(name, 0)
