"""An RNN controller trained by policy gradient, as a keras-tuner Oracle (NAS-RL / NASNet)."""
import math

from autonas.oracles.base import AutonasOracle
from autonas.oracles.pareto import constraint_violation, objectives_of, trial_values
from autonas.oracles.controller import DEFAULT_ENTROPY_WEIGHT, DEFAULT_LEARNING_RATE, INACTIVE, LSTMController


# MnasNet's exponent w of a cost ratio in the reward accuracy x (cost / reference)^w: a model
# twice as costly as the reference must be about 5% more accurate to earn the same reward.
COST_EXPONENT = -0.07


class ReinforceOracle(AutonasOracle):
    """Proposes trials by sampling an LSTM controller that learns from the trials' scores.

    The controller (`LSTMController`) emits one decision per hyperparameter of the space, in
    the space's order: `Choice` and `Boolean` directly, `Int`/`Float` over a discretisation
    (`SpaceEncoding`); a decision whose conditional scope is inactive is skipped. The reward is
    the trial's score, negated when the objective is minimised; with several objectives (a
    keras-tuner `MultiObjective`), MnasNet's soft-constrained product (Tan et al., 2019,
    `COST_EXPONENT`): the maximised objectives (accuracy) times each minimised one's ratio to its
    value in the first trial learned from, raised to -0.07, instead of keras-tuner's sum of
    unlike units. A trial over its search's limits was not trained and scores accuracy 0, so its
    reward is 0 (MnasNet's hard constraint). Updates follow REINFORCE with
    an exponential-moving-average baseline and an entropy bonus, or PPO's clipped surrogate
    (`algorithm="ppo"`).

    Trials may run concurrently and end in any order (keras-tuner's distributed mode): the
    decisions sampled for a trial and their log-probability are kept per trial id and used when
    that trial ends. A trial that fails for good is dropped without an update.

    A sampled configuration that was already tried is re-sampled (up to `max_collisions`
    times), then random untried configurations are drawn (or, in a space of at most 20,000
    configurations, the space is enumerated); those, like `initial_values`, are learned from
    as if the controller had sampled them. The search stops only when no untried
    configuration is left.

    Args:
        objective: the keras-tuner objective (name and direction).
        max_trials: number of trials.
        hidden_size, learning_rate, entropy_weight, baseline_decay: the controller's, see `LSTMController`.
        algorithm, clip_epsilon, ppo_epochs, temperature, tanh_constant: the controller's, as above.
        batch_size: number of finished trials per controller update.
        initial_values: optional list of values dicts proposed first (warm start).
        seed: int or None (None: random; 0 is a seed).
        hyperparameters: optional `keras_tuner.HyperParameters` fixing the space.
        num_bins, max_collisions, successive_halving: see `AutonasOracle`.
        allow_new_entries, tune_new_entries: as in `keras_tuner.Oracle`.
        max_retries_per_trial, max_consecutive_failed_trials: as in `keras_tuner.Oracle`.

    Example:
        >>> import keras_tuner
        >>> hp = keras_tuner.HyperParameters()
        >>> _ = hp.Choice("op", ["conv3", "conv5", "pool"])
        >>> oracle = ReinforceOracle(
        ...     objective=keras_tuner.Objective("val_accuracy", "max"), max_trials=10,
        ...     hyperparameters=hp, seed=0)
    """

    def __init__(
        self,
        *,
        objective=None,
        max_trials=100,
        hidden_size=32,
        learning_rate=DEFAULT_LEARNING_RATE,
        entropy_weight=DEFAULT_ENTROPY_WEIGHT,
        baseline_decay=0.9,
        algorithm="reinforce",
        clip_epsilon=0.2,
        ppo_epochs=4,
        batch_size=1,
        temperature=1.0,
        tanh_constant=None,
        initial_values=None,
        seed=None,
        hyperparameters=None,
        num_bins=20,
        max_collisions=20,
        allow_new_entries=True,
        tune_new_entries=True,
        max_retries_per_trial=0,
        max_consecutive_failed_trials=3,
        successive_halving=None,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            seed=seed,
            num_bins=num_bins,
            max_collisions=max_collisions,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            successive_halving=successive_halving,
        )
        self.batch_size = int(batch_size)
        self.initial_values = [dict(v) for v in (initial_values or [])]
        # Built now so that a bad argument fails here; decisions are added when the space is known.
        self.controller = LSTMController(
            [],
            hidden_size=hidden_size,
            learning_rate=learning_rate,
            entropy_weight=entropy_weight,
            baseline_decay=baseline_decay,
            algorithm=algorithm,
            clip_epsilon=clip_epsilon,
            ppo_epochs=ppo_epochs,
            temperature=temperature,
            tanh_constant=tanh_constant,
            seed=self._child_seed,
        )
        # trial_id -> {"decisions": [...], "log_prob": float}, for trials not finished yet.
        self.pending = {}
        # Finished trials waiting for a full batch: [[decisions, reward, log_prob], ...].
        self.buffer = []
        self._next_initial = 0
        # With several objectives: each minimised one's value in the first trial learned from.
        self.reference_costs = {}

    # -- proposing ---------------------------------------------------------------------------

    def _sync_controller(self):
        enc = self.encoding()
        grown = enc.sizes[len(self.controller.sizes) :]
        if grown:
            self.controller.add_decisions(grown)
        return enc

    def propose(self, trial_id):
        enc = self._sync_controller()
        if len(enc) == 0:
            return self.empty_space()
        while self._next_initial < len(self.initial_values):
            values = enc.complete(self.initial_values[self._next_initial], self.rng)
            self._next_initial += 1
            if not self.was_tried(values):
                return self._unsampled(trial_id, values)
        # One vectorised pass draws the sample and, in case it was already tried, the
        # max_collisions re-draws (the first row alone is a plain sample of the policy).
        samples = self.controller.sample_batch(
            self.max_collisions + 1, enc.is_active_given if enc.conditional else None
        )
        for sample in samples:
            values = enc.decode(sample.decisions)
            if not self.was_tried(values):
                self.pending[trial_id] = {"decisions": list(sample.decisions), "log_prob": sample.log_prob}
                return self.running(values)
        values = self.random_unique()
        if values is None:
            values = self.exhaustive_unique()
        if values is None:
            return self.stopped()
        return self._unsampled(trial_id, values)

    def _unsampled(self, trial_id, values):
        """Propose values the controller did not sample; it learns from them all the same."""
        decisions = self.encoding().encode(values)
        self.pending[trial_id] = {
            "decisions": decisions,
            "log_prob": self.controller.log_prob(decisions),
        }
        return self.running(values)

    # -- learning ----------------------------------------------------------------------------

    def reward(self, trial):
        objectives = objectives_of(self.objective)
        if len(objectives) == 1:
            return super().reward(trial)
        if constraint_violation(trial) > 0:
            return 0.0  # not trained: no accuracy, and no reference for the costs
        reward = 1.0
        for single, value in zip(objectives, trial_values(self.objective, trial)):
            if single.direction == "max":
                reward *= value
            else:  # the value was negated to orient it
                reference = self.reference_costs.setdefault(single.name, -value)
                reward *= (max(-value, 1e-12) / max(reference, 1e-12)) ** COST_EXPONENT
        return reward if math.isfinite(reward) else 0.0

    def learn(self, trial, reward):
        entry = self.pending.pop(trial.trial_id, None)
        if entry is None:
            return  # nothing was sampled for it (the default trial of a still empty space)
        decisions = list(entry["decisions"])
        decisions += [INACTIVE] * (len(self.controller.sizes) - len(decisions))
        self.buffer.append([decisions, reward, entry["log_prob"]])
        if len(self.buffer) >= self.batch_size:
            self.controller.update(self.buffer)
            self.buffer = []

    def forget(self, trial):
        self.pending.pop(trial.trial_id, None)

    # -- state -------------------------------------------------------------------------------

    def configuration(self):
        config = super().configuration()
        config.update(
            controller=self.controller.config(),
            batch_size=self.batch_size,
            initial_values=self.initial_values,
        )
        return config

    def strategy_state(self):
        return {
            "controller": self.controller.get_state(),
            "pending": self.pending,
            "buffer": self.buffer,
            "next_initial": self._next_initial,
            "reference_costs": self.reference_costs,
        }

    def restore_strategy_state(self, state):
        self.controller.set_state(state["controller"])
        self.pending = {k: dict(v) for k, v in state["pending"].items()}
        self.buffer = [list(b) for b in state["buffer"]]
        self._next_initial = int(state["next_initial"])
        self.reference_costs = dict(state.get("reference_costs", {}))
