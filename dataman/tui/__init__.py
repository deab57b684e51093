"""``dataman-console``: the live Textual console of a running dataMan service.

It talks to the service only through the control socket (``dataman.ipc.control``):
one subscription gives a snapshot and then events, which :mod:`dataman.tui.model`
folds into the console's view; the widgets only draw that view. Nothing outside
this package imports textual.
"""
