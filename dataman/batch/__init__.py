"""Reprocessing many frames: ``dataman process`` over a night, a run or a season.

The pieces, each small and in the order a run uses them:

* :mod:`~dataman.batch.walk` turns the command's PATHs into raw frames (and
  precise complaints about what is not one);
* :mod:`~dataman.batch.task` is the one per-frame function, run alike by a
  local process pool and by the workers of a Dask cluster;
* :mod:`~dataman.batch.runners` feeds frames to either and streams the
  outcomes back as they finish, stopping cleanly on ctrl+c;
* :mod:`~dataman.batch.tally` counts outcomes and writes the summary table;
  :mod:`~dataman.batch.display` shows lines, a progress bar and that table.

It sits where the service does in the layering (core <- ipc <- service/batch <-
commands): it uses :mod:`dataman.core` to process and nothing of the service.
"""
