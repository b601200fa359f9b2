"""Texts from files: a CSV with a text column (and a label column to train on), or one text a line."""
from __future__ import annotations

import os

import pandas as pd

from autonas.cli.errors import CommandError


def read_csv(path, columns):
    """The CSV at `path` with every cell as written (an empty cell is "", not NaN).

    Raises:
        CommandError: the file is missing or unreadable, or lacks one of `columns` (the
            message lists the columns it has).
    """
    if not os.path.isfile(path):
        raise CommandError(f"{path} does not exist." if not os.path.exists(path) else f"{path} is not a file.")
    try:
        frame = pd.read_csv(path, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise CommandError(f"cannot read {path} as CSV: {str(error).splitlines()[0]}") from None
    for column in columns:
        if column not in frame.columns:
            raise CommandError(f"{path} has no column {column!r}; its columns are: "
                               f"{', '.join(map(str, frame.columns))}.")
    return frame


def labelled_texts(path, *, text_column, label_column):
    """`(texts, labels)` from the CSV at `path` (see `read_csv`)."""
    frame = read_csv(path, [text_column, label_column])
    if frame.empty:
        raise CommandError(f"{path} has a header but no rows.")
    return frame[text_column].astype(str).to_numpy(), frame[label_column].to_numpy()


def texts_to_predict(path, *, text_column):
    """The texts in `path`: a .csv file's `text_column`, else every line of a text file."""
    if path.lower().endswith(".csv"):
        return read_csv(path, [text_column])[text_column].astype(str).tolist()
    if not os.path.isfile(path):
        raise CommandError(f"{path} does not exist." if not os.path.exists(path)
                           else f"{path} is not a file: this model takes texts (a CSV, or a file with one a line).")
    with open(path, encoding="utf-8", errors="replace") as handle:
        return [line.rstrip("\r\n") for line in handle]
