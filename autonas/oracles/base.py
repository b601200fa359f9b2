"""What autonas's keras-tuner Oracles share: seeding, the decision encoding, learning hooks, state.

A new search strategy subclasses `AutonasOracle` and implements `propose(trial_id)` (what
keras-tuner's `populate_space` returns, for a new architecture; `populate_space` itself first
promotes trials under successive halving, `autonas.oracles.halving`) plus five public hooks:
`learn(trial, reward)` (an architecture's first trial completed),
`forget(trial)` (a trial failed for good), `configuration()` (the settings a resumed search must
share), and `strategy_state()` / `restore_strategy_state(state)` (what it learned, as JSON).
"""
import json

import keras_tuner
import numpy as np

from autonas import kt_internals
from autonas.oracles.decisions import SpaceEncoding
from autonas.oracles.halving import PromotingOracle, is_promotion, make_halving
from autonas.oracles.recovery import RecoverableOracle

_COMPLETED = "COMPLETED"
_FAILED = "FAILED"
_RUNNING = "RUNNING"
_STOPPED = "STOPPED"


def keras_tuner_seed(seed):
    """Map an autonas seed (None, or any non-negative int) onto keras-tuner's seed argument.

    keras-tuner's Oracle does `self.seed = seed or random.randint(1, 10000)`: 0 would silently
    become a draw from Python's global RNG. Shifting by one (modulo keras-tuner's 31-bit range)
    keeps every autonas seed, 0 included, a real and distinct keras-tuner seed.
    """
    return None if seed is None else int(seed) % (2**31 - 1) + 1


def _normalised(config):
    """The config as it reads back from keras-tuner's JSON file (tuples become lists, ...)."""
    return json.loads(json.dumps(config))


