"""ENAS (Pham et al., 2018): an LSTM controller samples children that share one supernet's weights.

Each epoch alternates (a) one pass over the training batches, each batch training the shared
weights of a child the controller samples, and (b) `controller_steps` REINFORCE updates of the
controller, each on children scored with the shared weights on one validation batch. At the
end, `num_derived` sampled children and the controller's most likely one, each with at most
`max_parameter_free` parameter-free operations in its normal cell (`autonas.oneshot.enas.derivation`),
are scored on the whole validation set with the shared weights; the best is what the search found.

The controller is `autonas.oracles.controller.LSTMController`, the same one `ReinforceOracle`
drives: one decision per entry of the supernet's architecture vector.

Example:
    >>> search = EnasSearch(supernet, seed=0)                                # doctest: +SKIP
    >>> result = search.search(train, validation, deadline=Deadline(300), max_epochs=50)  # doctest: +SKIP
    >>> result.best.genotype, result.best.score                              # doctest: +SKIP
"""
from __future__ import annotations

import itertools
import time

import numpy as np

from autonas.engine.budget import CosinePlan, Deadline
from autonas.oneshot.enas.derivation import cap_normal_cell, operation_frequencies
from autonas.oneshot.parameter_free import DEFAULT_MAX_PARAMETER_FREE, parameter_free_share
from autonas.oneshot.result import DerivedArchitecture, OneShotResult
from autonas.oneshot.supernet.memory import peak_rss_mb
from autonas.oneshot.supernet.training import SupernetTrainer
from autonas.oracles.controller import LSTMController
from autonas.space.hypermodel import check_optimizer

# ENAS's controller settings (Pham et al., 2018): logits squashed by tanh and a temperature, so
# no option's probability collapses to 0 early while the shared weights are still poor.
CONTROLLER_TANH_CONSTANT = 2.5
CONTROLLER_TEMPERATURE = 5.0
# Shared-weight training as in ENAS: SGD at a peak rate of 0.05 (half the children's default) with
# the gradient norm clipped to 5. A child per batch makes consecutive steps pull the shared
# weights different ways; on digits (4 operations, 12 epochs) this reached 0.35 mean accuracy of
# random children vs. 0.27 for Adam 3e-3 and 0.22 for Adam 1e-3 with clipping.
ENAS_LEARNING_RATES = {"sgd": 0.05, "adam": 3e-3}
GRADIENT_BOUND = 5.0
# Per epoch: controller updates, children scored per update (one validation batch each).
DEFAULT_CONTROLLER_STEPS = 10
DEFAULT_CONTROLLER_BATCH = 4
# Sampled children scored on the whole validation set at the end (plus the most likely one).
DEFAULT_NUM_DERIVED = 16
# Controller samples drawn to estimate its per-slot preferences when capping parameter-free
# operations, and to pick the derived candidates from (a vectorised pass: milliseconds).
DERIVATION_POOL = 1000
# Candidates scored at the end however late the search is.
MIN_DERIVED = 2
# Deriving is planned at this multiple of the scoring pace the controller's updates showed.
DERIVE_MARGIN = 1.5


