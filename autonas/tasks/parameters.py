"""Validation of the classifiers' parameters, run first in `fit`, before data or disk are touched."""
from __future__ import annotations

import numbers
import os

from autonas.distribute.strategies import check_strategy
from autonas.engine.budget import parse_duration
from autonas.oracles.halving import make_halving
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
    seed = estimator.seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}.")
    check_optimizer(estimator.optimizer)
    check_strategy(estimator.distribution_strategy)
    rate = estimator.learning_rate
    if rate is not None and not (isinstance(rate, numbers.Real) and not isinstance(rate, bool) and rate > 0):
        raise ValueError(f"learning_rate must be None or a positive number, got {rate!r}.")
    if not (isinstance(estimator.dropout, numbers.Real) and 0 <= estimator.dropout < 1):
        raise ValueError(f"dropout must be in [0, 1), got {estimator.dropout!r}.")
    check_parallel_trials_value(estimator.parallel_trials)
    make_halving(estimator.successive_halving)
    if estimator.verbose not in (0, 1, 2, False, True):
        raise ValueError(f"verbose must be 0, 1 or 2, got {estimator.verbose!r}.")
    return parse_duration(estimator.time_limit)


def check_integer(name, value, minimum):
    """Raise ValueError unless `value` is an integer (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


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
