"""Check a search directory's files before a search writes to it or resumes from it.

keras-tuner reads a project's files as it builds its Tuner and fails deep inside itself on a
damaged one (a `JSONDecodeError` naming no file, a `KeyError`), and it writes into a read-only
directory until the first write raises, in the middle of a trial. These checks run before any
training and say which file is wrong, what is wrong with it, and what to do:

- `check_writable`: the directory (and the project in it) can be written;
- `check_project_files`: every file keras-tuner will read to resume the project (`oracle.json`,
  the tuner's `<tuner id>.json`, each `trial_*/trial.json`) is whole and readable, and every
  trial the oracle started has its file;
- `missing_weights`: the trials that completed but whose weights file is gone (deleted, or
  written on another machine). That is not an error: the search resumes, a promoted trial whose
  parent's weights are missing trains from scratch, and a winner whose weights are missing is
  trained again when its model is kept (`autonas.engine.retrain`).

Files autonas writes itself are replaced atomically (`autonas.oracles.recovery`), so a kill
never leaves them half-written; a damaged file means damage from outside (a disk, a copy, an
editor), which autonas cannot repair without guessing.
"""
from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import tempfile

import keras_tuner

from autonas.oracles.pareto import constraint_violation

WEIGHTS_FILE = "model.weights.h5"  # a trial's trained weights, as `SearchTuner` saves them
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)
_ORACLE_KEYS = ("ongoing_trials", "start_order", "end_order", "hyperparameters")


class SearchDirectoryNotWritable(PermissionError, ValueError):
    """The search directory cannot be written (read-only, or not the user's)."""


class DamagedSearchFile(ValueError):
    """A file of a search, needed to resume it, is missing, truncated or corrupted."""


def check_writable(directory, project_name=None):
    """Raise before anything is trained if a search cannot write to `directory`.

    Creates `directory` if missing, then creates and deletes a probe file in it (and in its
    project folder, if there is one): a real write, which also sees a read-only mount and
    access control lists.

    Raises:
        SearchDirectoryNotWritable: naming the directory and the system's reason.
    """
    directory = os.fspath(directory)
    if "://" in directory:
        return
    folders = [directory]
    if project_name is not None and os.path.isdir(os.path.join(directory, project_name)):
        folders.append(os.path.join(directory, project_name))
    for folder in folders:
        try:
            os.makedirs(folder, exist_ok=True)
            descriptor, probe = tempfile.mkstemp(prefix=".autonas-probe-", dir=folder)
            os.close(descriptor)
            os.remove(probe)
        except OSError as error:
            if error.errno not in _NOT_WRITABLE:
                raise
            raise SearchDirectoryNotWritable(
                error.errno,
                f"Cannot write to the search directory {folder} ({error.strerror}): a search keeps its trials "
                "there. Make it writable, or pass another directory= (a finished search can still be read "
                "where it is: autonas.engine.search.directory_leaderboard).") from None


def read_json_file(path, *, what, fix):
    """The JSON object in `path`; `DamagedSearchFile` naming `path`, `what` it is and the `fix`
    when it is missing, unreadable, not JSON, or not a JSON object."""
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
    except FileNotFoundError:
        problem = "is missing"
    except (OSError, UnicodeDecodeError) as error:
        problem = f"cannot be read ({error})"
    except json.JSONDecodeError as error:
        size = os.path.getsize(path)
        problem = ("is empty" if size == 0 else
                   f"is truncated or corrupted ({size} bytes, not valid JSON: {error.msg} at line {error.lineno} "
                   f"column {error.colno})")
    else:
        if isinstance(value, dict):
            return value
        problem = f"holds a JSON {type(value).__name__}, not an object"
    raise DamagedSearchFile(f"{path} ({what}) {problem}. {fix}")


def check_project_files(project_dir, tuner_id):
    """Raise before a resume if keras-tuner could not read the project in `project_dir` whole.

    Args:
        project_dir: the keras-tuner project (`<directory>/<project_name>`).
        tuner_id: this process's tuner id ("tuner0", or `KERASTUNER_TUNER_ID`).

    Raises:
        DamagedSearchFile: naming the first damaged or missing file, the problem and the fix.
    """
    fix = (f"Restore it from a copy, or pass overwrite=True (or another directory=) to start a new search; "
           f"the trials in {project_dir} cannot be resumed without it.")
    read_json_file(os.path.join(project_dir, f"{tuner_id}.json"), what="the tuner's state", fix=fix)
    oracle_path = os.path.join(project_dir, "oracle.json")
    state = read_json_file(oracle_path, what="the search strategy's state", fix=fix)
    missing = [key for key in _ORACLE_KEYS if key not in state]
    if missing:
        raise DamagedSearchFile(f"{oracle_path} (the search strategy's state) lacks {', '.join(missing)}: it was "
                                f"not written by keras-tuner's Oracle, or was damaged. {fix}")
    loaded = set()
    for path in sorted(glob.glob(os.path.join(glob.escape(project_dir), "trial_*", "trial.json"))):
        read_json_file(path, what="a trial's record", fix=fix)
        try:
            loaded.add(keras_tuner.engine.trial.Trial.load(path).trial_id)
        except Exception as error:  # keras-tuner's own reading: a KeyError, a TypeError, ...
            raise DamagedSearchFile(f"{path} (a trial's record) is not a keras-tuner trial "
                                    f"({type(error).__name__}: {error}). {fix}") from None
    for trial_id in state["start_order"]:
        if trial_id not in loaded:
            raise DamagedSearchFile(f"{os.path.join(project_dir, f'trial_{trial_id}', 'trial.json')} (the record of "
                                    f"trial {trial_id}, which {oracle_path} lists as started) is missing. {fix}")


def missing_weights(project_dir):
    """Paths of the weights files of completed trials in `project_dir` that are not there (a
    trial over a cost limit was never trained, and has none to miss)."""
    missing = []
    for path in sorted(glob.glob(os.path.join(glob.escape(project_dir), "trial_*", "trial.json"))):
        with contextlib.suppress(OSError, ValueError):
            trial = keras_tuner.engine.trial.Trial.load(path)
            weights = os.path.join(os.path.dirname(path), WEIGHTS_FILE)
            if trial.status == "COMPLETED" and constraint_violation(trial) <= 0 and not os.path.exists(weights):
                missing.append(weights)
    return missing
