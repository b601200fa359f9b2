"""Turn the `oracle=` argument of the classifiers into a keras-tuner Oracle."""
import keras_tuner

ORACLE_NAMES = ("random",)


def keras_tuner_seed(seed):
    """Map an autonas seed onto keras-tuner's seed argument.

    keras-tuner treats a falsy seed as "no seed" (`seed or random...`), so 0 would silently
    become a random seed. Shifting by one keeps every autonas seed, 0 included, a real and
    distinct keras-tuner seed.
    """
    return None if seed is None else int(seed) + 1


def make_oracle(oracle, *, objective, max_trials, seed=None, hyperparameters=None):
    """Return a keras-tuner Oracle for `oracle` (a name from ORACLE_NAMES or an Oracle).

    Args:
        oracle: a name ("random", ...) or a ready `keras_tuner.Oracle`, used as given.
        objective: the keras-tuner objective, e.g. `keras_tuner.Objective("val_accuracy", "max")`.
        max_trials: number of trials the search runs.
        seed: int or None; None means random.
        hyperparameters: optional `keras_tuner.HyperParameters` fixing the search space.

    Returns:
        A `keras_tuner.Oracle`.

    Raises:
        ValueError: for an unknown name; TypeError for anything else.
    """
    if isinstance(oracle, keras_tuner.Oracle):
        return oracle
    if not isinstance(oracle, str):
        raise TypeError(
            f"oracle must be one of {ORACLE_NAMES} or a keras_tuner.Oracle instance, "
            f"got {type(oracle).__name__}."
        )
    if oracle == "random":
        return keras_tuner.oracles.RandomSearchOracle(
            objective=objective,
            max_trials=max_trials,
            seed=keras_tuner_seed(seed),
            hyperparameters=hyperparameters,
        )
    raise ValueError(f"Unknown oracle {oracle!r}; choose one of {ORACLE_NAMES} or pass a keras_tuner.Oracle.")
