"""Turn the `oracle=` argument of the classifiers into a keras-tuner Oracle."""
import keras_tuner

from autonas.oracles.base import keras_tuner_seed
from autonas.oracles.evolution import RegularizedEvolutionOracle
from autonas.oracles.random_search import RandomSearchOracle
from autonas.oracles.reinforce import ReinforceOracle

ORACLE_NAMES = ("random", "evolution", "reinforce")


def make_oracle(oracle, *, objective, max_trials, seed=None, hyperparameters=None, initial_values=None,
                successive_halving=None):
    """Return a keras-tuner Oracle for `oracle` (a name from ORACLE_NAMES or an Oracle).

    Args:
        oracle: a name ("random", "evolution", "reinforce") or a ready `keras_tuner.Oracle`,
            used as given.
        objective: the keras-tuner objective, e.g. `keras_tuner.Objective("val_accuracy", "max")`.
        max_trials: number of trials the search runs.
        seed: int or None; None means random.
        hyperparameters: optional `keras_tuner.HyperParameters` fixing the search space.
        initial_values: optional list of values dicts to try first (e.g. published cells):
            evolution's initial population, reinforce's warm start. Random search does not
            take them.
        successive_halving: None/False, True, an int factor or a
            `autonas.oracles.halving.SuccessiveHalving`: the oracle also promotes its best trials to
            train longer (not for an Oracle instance, which is used as given).

    Returns:
        A `keras_tuner.Oracle`.

    Raises:
        ValueError: for an unknown name, or `initial_values` with "random"; TypeError for
            anything else.

    Example:
        >>> import keras_tuner
        >>> oracle = make_oracle("evolution", objective=keras_tuner.Objective("val_accuracy", "max"),
        ...                      max_trials=20, seed=0)
    """
    if isinstance(oracle, keras_tuner.Oracle):
        return oracle
    if not isinstance(oracle, str):
        raise TypeError(
            f"oracle must be one of {ORACLE_NAMES} or a keras_tuner.Oracle instance, "
            f"got {type(oracle).__name__}."
        )
    if oracle == "random":
        if initial_values:
            raise ValueError("oracle='random' does not take initial_values; use 'evolution' or 'reinforce'.")
        return RandomSearchOracle(
            objective=objective,
            max_trials=max_trials,
            seed=keras_tuner_seed(seed),
            hyperparameters=hyperparameters,
            successive_halving=successive_halving,
        )
    if oracle == "evolution":
        return RegularizedEvolutionOracle(
            objective=objective,
            max_trials=max_trials,
            seed=seed,
            hyperparameters=hyperparameters,
            initial_values=initial_values,
            successive_halving=successive_halving,
        )
    if oracle == "reinforce":
        return ReinforceOracle(
            objective=objective,
            max_trials=max_trials,
            seed=seed,
            hyperparameters=hyperparameters,
            initial_values=initial_values,
            successive_halving=successive_halving,
        )
    raise ValueError(f"Unknown oracle {oracle!r}; choose one of {ORACLE_NAMES} or pass a keras_tuner.Oracle.")
