"""The reliability and security campaign: faults and bad input against a real service.

The cases are tests (real processes on loopback and temporary folders); each one
records a row -- case, expected, observed, frames requested / delivered / failed /
lost -- and ``python -m tests.reliability`` (from the checkout) runs them and prints
the table. "Lost" is a frame that was requested but ended neither delivered
(complete, in repoDir) nor failed with a reason in the journal. Test tooling, so it
lives here and not in the installed package.
"""
