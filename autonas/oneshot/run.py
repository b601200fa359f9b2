"""The classifiers' entry to one-shot search: build the supernet, run ENAS or DARTS, tabulate.

The supernet holds the children a `CellHyperModel` would build at its search size, takes the
same raw inputs, and trains with the same optimizer and peak learning rate. The search trains
on one device: a `distribution_strategy` applies to the final retraining only.
"""
from __future__ import annotations

import keras
import numpy as np
import pandas as pd

from autonas.oneshot.darts import DartsSearch
from autonas.oneshot.enas import EnasSearch
from autonas.oneshot.supernet import Supernet
from autonas.oneshot.supernet.memory import check_fits

SEARCHES = {"enas": EnasSearch, "darts": DartsSearch}
ONE_SHOT_NAMES = tuple(SEARCHES)
# Supernet epochs when no time limit ends the search sooner. ENAS trained 150 epochs on
# CIFAR-10, DARTS 50; the supernet here is a search-size proxy like the trials of other oracles.
DEFAULT_SUPERNET_EPOCHS = 50


def run_one_shot(method, space, hypermodel, data, *, deadline, seed, batch_size, learning_rate=None, say=print,
                 max_epochs=None):
    """Search `space` with `method` (a name in `ONE_SHOT_NAMES`) on `data`; a `OneShotResult`.

    Args:
        method: a name from `ONE_SHOT_NAMES`.
        space: the `CellSearchSpace`.
        hypermodel: the `CellHyperModel` of the search (inputs, classes, size, optimizer).
        data: `PreparedData`; its validation batches score the children.
        deadline: `Deadline` of the search, derivation included.
        seed: int or None.
        batch_size: samples per training batch (for the memory check).
        learning_rate: peak learning rate of the shared weights; None: the method's default.
        say: where progress lines go.
        max_epochs: the most supernet epochs; None: `DEFAULT_SUPERNET_EPOCHS`.

    Raises:
        MemoryError: when the supernet would not fit in memory (names the settings to lower).
    """
    if method not in ONE_SHOT_NAMES:
        raise ValueError(f"method must be one of {ONE_SHOT_NAMES}, got {method!r}.")
    keras.backend.clear_session()
    supernet = Supernet(space, inputs_builder=hypermodel.inputs_builder, num_classes=hypermodel.num_classes,
                        size=hypermodel.size)
    estimate = check_fits(supernet, batch_size, mixture=method == "darts", method=method)
    say(f"{method}: a supernet of {supernet.count_params():,} shared weights, about {estimate / 2**20:,.0f} MiB to "
        "train; the first epoch includes tracing its steps (minutes, once)")
    options = {"optimizer": hypermodel.optimizer, "learning_rate": learning_rate, "seed": seed}
    searcher = SEARCHES[method](supernet, **options)
    return searcher.search(data.train, data.validation, deadline=deadline,
                           max_epochs=DEFAULT_SUPERNET_EPOCHS if max_epochs is None else max_epochs,
                           on_epoch=lambda stats: say(describe_epoch(method, stats)))


def describe_epoch(method, stats):
    """One progress line for a supernet epoch."""
    numbers = ", ".join(f"{key} {value:.3f}" for key, value in stats.items()
                        if isinstance(value, float) and key != "seconds")
    architecture = stats.get("most_likely") or stats.get("genotype") or ""
    return f"{method} epoch {stats['epoch']} ({stats['seconds']:.0f} s): {numbers}" + (
        f"\n  now favours {architecture}" if architecture else "")


def one_shot_leaderboard(result, count_params=None):
    """The derived architectures as leaderboard rows (same columns as a tuner search's).

    `score` is the shared-weight validation accuracy; `params` the child's size at the search
    size when `count_params(genotype)` is given; `epochs` the supernet epochs; status DERIVED.
    """
    rows = [{
        "trial": f"{result.method}-{index}",
        "architecture": str(derived.genotype),
        "score": derived.score,
        "params": pd.NA if count_params is None else int(count_params(derived.genotype)),
        "epochs": result.epochs,
        "seconds": np.nan,
        "status": f"DERIVED ({derived.origin})",
        "from_trial": pd.NA,
    } for index, derived in enumerate(result.derived)]
    return pd.DataFrame(rows, columns=["trial", "architecture", "score", "params", "epochs", "seconds", "status",
                                       "from_trial"])
