"""The ``dualtape`` command. Each subcommand lives in ``dualtape/commands/<name>.py`` and
exposes ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``."""

from __future__ import annotations

import argparse
import importlib
import sys

#: Subcommands in the order ``dualtape --help`` lists them.
COMMANDS = ("demo", "trace", "compare", "train", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dualtape", description="Forward- and reverse-mode automatic differentiation "
        "for plain NumPy code.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"dualtape.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"dualtape.commands.{name}":
                raise
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    return int(args._run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
