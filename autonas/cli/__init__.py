"""The `autonas` command line: fit a folder of images or a CSV of texts, predict, read a search.

`main.py` builds the argument parser and turns a `CommandError` into one line and exit code 1;
each command is one module that adds its parser and runs it: `fit.py`, `predict.py`, and
`search_records.py` (`leaderboard`, `plot`: a search directory read while or after it runs).
`image_folder.py` and `text_file.py` check and read the inputs, before anything is trained or
written. TensorFlow's start-up notices are held back by `autonas.quiet_start`, which must run
before TensorFlow is imported (docs/cli.md).
"""
from autonas.cli.main import main

__all__ = ["main"]