class AutonasOracle(PromotingOracle, RecoverableOracle):
    """Base class of autonas's Oracles (not used directly).

    Its project on disk survives a kill at any moment (see `RecoverableOracle`), and its state
    (RNG, learned state) is saved with the trials, so a resumed search proposes what the
    uninterrupted one would have.

    Args:
        objective, max_trials, hyperparameters: as in `keras_tuner.Oracle`.
        allow_new_entries, tune_new_entries: as in `keras_tuner.Oracle`.
        max_retries_per_trial, max_consecutive_failed_trials: as in `keras_tuner.Oracle`.
        seed: int or None. None means random; 0 is a seed like any other.
        num_bins: options given to a continuous or finely gridded `Int`/`Float`
            (see `SpaceEncoding`).
        max_collisions: how many duplicate proposals in a row are drawn before falling back
            to another way of finding an untried configuration.
        successive_halving: None/False, True or an int factor or a `SuccessiveHalving`: promote
            the best trials to train longer from their weights (`autonas.oracles.halving`).
    """

    def __init__(
        self,
        *,
        objective=None,
        max_trials=100,
        hyperparameters=None,
        seed=None,
        num_bins=20,
        max_collisions=20,
        allow_new_entries=True,
        tune_new_entries=True,
        max_retries_per_trial=0,
        max_consecutive_failed_trials=3,
        successive_halving=None,
    ):
        if seed is not None and (isinstance(seed, bool) or int(seed) != seed or seed < 0):
            raise ValueError(f"seed must be None or a non-negative int, got {seed!r}.")
        seed_sequence = np.random.SeedSequence(seed)
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            seed=keras_tuner_seed(seed_sequence.entropy),
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        self.random_seed = None if seed is None else int(seed)
        self.num_bins = int(num_bins)
        self.max_collisions = int(max_collisions)
        self.halving = make_halving(successive_halving)
        own, child = seed_sequence.spawn(2)
        self.rng = np.random.default_rng(own)
        self._child_seed = child  # for a sub-component (the controller)
        self._encoding_cache = None

    # -- helpers for subclasses --------------------------------------------------------------

    def encoding(self):
        """The `SpaceEncoding` of the current space (rebuilt when the space grows)."""
        n = len(self.hyperparameters.space)
        if self._encoding_cache is None or self._encoding_cache[0] != n:
            self._encoding_cache = (n, SpaceEncoding(self.hyperparameters, num_bins=self.num_bins))
        return self._encoding_cache[1]

    def reward(self, trial):
        """The trial's score oriented so that higher is better."""
        score = float(trial.score)
        return score if self.objective.direction == "max" else -score

    def was_tried(self, values):
        """Whether `values` were already proposed (keras-tuner's record of tried values)."""
        return kt_internals.already_tried(self, values)

    def random_unique(self):
        """Random untried values, or None when `max_collisions` draws in a row were all tried."""
        enc = self.encoding()
        for _ in range(self.max_collisions + 1):
            values = enc.random_values(self.rng)
            if not self.was_tried(values):
                return values
        return None

    def exhaustive_unique(self, limit=20000):
        """An untried configuration found by enumerating the space (in random order).

        The last resort before declaring the space exhausted; None when every configuration
        was tried or the space has more than `limit` configurations over its options.
        """
        configs = self.encoding().enumerate(limit)
        if configs is None:
            return None
        for i in self.rng.permutation(len(configs)):
            if not self.was_tried(configs[i]):
                return configs[i]
        return None

    @staticmethod
    def running(values):
        return {"status": _RUNNING, "values": values}

    @staticmethod
    def stopped():
        return {"status": _STOPPED, "values": None}

    def empty_space(self):
        """Response for a space with no hyperparameters yet: one default trial, then stop."""
        return self.stopped() if self.was_tried({}) else self.running({})

    # -- learning hooks ----------------------------------------------------------------------

    @keras_tuner.synchronized
    def end_trial(self, trial):
        """Record the finished trial (keras-tuner), learn from it, then save once.

        A completed trial with a finite score is learned from; a trial that failed for good
        (FAILED, or INVALID with no retries left) or completed with an infinite score is
        forgotten; one sent for a retry is kept pending until its retry ends. A promoted trial is
        neither: the strategy learned its architecture from its first trial
        (`autonas.oracles.halving`). The bookkeeping and the learning reach `oracle.json` in one
        write, so a kill cannot save one without the other.
        """
        with self.single_save():
            super().end_trial(trial)
            trial = self.trials[trial.trial_id]
            if is_promotion(trial):
                pass  # its architecture was learned from (or forgotten) with its first trial
            elif trial.status == _COMPLETED and trial.score is not None and np.isfinite(trial.score):
                self.learn(trial, self.reward(trial))
            elif trial.status in (_FAILED, _COMPLETED):
                # Failed for good, or completed with an infinite score (a diverged loss; keras-tuner
                # sends only NaN for a retry): nothing to learn from, and nothing may stay pending.
                self.forget(trial)
            # else: waiting for a retry, nothing to learn yet

    def learn(self, trial, reward):
        """Learn from a completed `trial` whose score, oriented so higher is better, is `reward`."""
        raise NotImplementedError

    def forget(self, trial):
        """Drop what was pending for `trial`, which failed for good (it has no score to learn from)."""
        raise NotImplementedError

    # -- state -------------------------------------------------------------------------------

    def configuration(self):
        """The settings a resumed search must share (JSON-able); subclasses extend the dict."""
        config = {"num_bins": self.num_bins, "max_collisions": self.max_collisions}
        if self.halving is not None:  # absent without it, as in projects saved before it existed
            config["successive_halving"] = self.halving.configuration()
        return config

    def strategy_state(self):
        """What the strategy has learned (population, controller weights, ...), as JSON-able data."""
        raise NotImplementedError

    def restore_strategy_state(self, state):
        """Restore what `strategy_state` returned."""
        raise NotImplementedError

    def get_state(self):
        state = super().get_state()
        state["autonas"] = {
            "class": type(self).__name__,
            "config": self.configuration(),
            "random_seed": self.random_seed,
            "rng": self.rng.bit_generator.state,
            "own": self.strategy_state(),
        }
        return state

    def set_state(self, state):
        """Restore a saved search.

        Raises:
            ValueError: if the saved search used another oracle class, configuration or seed
                (resuming with a changed configuration is an error, not a silent choice).
        """
        saved = state.get("autonas")
        if saved is None or saved["class"] != type(self).__name__:
            found = None if saved is None else saved["class"]
            raise ValueError(f"Saved oracle state is from {found}, not {type(self).__name__}.")
        if _normalised(saved["config"]) != _normalised(self.configuration()):
            raise ValueError(
                f"Cannot resume {type(self).__name__} with a changed configuration: "
                f"saved {saved['config']}, current {self.configuration()}."
            )
        if self.random_seed is not None and saved["random_seed"] != self.random_seed:
            raise ValueError(
                f"Cannot resume with seed={self.random_seed}: the search was started with "
                f"seed={saved['random_seed']}."
            )
        super().set_state(state)
        self._encoding_cache = None
        self.random_seed = saved["random_seed"]
        self.rng.bit_generator.state = saved["rng"]
        self.restore_strategy_state(saved["own"])
