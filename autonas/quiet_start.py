"""Keep TensorFlow's start-up notices off the command line's first screen.

TensorFlow 2.21 prints its oneDNN, CUDA-stub and CPU-feature notices before its logging is set
up, so TF_CPP_MIN_LOG_LEVEL does not hide them, and a machine without a GPU logs a cuInit error
when devices are first listed. A new user reads these as failures. The command line
(`autonas ...`, `python -m autonas ...`) therefore routes file descriptor 2 into a temporary
file from before `import tensorflow` until its devices are listed, then writes back every line
except those notices.

Python's import system runs `autonas/__init__.py` (which imports TensorFlow) before the command
line's own code, so `autonas/__init__.py` calls `quiet_command_line_start` first and
`end_quiet_start` last; they do nothing unless this process is the command line or a script that
set AUTONAS_QUIET_START=1 before importing autonas (the examples do): `import autonas` in a
user's program changes no environment variable and no file descriptor. This module imports only
the standard library.

A user who sets TF_CPP_MIN_LOG_LEVEL themselves gets TensorFlow's output as they asked for it.
"""
from __future__ import annotations

import atexit
import os
import re
import sys
import tempfile

COMMAND_NAMES = ("autonas", "autonas-script")  # the console script (autonas-script.py on Windows)
LOG_LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
QUIET_START_VARIABLE = "AUTONAS_QUIET_START"  # "1": a script asks for the command line's quiet start
COMMAND_LINE_LOG_LEVEL = "2"  # C++ INFO and WARNING lines off; errors still show
STARTUP_NOTICES = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called"
    r"|oneDNN custom operations are on"
    r"|cudart_stub\.cc.*Could not find cuda drivers"
    r"|failed call to cuInit"
    r"|This TensorFlow binary is optimized to use available CPU instructions"
    r"|^To enable the following instructions:.*rebuild TensorFlow"
)

_held = None  # (saved copy of fd 2, temporary file) while the start-up is quieted


def started_as_command_line():
    """Whether this process is `autonas ...` or `python -m autonas ...`, not a program importing autonas."""
    script = os.path.splitext(os.path.basename(sys.argv[0] if sys.argv else ""))[0]
    if script in COMMAND_NAMES:
        return True
    arguments = list(getattr(sys, "orig_argv", ()))
    return any(flag == "-m" and module == "autonas" for flag, module in zip(arguments, arguments[1:])) \
        or "-mautonas" in arguments


def quiet_command_line_start():
    """On the command line, before TensorFlow is imported: set TF_CPP_MIN_LOG_LEVEL=2 and hold
    back stderr until `end_quiet_start`, unless the user set TF_CPP_MIN_LOG_LEVEL."""
    global _held
    wanted = started_as_command_line() or os.environ.get(QUIET_START_VARIABLE) == "1"
    if _held is not None or not wanted or LOG_LEVEL_VARIABLE in os.environ:
        return
    if "tensorflow" in sys.modules:  # too late: its notices are out already
        return
    os.environ[LOG_LEVEL_VARIABLE] = COMMAND_LINE_LOG_LEVEL
    sys.stderr.flush()
    held_lines = tempfile.TemporaryFile(mode="w+b")
    _held = (os.dup(2), held_lines)
    os.dup2(held_lines.fileno(), 2)
    # A failed import prints its traceback and exits before the command line ends the hold.
    atexit.register(end_quiet_start)


def end_quiet_start():
    """Give stderr back and write out what was held, less TensorFlow's start-up notices.

    Lists TensorFlow's devices first (only when it is imported), since that is when a machine
    without a GPU logs its cuInit error. Does nothing when nothing is held.
    """
    global _held
    if _held is None:
        return
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].config.list_physical_devices()
    saved, held_lines = _held
    _held = None
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)
    held_lines.seek(0)
    kept = [line for line in held_lines.read().decode("utf-8", "replace").splitlines(keepends=True)
            if not STARTUP_NOTICES.search(line)]
    held_lines.close()
    if kept:
        sys.stderr.write("".join(kept))
        sys.stderr.flush()
