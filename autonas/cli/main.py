"""The `autonas` command: its parser, and exit codes 0 (done), 1 (bad input), 2 (bad usage)."""
from __future__ import annotations

import argparse
import sys

from autonas import __version__
from autonas.cli import fit, predict, search_records
from autonas.cli.errors import CommandError


def build_parser():
    parser = argparse.ArgumentParser(
        prog="autonas", description="Neural architecture search for images and texts: fit, predict, and read a "
                                    "search's trials. `autonas COMMAND --help` describes each command.")
    parser.add_argument("--version", action="version", version=f"autonas {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fit.add_parser(commands)
    predict.add_parser(commands)
    search_records.add_parsers(commands)
    return parser


def main(argv=None):
    """Run the command in `argv` (default: the process's arguments); return its exit code.

    A `CommandError` is printed as one line, `autonas <command>: error: <message>`, and gives 1;
    argparse's usage errors give 2.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CommandError as error:
        print(f"autonas {args.command}: error: {error}", file=sys.stderr)
        return 1
