"""Resuming a classifier's search: record the configuration it started with, check it on resume.

With `overwrite=False`, keras-tuner resumes whatever project it finds in `directory`. Trials
run under other settings would then be ranked together, and an oracle would learn from scores
that mean something else, so a search resumed with a changed configuration is refused, before
any training and without writing anything.

Checked (`CHECKED`): what decides which architectures are tried and how they are trained and
scored: the task, the oracle (its name, or the class of an Oracle instance, whose own
configuration the oracle checks itself when it reloads), the seed, the search space
(operations, blocks, cell types), the proxy network (filters, normal cells, dropout), epochs,
optimizer, learning rate, batch size per replica and global batch size, warm-start cells, and
what the data look like to the search (classes, training and validation sizes).

Not checked, because changing them does not change what a trial is: `max_trials` (a resumed
search may be extended or cut short), `time_limit` (a budget for this call of `fit`), `verbose`,
the final retraining (`retrain`, `final_epochs`, `final_filters`, `final_normal_cells`),
`directory` and `overwrite`. The data themselves are not hashed: other samples of the same
sizes and classes are not detected.

`seed=None` draws a seed; it is recorded, and a resumed `seed=None` search reuses it
(`recorded_seed`) for its validation split and its oracle, so the trials after the resume are
scored on the same samples as the ones before.

The record is a JSON file beside the keras-tuner project, `<directory>/<project_name>.autonas.json`,
not inside it: keras-tuner deletes the project directory itself when `overwrite=True`.
"""
from __future__ import annotations

import json
import os

from autonas.oracles.recovery import write_json_atomically

FORMAT = 1
# Named as the classifier's parameters where there is one.
CHECKED = ("task", "oracle", "seed", "operations", "num_blocks", "cell_types", "search_filters", "search_normal_cells",
           "dropout", "epochs", "optimizer", "learning_rate", "batch_size", "global_batch_size", "warm_start",
           "num_classes", "train_size", "validation_size")


def record_path(directory, project_name):
    """Where the configuration of the search `directory/project_name` is recorded."""
    return os.path.join(str(directory), f"{project_name}.autonas.json")


def is_resuming(directory, project_name, overwrite):
    """Whether keras-tuner will reload the project (its test: the tuner's state file exists)."""
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "tuner0")
    return not overwrite and os.path.exists(os.path.join(str(directory), project_name, f"{tuner_id}.json"))


def recorded_seed(directory, project_name, overwrite):
    """The seed recorded for a search that this `fit` will resume, else None (a new search)."""
    if directory is None or not is_resuming(directory, project_name, overwrite):
        return None
    try:
        with open(record_path(directory, project_name), encoding="utf-8") as handle:
            return int(json.load(handle)["seed"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no usable record: `check_resume` refuses the resume with the reason


def search_configuration(estimator, *, space, hypermodel, data, global_batch_size):
    """The settings of `estimator`'s search that a resumed search must share (see `CHECKED`)."""
    params = estimator.get_params(deep=False)
    oracle = params["oracle"]
    configuration = {
        "task": type(estimator).__name__,
        "oracle": oracle if isinstance(oracle, str) else f"{type(oracle).__module__}.{type(oracle).__qualname__}",
        "seed": params["seed"],
        "operations": list(space.operations),
        "num_blocks": space.num_blocks,
        "cell_types": list(space.cell_types),
        "search_filters": hypermodel.size.filters,
        "search_normal_cells": hypermodel.size.normal_cells,
        "dropout": hypermodel.size.dropout,
        "epochs": params["epochs"],
        "optimizer": hypermodel.optimizer,
        "learning_rate": hypermodel.learning_rate,
        "batch_size": params["batch_size"],
        "global_batch_size": global_batch_size,
        "warm_start": [entry if isinstance(entry, str) else entry.to_dict() for entry in params["warm_start"] or ()],
        "num_classes": hypermodel.num_classes,
        "train_size": data.train_size,
        "validation_size": data.validation_size,
    }
    return json.loads(json.dumps(configuration))  # as it reads back from the file


def check_resume(estimator, directory, *, space, hypermodel, data, global_batch_size, seed):
    """Record a new search's configuration, or check a resumed one's against its record.

    Args:
        estimator: the classifier (its `get_params()` and `project_name`).
        directory: the directory of the keras-tuner project.
        space, hypermodel, data: the search's `CellSearchSpace`, `CellHyperModel`, `PreparedData`.
        global_batch_size: samples per training step across replicas.
        seed: the seed this `fit` drew or was given.

    Returns:
        The seed the search's oracle must use: the recorded one when a `seed=None` search resumes.

    Raises:
        ValueError: when the project would be resumed but was started with another
            configuration (naming each change), or has no record to compare with.
    """
    params = estimator.get_params(deep=False)
    project = estimator.project_name
    path = record_path(directory, project)
    current = search_configuration(estimator, space=space, hypermodel=hypermodel, data=data,
                                   global_batch_size=global_batch_size)
    if not is_resuming(directory, project, params["overwrite"]):
        if "://" not in str(directory):
            os.makedirs(str(directory), exist_ok=True)
        write_json_atomically(path, {"format": FORMAT, "configuration": current, "seed": int(seed)})
        return seed
    project_dir = os.path.join(str(directory), project)
    if not os.path.exists(path):
        raise ValueError(
            f"Cannot resume the search in {project_dir}: it has no record of the configuration it was started "
            f"with ({path} is missing), so a changed configuration could not be detected. Pass overwrite=True "
            "or another directory to start a new search.")
    with open(path, encoding="utf-8") as handle:
        recorded = json.load(handle)
    saved = recorded["configuration"]
    changes = [f"{name}: {saved.get(name)!r} then, {current.get(name)!r} now" for name in CHECKED
               if saved.get(name) != current.get(name)]
    if changes:
        raise ValueError(
            f"Cannot resume the search in {project_dir} with a changed configuration ("
            + "; ".join(changes) + "). Resume it with the original settings, or pass overwrite=True or another "
            "directory to start a new search.")
    return seed if params["seed"] is not None else int(recorded["seed"])
