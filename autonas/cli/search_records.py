"""`autonas leaderboard DIR` and `autonas plot DIR`: a search directory's trials, read from its files.

DIR is the `--directory` of `autonas fit` (or a classifier's `directory=`). Only its files are
read (`autonas.engine.search.directory_leaderboard`), so both work while the search runs.
"""
from __future__ import annotations

import argparse
import os

import pandas as pd

from autonas.cli.errors import CommandError
from autonas.engine.search import directory_leaderboard
from autonas.plots import plot_search


def add_parsers(commands):
    leaderboard = commands.add_parser(
        "leaderboard", help="print the trials of a search directory, best first (also while it runs)",
        description="Print every trial of the search kept in DIR (`autonas fit --directory DIR`), best first:\n"
                    "architecture, score, parameters, epochs, seconds, status. Reads the files only, so it\n"
                    "works while the search runs.",
        epilog="example:\n  autonas leaderboard runs/", formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_directory_arguments(leaderboard)
    leaderboard.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    leaderboard.set_defaults(run=run_leaderboard)
    plot = commands.add_parser(
        "plot", help="draw a search directory's scores by trial and by time (needs matplotlib)",
        description="Draw every trial's score by trial number and by summed trial time, with the best so far\n"
                    "(autonas.plot_search), from the search kept in DIR.",
        epilog="example:\n  autonas plot runs/ --out search.png", formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_directory_arguments(plot)
    plot.add_argument("--out", default="search.png", metavar="FILE",
                      help="image file; its extension picks the format: .png, .svg, .pdf (default: search.png)")
    plot.set_defaults(run=run_plot)


def _add_directory_arguments(parser):
    parser.add_argument("directory", metavar="DIR", help="the search's --directory")
    parser.add_argument("--project", help="image_search or text_search, when DIR holds both")


def read_leaderboard(args):
    if not os.path.isdir(args.directory):
        raise CommandError(f"{args.directory} {'is not a folder' if os.path.exists(args.directory) else 'does not exist'}.")
    try:
        return directory_leaderboard(args.directory, args.project)
    except (ValueError, OSError) as error:
        raise CommandError(str(error)) from None


def run_leaderboard(args):
    frame = read_leaderboard(args)
    if args.csv:
        frame.to_csv(args.csv, index=False)
    if frame.empty:
        print(f"{args.directory}: no trials yet.")
        return 0
    print(leaderboard_table(frame))
    return 0


def leaderboard_table(frame):
    """The leaderboard as text, the long architecture column last and left-aligned."""
    frame = frame[[column for column in frame.columns if column != "architecture"] + ["architecture"]]
    width = int(frame["architecture"].str.len().max())
    with pd.option_context("display.max_colwidth", None, "display.width", None):
        table = frame.to_string(index=False, justify="left", float_format=lambda value: f"{value:.4f}",
                                formatters={"architecture": lambda text: f"{text:<{width}}"})
    return "\n".join(line.rstrip() for line in table.splitlines())


def run_plot(args):
    frame = read_leaderboard(args)
    try:
        figure = plot_search(frame)
    except (ImportError, ValueError) as error:  # matplotlib missing; no trial scored yet
        raise CommandError(str(error)) from None
    figure.savefig(args.out)
    print(f"wrote {args.out}")
    return 0
