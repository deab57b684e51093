"""Pure processing: configuration, frame reading, header fixes, OTM, naming, delivery.

Nothing here imports ``dataman.ipc``, ``dataman.tui`` or the supervisor, so a
notebook, a batch job or a worker process can call it alike.
"""
