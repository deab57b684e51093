"""Subcommands of the ``dataman`` command line, one module each."""
