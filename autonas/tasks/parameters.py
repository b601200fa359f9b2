"""Validation of the classifiers' parameters, run first in `fit`, before data or disk are touched."""
from __future__ import annotations

import math
import numbers
import os

import keras_tuner
import numpy as np

from autonas.distribute.strategies import check_strategy
from autonas.engine.budget import parse_duration
from autonas.oneshot import ONE_SHOT_NAMES
from autonas.oracles.halving import make_halving
from autonas.space.genotype import Genotype
from autonas.space.hypermodel import check_optimizer


def check_parameters(estimator):
    """Raise ValueError naming the first bad parameter of a `SearchClassifier`; the time limit in
    seconds (None: no limit) otherwise."""
    if estimator.max_trials is not None:
        check_integer("max_trials", estimator.max_trials, 1)
    for name in ("epochs", "final_epochs"):  # None: sized to the time limit
        if getattr(estimator, name) is not None:
            check_integer(name, getattr(estimator, name), 1)
    for name, minimum in [("batch_size", 1),
                          ("num_blocks", 1), ("search_filters", 2), ("search_normal_cells", 1),
                          ("final_filters", 2), ("final_normal_cells", 1)]:
        check_integer(name, getattr(estimator, name), minimum)
    check_operations_value(estimator.operations)
    check_directory_value(estimator.directory)
    for name in ("overwrite", "retrain"):
        check_boolean(name, getattr(estimator, name))
    check_warm_start_value(estimator.warm_start)
    seed = estimator.seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}.")
    check_optimizer(estimator.optimizer)
    check_strategy(estimator.distribution_strategy)
    rate = estimator.learning_rate
    if rate is not None and not (isinstance(rate, numbers.Real) and not isinstance(rate, bool) and 0 < rate < math.inf):
        raise ValueError(f"learning_rate must be None or a positive number, got {rate!r}.")
    if not (isinstance(estimator.dropout, numbers.Real) and 0 <= estimator.dropout < 1):
        raise ValueError(f"dropout must be in [0, 1), got {estimator.dropout!r}.")
    check_parallel_trials_value(estimator.parallel_trials)
    make_halving(estimator.successive_halving)
    if estimator.verbose not in (0, 1, 2, False, True):
        raise ValueError(f"verbose must be 0, 1 or 2, got {estimator.verbose!r}.")
    estimator._search_objective()  # objective, max_params, max_latency_ms, latency_batch_size
    check_width_multipliers_value(estimator.width_multipliers, estimator.oracle)
    if isinstance(estimator.oracle, keras_tuner.Oracle):
        check_oracle_space(estimator.oracle, estimator._search_space(reduction_cell=True))
    return parse_duration(estimator.time_limit)


def check_integer(name, value, minimum):
    """Raise ValueError unless `value` is an integer (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def check_width_multipliers_value(value, oracle):
    """None, or a non-empty list of distinct positive numbers, with a trial oracle."""
    if value is None:
        return
    numbers_given = isinstance(value, (list, tuple)) and all(
        isinstance(m, numbers.Real) and not isinstance(m, bool) and 0 < m < math.inf for m in value)
    if not numbers_given or not value or len(set(value)) != len(value):
        raise ValueError(f"width_multipliers must be None or a list of distinct positive numbers (multiples of "
                         f"the network's filters, e.g. [0.25, 0.5, 1.0]), got {value!r}.")
    if isinstance(oracle, str) and oracle in ONE_SHOT_NAMES:
        raise ValueError(f"oracle={oracle!r} trains one supernet at one width: leave width_multipliers None, or use "
                         f"a trial oracle such as 'evolution' to search {list(value)}.")


def check_parallel_trials_value(value):
    """Raise ValueError unless `value` is an integer >= 1 or "auto"."""
    if value == "auto":
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"parallel_trials must be an integer >= 1 (trials run at once) or 'auto' (one per GPU, "
                         f"else one per core), got {value!r}.")


def check_operations_value(value):
    """Raise ValueError unless `value` is None (the task's default list) or a non-empty list of
    names (an empty list would search nothing, a bare string is not a list of names)."""
    if value is None:
        return
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise ValueError(f"operations must be None (the default list) or a list of operation names, got {value!r}; "
                         f"for one operation write [{value!r}].")
    if len(value) == 0:
        raise ValueError("operations is empty: give at least one operation name, or None for the default list.")


def check_directory_value(value):
    """Raise ValueError unless `value` is None or a path that is not an existing file."""
    if value is None:
        return
    if not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"directory must be None or a folder path, got {value!r}.")
    if os.path.isfile(value):
        raise ValueError(f"directory={os.fspath(value)!r} is a file; give the path of a folder (new or existing) "
                         "for the search's records.")


def check_boolean(name, value):
    """Raise ValueError unless `value` is True or False: a string such as "no" is truthy and
    would silently mean yes."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}.")


def check_warm_start_value(value):
    """Raise ValueError unless `value` is None or a list (of genotypes or published cell names);
    a bare name would otherwise be read letter by letter."""
    if value is None:
        return
    if isinstance(value, (str, bytes, Genotype)) or not hasattr(value, "__iter__"):
        one = f"[{value!r}]" if isinstance(value, str) else "[genotype]" if isinstance(value, Genotype) else None
        raise ValueError(f"warm_start must be None or a list of genotypes or published cell names, got {value!r}"
                         + (f"; for one cell write {one}." if one else "."))


def check_oracle_space(oracle, space):
    """Raise ValueError when a `keras_tuner.Oracle` instance does not search the cell space: it
    brings hyperparameters the cells never read (or reads with other choices), or it would not
    tune the space's own (`tune_new_entries=False`, `allow_new_entries=False`), which searches
    nothing or fails every trial. `space` is the search space with both cells."""
    expected = {hp.name: hp for hp in space.hyperparameters().space}
    fix = ("pass an oracle without hyperparameters, e.g. keras_tuner.oracles.BayesianOptimizationOracle("
           "objective='val_accuracy', max_trials=20): the classifier declares the cells' own.")
    for hp in oracle.hyperparameters.space:
        match = expected.get(hp.name)
        if match is None:
            raise ValueError(f"The oracle's search space does not match the cells': it has hyperparameter "
                             f"{hp.name!r}, which the cells never read (theirs are named like "
                             f"{next(iter(expected))!r}); {fix}")
        if type(hp) is not type(match) or list(getattr(hp, "values", ())) != list(getattr(match, "values", ())):
            raise ValueError(f"The oracle's search space does not match the cells': {hp.name!r} is "
                             f"{hp.get_config()}, the cells search {match.get_config()} (another num_blocks or "
                             f"operations?); {fix}")
    if not (oracle.tune_new_entries and oracle.allow_new_entries) and set(expected) - {
            hp.name for hp in oracle.hyperparameters.space}:
        raise ValueError("The oracle was built with tune_new_entries=False or allow_new_entries=False and without "
                         f"the cells' hyperparameters, so it would search nothing; {fix}")
