"""First-order DARTS (Liu et al., 2019) on the weight-sharing supernet.

Each step pairs one architecture step (Adam on the logits, on a validation batch) with one
weight step (the optimizer on the supernet weights, on a training batch), both on the loss of
the relaxed network (`Supernet.relax`). After each epoch the logits are discretised
(`autonas.oneshot.darts.architecture.discretize`) and reported; the final architecture is scored with the shared
weights as a single child. Expect that score to be low: the shared weights were trained for the
mixture, not for one child (on digits the derived child scored 0.08-0.13 with them while the
mixture reached 0.97-0.98), which is why DARTS retrains what it derives.

Weight-sharing searches drift toward cells of parameter-free operations (identity, pooling):
early on they lower the loss while no convolution has learned anything yet. Each epoch reports
that drift (`parameter_free_share_uncapped`: the share the plain argmax would pick;
`parameter_free_weight`: the mixture weight those operations hold), and the derived normal cell
keeps at most `max_parameter_free` of them (P-DARTS's cap, `autonas.oneshot.parameter_free`). Measured on digits
(benchmarks/darts_collapse.py: 13 operations, 420 s searches, seeds 0-3, which ran 6, 9, 15 and
15 epochs as the machine's load allowed): the plain argmax made normal cells 100%, 75%, 38% and
12% parameter-free, most in the shortest searches, and they retrained from scratch to 0.927,
0.982, 0.984 and 0.982 test accuracy; capped at 2 of 8: 0.982, 0.982, 0.996 and 0.982 (mean
0.986 vs. 0.969). With an architecture learning rate of 3e-3 (seeds 0, 1) the search left the
early preference by itself (12%; 0.991 and 0.980) and the cap changed nothing.

Example:
    >>> search = DartsSearch(supernet, seed=0)                                    # doctest: +SKIP
    >>> result = search.search(train, validation, deadline=Deadline(300), max_epochs=20)  # doctest: +SKIP
    >>> print(result.best.genotype)                                               # doctest: +SKIP
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from autonas.engine.budget import CosinePlan, Deadline
from autonas.oneshot.darts.architecture import ArchitectureParameters, discretize, one_hot_weights
from autonas.oneshot.darts.steps import DartsSteps, architecture_optimizer
from autonas.oneshot.parameter_free import DEFAULT_MAX_PARAMETER_FREE, parameter_free, parameter_free_share
from autonas.oneshot.result import DerivedArchitecture, OneShotResult
from autonas.oneshot.supernet.memory import peak_rss_mb
from autonas.space.hypermodel import DEFAULT_LEARNING_RATES, check_optimizer, make_optimizer


class DartsSearch:
    """First-order DARTS over the architectures a `Supernet` holds.

    Args:
        supernet: a `Supernet`; its weights are trained in place.
        optimizer: "sgd" (Nesterov momentum 0.9), "adam", or a Keras optimizer instance, for the
            supernet weights (gradient norm clipped at 5, as in DARTS).
        learning_rate: peak learning rate of a named optimizer (None picks
            `autonas.space.hypermodel.DEFAULT_LEARNING_RATES`), decayed along a cosine over the
            epochs that fit the deadline, as DARTS anneals it.
        arch_learning_rate: Adam's learning rate for the architecture logits (DARTS's 3e-4 is
            made for 50 epochs of CIFAR-10; a few minutes' search moves the logits by about 0.02,
            so a larger rate, e.g. 3e-3, lets them leave the early preferences).
        arch_weight_decay: L2 penalty on the logits.
        max_parameter_free: at most this many parameter-free operations per derived normal cell
            (the collapse remedy); None derives the plain argmax.
        seed: seed of the initial logits (None: random). With the same supernet weights and
            data order, a seed gives the same derived architectures; losses and logits agree to
            float32 rounding, bit for bit only under `tf.config.experimental.enable_op_determinism()`.

    Attributes:
        parameters_: the `ArchitectureParameters` of the last search.
        steps_: its `DartsSteps`.
        timings_: seconds of the first (tracing) call of each compiled step (`first_*`) and the
            median of the later calls: `architecture_step`, `weight_step`, `predict` (one batch).

    Raises:
        ValueError: for an unknown optimizer name or a negative `max_parameter_free`.
    """

    def __init__(self, supernet, *, optimizer="sgd", learning_rate=None, arch_learning_rate=3e-4,
                 arch_weight_decay=1e-3, max_parameter_free=DEFAULT_MAX_PARAMETER_FREE, seed=None):
        if isinstance(optimizer, str):
            check_optimizer(optimizer)
        if max_parameter_free is not None and int(max_parameter_free) < 0:
            raise ValueError(f"max_parameter_free must be >= 0 or None, got {max_parameter_free}.")
        self.supernet = supernet
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.arch_learning_rate = float(arch_learning_rate)
        self.arch_weight_decay = float(arch_weight_decay)
        self.max_parameter_free = None if max_parameter_free is None else int(max_parameter_free)
        self.seed = seed

    def search(self, train_batches, validation_batches, *, deadline=None, max_epochs, on_epoch=None):
        """Train the logits and the supernet weights, then derive and score the architecture.

        Args:
            train_batches: `(x, y)` batches (raw inputs, int labels), iterated once per epoch:
                a `tf.data.Dataset` (which reshuffles itself) or any re-iterable.
            validation_batches: a finite `tf.data.Dataset` of `(x, y)` batches: cycled for the
                architecture steps, iterated once per epoch for `valid_accuracy` and once to
                score the derived architecture.
            deadline: an `autonas.engine.budget.Deadline`; no epoch starts that would not end
                before it at the last epoch's pace (`CosinePlan`), and an epoch stops early
                when the next step would leave too little time for the closing evaluation. The
                first epoch's tracing can still overrun a very short deadline. None: no limit.
            max_epochs: the most epochs to run.
            on_epoch: called after each epoch with a dict: `epoch`, `steps`, `train_loss`,
                `valid_loss` (of the architecture steps), `valid_accuracy` (of the mixture),
                `seconds`, `genotype` (the current derived one, as a string),
                `parameter_free_share` (in it), `parameter_free_share_uncapped` (in the plain
                argmax), `parameter_free_weight` (mean mixture weight of those operations).

        Returns:
            A `OneShotResult` with `method="darts"` and the derived architecture.

        Raises:
            ValueError: if `max_epochs` is below 1 or the validation batches are empty.
        """
        if int(max_epochs) < 1:
            raise ValueError(f"max_epochs must be at least 1, got {max_epochs}.")
        started = time.monotonic()
        deadline = deadline or Deadline(None)
        self.parameters_ = ArchitectureParameters(self.supernet.space, np.random.default_rng(self.seed))
        optimizer = self._weight_optimizer()
        self.steps_ = DartsSteps(self.supernet, self.parameters_, optimizer=optimizer,
                                 arch_optimizer=architecture_optimizer(self.arch_learning_rate),
                                 arch_weight_decay=self.arch_weight_decay)
        self._seconds, self._validation_batches = {}, 0
        validation = iter(validation_batches.repeat())
        # DARTS anneals the weights' learning rate along a cosine, here over the epochs that fit.
        plan = CosinePlan(float(optimizer.learning_rate), int(max_epochs), deadline)
        history = []
        for epoch in range(int(max_epochs)):
            if isinstance(self.optimizer, str):  # an optimizer instance keeps its own schedule
                optimizer.learning_rate = plan.learning_rate(epoch)
            record = self._run_epoch(epoch + 1, train_batches, validation, validation_batches, deadline)
            if record is None:  # the deadline left no room for a single step
                break
            history.append(record)
            if on_epoch is not None:
                on_epoch(dict(record))
            plan.reserve_seconds = self._closing_estimate()
            if record["stopped"] or not plan.end_epoch(epoch, record["seconds"]):
                break
        vector = self._derive(self.max_parameter_free)
        score = self._evaluate(validation_batches, *one_hot_weights(self.supernet.space, vector))
        self.timings_ = {name: statistics.median(value) if isinstance(value, list) else value
                         for name, value in self._seconds.items()}
        derived = [DerivedArchitecture(self.supernet.encoding.decode(vector), score, origin="argmax")]
        return OneShotResult(method="darts", derived=derived, history=history, epochs=len(history),
                             seconds=time.monotonic() - started,
                             peak_memory_mb=peak_rss_mb())

    @property
    def tracing_counts(self):
        """How often each compiled step was traced during the last search (1 each)."""
        return self.steps_.tracing_counts

    def _weight_optimizer(self):
        if not isinstance(self.optimizer, str):
            return self.optimizer
        rate = DEFAULT_LEARNING_RATES[self.optimizer] if self.learning_rate is None else self.learning_rate
        return make_optimizer(self.optimizer, rate)

    def _run_epoch(self, epoch, train_batches, validation, validation_batches, deadline):
        """One pass over the training batches, then the epoch's evaluation; returns its record."""
        started = time.monotonic()
        losses, valid_losses, stopped = [], [], False
        for x, y in train_batches:
            # Room for this step, the epoch's evaluation and the closing one.
            if not deadline.fits(self._step_estimate() + 2 * self._closing_estimate()):
                stopped = True
                break
            x_valid, y_valid = next(validation)
            valid_losses.append(self._timed("architecture_step", self.steps_.architecture_step, x_valid, y_valid))
            losses.append(self._timed("weight_step", self.steps_.weight_step, x, y))
        if not losses:
            return None
        input_weights, op_weights = self.parameters_.probabilities()
        accuracy = self._evaluate(validation_batches, input_weights, op_weights)
        genotype = self.supernet.encoding.decode(self._derive(self.max_parameter_free))
        uncapped = self.supernet.encoding.decode(self._derive(None))
        free = parameter_free(self.supernet.space.operations)
        return {
            "epoch": epoch, "steps": len(losses), "stopped": stopped,
            "train_loss": float(np.mean(losses)), "valid_loss": float(np.mean(valid_losses)),
            "valid_accuracy": accuracy, "seconds": time.monotonic() - started, "genotype": str(genotype),
            "parameter_free_share": parameter_free_share(genotype),
            "parameter_free_share_uncapped": parameter_free_share(uncapped),
            "parameter_free_weight": float(np.mean([weights[..., free].sum(axis=-1).mean()
                                                    for weights in op_weights.values()])),
        }

    def _evaluate(self, batches, input_weights, op_weights):
        """Accuracy of the relaxed network with the given weights (one-hot: a single child) on `batches`.

        Raises:
            ValueError: if the batches hold no sample.
        """
        correct = total = count = 0
        for x, y in batches:
            y = np.reshape(np.asarray(y), (-1,))
            predicted = self._timed("predict", self.steps_.predict, x, input_weights, op_weights)
            correct += int(np.sum(np.argmax(predicted, axis=-1) == y))
            total += y.shape[0]
            count += 1
        if not total:
            raise ValueError("The validation batches hold no sample.")
        self._validation_batches = count
        return correct / total

    def _derive(self, max_parameter_free):
        input_probabilities, op_probabilities = self.parameters_.probabilities()
        return discretize(self.supernet.space, input_probabilities, op_probabilities,
                          max_parameter_free=max_parameter_free)

    def _timed(self, name, function, *args):
        """Call `function`; keep the first call's seconds (tracing) apart from the later ones."""
        started = time.monotonic()
        result = function(*args)
        seconds = time.monotonic() - started
        if f"first_{name}" not in self._seconds:
            self._seconds[f"first_{name}"] = seconds
        else:
            self._seconds.setdefault(name, []).append(seconds)
        return result

    def _step_estimate(self):
        """Seconds of one architecture + weight step after tracing (0 before any is known)."""
        return sum(self._pace(name) for name in ("architecture_step", "weight_step"))

    def _closing_estimate(self):
        """Seconds of the evaluation that scores the derived architecture (0 before any is known)."""
        return self._validation_batches * self._pace("predict")

    def _pace(self, name):
        """The median seconds of `name` after its first (tracing) call; the first call's before."""
        if name in self._seconds:
            return statistics.median(self._seconds[name])
        return self._seconds.get(f"first_{name}", 0.0)
