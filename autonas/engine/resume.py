"""Resuming a search: record the configuration it started with, check it on resume.

With `overwrite=False`, keras-tuner resumes whatever project it finds in `directory`. Trials
run under other settings would then be ranked together, and an oracle would learn from scores
that mean something else, so a search resumed with a changed configuration is refused, before
any training and without writing anything.

Checked (`CHECKED`): what decides which architectures are tried and how they are trained and
scored: the task, the oracle (its name, or the class of an Oracle instance, whose own
configuration the oracle checks itself when it reloads), the seed, the search space
(operations, blocks, cell types), the proxy network (filters, normal cells, dropout), epochs,
optimizer, learning rate, batch size per replica and global batch size, warm-start cells,
successive halving, what the data look like to the search (classes, training and validation
sizes), and a search's objectives and cost limits with the network size its costs are measured at.

Not checked, because changing them does not change what a trial is: `max_trials` (a resumed
search may be extended or cut short), `time_limit` (a budget for this call of `fit`), `verbose`,
the final retraining (`retrain`, `final_epochs`, `final_filters`, `final_normal_cells`),
`directory` and `overwrite`. The data themselves are not hashed: other samples of the same
sizes and classes are not detected.

`seed=None` draws a seed; it is recorded, and a resumed `seed=None` search reuses it
(`recorded_seed`) for its validation split and its oracle, so the trials after the resume are
scored on the same samples as the ones before. The seed checked is the one the search runs with:
a resume with `seed=None` or the recorded seed continues, any other seed is refused.

The record is a JSON file beside the keras-tuner project, `<directory>/<project_name>.autonas.json`,
not inside it: keras-tuner deletes the project directory itself when `overwrite=True`. It also
holds the record's `FORMAT` and the versions of autonas and keras-tuner that wrote it: a search
whose record has another format was written by an autonas that this one cannot resume, and is
refused with both versions named.

Before a resume, the directory's files are checked too (`autonas.engine.project_files`): a
read-only directory, a damaged or missing record, tuner, oracle or trial file is refused, naming
the file; completed trials whose weights file is missing are named in a warning and the search
goes on.
"""
from __future__ import annotations

import json
import os
import warnings

import keras_tuner

from autonas.engine.project_files import (DamagedSearchFile, check_project_files, check_writable, missing_weights,
                                          read_json_file)
from autonas.oracles.recovery import write_json_atomically

FORMAT = 2  # 2: the configuration's seed is the one the search ran with (1: the seed argument)
# Named as the classifier's parameters where there is one.
CHECKED = ("task", "oracle", "seed", "operations", "num_blocks", "cell_types", "network_choices", "search_filters",
           "search_normal_cells", "dropout", "epochs", "optimizer", "learning_rate", "batch_size", "global_batch_size",
           "warm_start", "successive_halving", "num_classes", "train_size", "validation_size", "objective")


def record_path(directory, project_name):
    """Where the configuration of the search `directory/project_name` is recorded."""
    return os.path.join(str(directory), f"{project_name}.autonas.json")


def tuner_id():
    """This process's keras-tuner tuner id, which names its state file `<tuner id>.json`."""
    return os.environ.get("KERASTUNER_TUNER_ID", "tuner0")


def is_resuming(directory, project_name, overwrite):
    """Whether keras-tuner will reload the project (its test: the tuner's state file exists)."""
    return not overwrite and os.path.exists(os.path.join(str(directory), project_name, f"{tuner_id()}.json"))


def autonas_version():
    """The installed autonas's version (read when needed: `autonas` imports this module)."""
    import autonas

    return autonas.__version__


def new_record(configuration):
    """The record of a new search with `configuration`, as `check_resume` writes it."""
    return {"format": FORMAT, "autonas_version": autonas_version(), "keras_tuner_version": keras_tuner.__version__,
            "configuration": configuration, "seed": configuration["seed"]}


def read_record(directory, project_name):
    """The record of the search `directory/project_name`, checked to be one this autonas resumes.

    Raises:
        ValueError: (`DamagedSearchFile`) the record is missing or damaged; the record was
            written by an autonas whose record format differs (both versions named).
    """
    path = record_path(directory, project_name)
    project_dir = os.path.join(str(directory), project_name)
    fix = "Pass overwrite=True (or another directory=) to start a new search."
    if not os.path.exists(path):
        raise DamagedSearchFile(
            f"Cannot resume the search in {project_dir}: it has no record of the configuration it was started "
            f"with ({path} is missing), so a changed configuration could not be detected. {fix}")
    record = read_json_file(path, what=f"the record of the search in {project_dir}", fix=fix)
    if record.get("format") != FORMAT:
        written_by = record.get("autonas_version") or "an earlier version of autonas"
        raise ValueError(
            f"Cannot resume the search in {project_dir}: it was written by autonas {written_by} (record format "
            f"{record.get('format')!r} in {path}), and autonas {autonas_version()} resumes only searches of record "
            f"format {FORMAT}. Finish it with the autonas that started it, or pass overwrite=True (or another "
            "directory=) to start a new search with this one.")
    if not isinstance(record.get("configuration"), dict) or not isinstance(record.get("seed"), int):
        raise DamagedSearchFile(f"{path} (the record of the search in {project_dir}) lacks its configuration or "
                                f"seed: it was damaged. {fix}")
    return record


