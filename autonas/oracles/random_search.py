"""keras-tuner's random search, made safe to resume after a kill (see `RecoverableOracle`)."""
import keras_tuner

from autonas.oracles.halving import PromotingOracle, make_halving
from autonas.oracles.recovery import RecoverableOracle


class RandomSearchOracle(PromotingOracle, RecoverableOracle, keras_tuner.oracles.RandomSearchOracle):
    """`keras_tuner.oracles.RandomSearchOracle` with atomic, reconciled saves.

    Proposals and saved state are keras-tuner's own (its seed and `seed_state` drive the
    draws); only how the project is written and reloaded changes, so a search killed at any
    moment resumes with the same trials as an uninterrupted one. With `successive_halving` it
    also promotes the best trials to train longer (`autonas.oracles.halving`).

    Args:
        objective, max_trials, seed, hyperparameters: as in keras-tuner.
        allow_new_entries, tune_new_entries: as in keras-tuner.
        max_retries_per_trial, max_consecutive_failed_trials: as in keras-tuner.
        successive_halving: None/False, True, an int factor or a `SuccessiveHalving`.

    Example:
        >>> import keras_tuner
        >>> oracle = RandomSearchOracle(objective=keras_tuner.Objective("val_accuracy", "max"),
        ...                             max_trials=5, seed=1)
    """

    def __init__(self, *, successive_halving=None, **kwargs):
        super().__init__(**kwargs)
        self.halving = make_halving(successive_halving)
