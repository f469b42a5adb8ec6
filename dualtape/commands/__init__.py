"""Subcommands of the ``dualtape`` command (see dualtape/cli.py)."""