def recorded_seed(directory, project_name, overwrite):
    """The seed recorded for a search that this `fit` will resume, else None (a new search)."""
    if directory is None or not is_resuming(directory, project_name, overwrite):
        return None
    try:
        return read_record(directory, project_name)["seed"]
    except ValueError:
        return None  # no usable record: `check_resume` refuses the resume with the reason


def search_configuration(*, task, oracle, seed, space, hypermodel, epochs, batch_size, global_batch_size, warm_start,
                         data, halving=None, objective=None, cost_size=None):
    """The settings of a search that a resumed search must share (see `CHECKED`), as JSON reads
    them back: `task` names the classifier, `seed` is the one the search runs with, the rest are
    the search's own arguments (`halving`: its `SuccessiveHalving`, None for none; `objective`:
    its `SearchObjective`, None for validation accuracy alone; `cost_size`: the `NetworkSize`
    costs are measured at, None for the search size)."""
    costs = None if objective is None else objective.configuration()
    if costs is not None:
        costs["measured_at"] = None if cost_size is None else [cost_size.filters, cost_size.normal_cells]
    configuration = {
        "task": task,
        "oracle": oracle if isinstance(oracle, str) else f"{type(oracle).__module__}.{type(oracle).__qualname__}",
        "seed": int(seed),
        "operations": list(space.operations),
        "num_blocks": space.num_blocks,
        "cell_types": list(space.cell_types),
        "network_choices": space.choices_configuration(),
        "search_filters": hypermodel.size.filters,
        "search_normal_cells": hypermodel.size.normal_cells,
        "dropout": hypermodel.size.dropout,
        "epochs": epochs,
        "optimizer": hypermodel.optimizer,
        "learning_rate": hypermodel.learning_rate,
        "batch_size": batch_size,
        "global_batch_size": global_batch_size,
        "warm_start": [entry if isinstance(entry, str) else entry.to_dict() for entry in warm_start or ()],
        "successive_halving": None if halving is None else halving.configuration(),
        "num_classes": hypermodel.num_classes,
        "train_size": data.train_size,
        "validation_size": data.validation_size,
        "objective": costs,
    }
    return json.loads(json.dumps(configuration))  # as it reads back from the file


def check_resume(directory, project_name, *, overwrite, configuration):
    """Record a new search's configuration, or check a resumed one's against its record.

    Args:
        directory: the directory of the keras-tuner project.
        project_name: the project's name in `directory`.
        overwrite: whether the search starts afresh (nothing is checked).
        configuration: `search_configuration(...)` of this search.

    Raises:
        ValueError: when the project would be resumed but was started with another
            configuration (naming each change), has no record to compare with, was written by
            an incompatible autonas, or has a damaged file (`DamagedSearchFile`, naming it).
        PermissionError: (`SearchDirectoryNotWritable`, also a ValueError) `directory` cannot
            be written.

    Warns:
        UserWarning: the resumed project has completed trials whose weights file is missing.
    """
    path = record_path(directory, project_name)
    check_writable(directory, project_name)
    if not is_resuming(directory, project_name, overwrite):
        write_json_atomically(path, new_record(configuration))
        return
    project_dir = os.path.join(str(directory), project_name)
    saved = read_record(directory, project_name)["configuration"]
    changes = [f"{name}: {saved.get(name)!r} then, {configuration.get(name)!r} now" for name in CHECKED
               if saved.get(name) != configuration.get(name)]
    if changes:
        raise ValueError(
            f"Cannot resume the search in {project_dir} with a changed configuration ("
            + "; ".join(changes) + "). Resume it with the original settings, or pass overwrite=True or another "
            "directory to start a new search.")
    check_project_files(project_dir, tuner_id())
    missing = missing_weights(project_dir)
    if missing:
        warnings.warn(
            f"{len(missing)} completed trial(s) of the search in {project_dir} have no weights file ("
            + ", ".join(missing) + "): the search resumes; a trial promoted from one of them trains from scratch, "
            "and if one is the winner whose model is kept, its architecture is trained again.", stacklevel=2)