class EnasSearch:
    """Alternate shared-weight training and controller training on a `Supernet`.

    Args:
        supernet: a `Supernet`.
        optimizer: "sgd" or "adam", for the shared weights.
        learning_rate: their peak learning rate (None: `ENAS_LEARNING_RATES`), decayed along a
            cosine over the epochs that fit the deadline.
        controller_steps: controller updates per epoch.
        controller_batch: children sampled and scored per controller update.
        num_derived: children sampled from the final controller to pick the result from.
        max_parameter_free: at most this many parameter-free operations in a derived child's
            normal cell (None: no cap), the remedy against collapse DARTS uses too.
        seed: int or None; fixes the controller's weights and every sampled architecture.
        controller_options: keyword arguments for `LSTMController` (learning rate, entropy
            weight, ...), overriding ENAS's tanh constant and temperature.
    """

    def __init__(self, supernet, *, optimizer="sgd", learning_rate=None, controller_steps=DEFAULT_CONTROLLER_STEPS,
                 controller_batch=DEFAULT_CONTROLLER_BATCH, num_derived=DEFAULT_NUM_DERIVED,
                 max_parameter_free=DEFAULT_MAX_PARAMETER_FREE, seed=None, controller_options=None):
        for name, value in [("controller_steps", controller_steps), ("controller_batch", controller_batch),
                            ("num_derived", num_derived)]:
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        self.supernet = supernet
        if learning_rate is None:
            learning_rate = ENAS_LEARNING_RATES[check_optimizer(optimizer)]
        self.trainer = SupernetTrainer(supernet, optimizer=optimizer, learning_rate=learning_rate,
                                       global_clipnorm=GRADIENT_BOUND)
        self.controller_steps = int(controller_steps)
        self.controller_batch = int(controller_batch)
        self.num_derived = int(num_derived)
        self.max_parameter_free = max_parameter_free
        options = {"tanh_constant": CONTROLLER_TANH_CONSTANT, "temperature": CONTROLLER_TEMPERATURE,
                   **(controller_options or {})}
        controller_seed = None if seed is None else int(np.random.SeedSequence(seed).generate_state(1)[0])
        self.controller = LSTMController(supernet.encoding.sizes.tolist(), seed=controller_seed, **options)

    # -- the search ----------------------------------------------------------------------------

    def search(self, train_batches, validation_batches, *, deadline=None, max_epochs=50, on_epoch=None):
        """Run ENAS until `max_epochs` or the deadline, then derive the result.

        Args:
            train_batches: batched `(x, y)` pairs (a `tf.data.Dataset`, reshuffled each epoch).
            validation_batches: batched `(x, y)` pairs held out from training.
            deadline: a `Deadline` for the whole search, derivation included; at least one
                epoch runs whatever it says.
            max_epochs: the most passes over `train_batches`.
            on_epoch: optional callable receiving each epoch's statistics (a dict).

        Returns:
            A `OneShotResult` (method "enas").
        """
        deadline = deadline or Deadline(None)
        start = time.monotonic()
        validation = list(validation_batches)
        if not validation:
            raise ValueError("ENAS needs validation batches to score children.")
        rewards_from = itertools.cycle(validation)
        plan = CosinePlan(float(self.trainer.optimizer.learning_rate), max_epochs, deadline)
        history = []
        for epoch in range(int(max_epochs)):
            epoch_start = time.monotonic()
            self.trainer.optimizer.learning_rate = plan.learning_rate(epoch)
            losses = [self.trainer.train_step(x, y, self.controller.sample().decisions) for x, y in train_batches]
            controller_start = time.monotonic()
            rewards, entropies = self._train_controller(rewards_from)
            scoring_seconds = time.monotonic() - controller_start
            most_likely = self.supernet.encoding.decode(self.most_likely())
            stats = {
                "epoch": epoch + 1,
                "train_loss": float(np.mean(losses)),
                "mean_reward": float(np.mean(rewards)),
                "controller_entropy": float(np.mean(entropies)),
                "most_likely": str(most_likely),
                # The drift the derivation's cap counters: parameter-free share of the greedy normal cell.
                "parameter_free_share": parameter_free_share(most_likely, ["normal"]),
                "seconds": time.monotonic() - epoch_start,
            }
            history.append(stats)
            if on_epoch is not None:
                on_epoch(stats)
            # Deriving scores (num_derived + 1) children on the whole validation set.
            plan.reserve_seconds = self._derive_seconds(scoring_seconds, len(validation))
            if not plan.end_epoch(epoch, stats["seconds"]):
                break
        derived = self.derive(validation, deadline=deadline)
        return OneShotResult(method="enas", derived=derived, history=history, epochs=len(history),
                             seconds=time.monotonic() - start, peak_memory_mb=peak_rss_mb())

    def _train_controller(self, batches):
        """`controller_steps` REINFORCE updates; the reward is a child's accuracy on one batch."""
        rewards, entropies = [], []
        for _ in range(self.controller_steps):
            batch = next(batches)
            samples = self.controller.sample_batch(self.controller_batch)
            scored = [(s.decisions, self.trainer.score(np.array(s.decisions), [batch]), s.log_prob) for s in samples]
            self.controller.update(scored)
            rewards.extend(reward for _, reward, _ in scored)
            entropies.extend(s.entropy for s in samples)
        return rewards, entropies

    def _derive_seconds(self, scoring_seconds, validation_batches):
        """Time to derive at the pace the controller's updates just scored children on one batch
        each (`scoring_seconds` for all of them), with a margin: the derived children are capped
        in parameter-free operations, so heavier than the sampled ones."""
        per_batch = scoring_seconds / (self.controller_steps * self.controller_batch)
        return DERIVE_MARGIN * per_batch * validation_batches * (self.num_derived + 1)

    def most_likely(self):
        """The controller's greedy architecture, as the supernet's int vector."""
        return np.array(self.controller.most_likely(), dtype=np.int32)

    def derive(self, validation_batches, deadline=None):
        """Score the most likely child and the first `num_derived` distinct ones the controller
        samples, each capped in parameter-free operations, on `validation_batches` with the
        shared weights; best first.

        Once `deadline` has passed, no further candidate is scored beyond the first
        `MIN_DERIVED`: a slow first epoch (tracing) must not also eat the retraining's time.
        """
        deadline = deadline or Deadline(None)
        encoding = self.supernet.encoding
        pool = np.array([sample.decisions for sample in self.controller.sample_batch(DERIVATION_POOL)], np.int32)
        frequencies = operation_frequencies(encoding, pool)
        candidates = {}
        for vector, origin in [(self.most_likely(), "most likely")] + [(row, "sampled") for row in pool]:
            capped = cap_normal_cell(encoding, vector, frequencies, self.max_parameter_free)[0]
            candidates.setdefault(tuple(capped.tolist()), origin)
            if len(candidates) > self.num_derived:
                break
        derived = []
        for vector, origin in candidates.items():
            if len(derived) >= MIN_DERIVED and not deadline.fits(0.0):
                break
            vector = np.array(vector, np.int32)
            derived.append(DerivedArchitecture(genotype=encoding.decode(vector), origin=origin,
                                               score=self.trainer.score(vector, validation_batches)))
        return sorted(derived, key=lambda d: -d.score)

    # -- state ---------------------------------------------------------------------------------

    def get_state(self):
        """The controller's weights, optimizer moments, baseline and RNG (JSON-serialisable).

        The shared weights are the supernet's: save them with `supernet.save_weights`.
        """
        return {"controller": self.controller.get_state()}

    def set_state(self, state):
        """Restore `get_state()`'s output (same configuration required)."""
        self.controller.set_state(state["controller"])
