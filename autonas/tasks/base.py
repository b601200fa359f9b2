"""What every search classifier shares: parameters, fit, predict, leaderboard and export.

A task subclass only says how its inputs are validated and preprocessed (`_prepare_fit_data`,
`_check_predict_inputs`, `_probe_inputs`) and which operations its cells use.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import numbers
import os
import tempfile

import keras
import keras_tuner
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from autonas.engine.budget import CosineEpochs, Deadline, parse_duration
from autonas.engine.distribute import check_strategy, global_batch_size, make_strategy, strategy_scope
from autonas.engine.multi_worker import agreed, fit_history, spans_workers, worker_index
from autonas.engine.pace import epochs_that_fit, probe_epoch_seconds, steps_per_epoch
from autonas.engine.progress import TrialProgress, format_seconds
from autonas.engine.cluster import Cluster
from autonas.engine.resume import check_resume, recorded_seed
from autonas.engine.tuner import SearchTuner
from autonas.export import export_saved_model, jsonable_classes
from autonas.oneshot.result import OneShotResult
from autonas.oneshot.run import ONE_SHOT_NAMES, one_shot_leaderboard, run_one_shot
from autonas.oracles import ORACLE_NAMES, make_oracle
from autonas.space.genotype import Genotype
from autonas.space.hypermodel import CellHyperModel, CellSearchSpace, check_optimizer
from autonas.space.network import NetworkSize, default_reductions
from autonas.space.published import PUBLISHED_CELLS

OBJECTIVE = keras_tuner.Objective("val_accuracy", direction="max")
# Trials of a search with neither `max_trials` nor `time_limit`.
DEFAULT_MAX_TRIALS = 10
# Share of `time_limit` kept for the final retraining when `retrain=True`.
RETRAIN_SHARE = 0.3
# The same after a one-shot search (ENAS, DARTS). Its retraining is the only training the final
# model gets (a trial-based search can keep its best trial's trained model), and the papers
# spent at least as long retraining as searching. On Fashion-MNIST at 600 s on 2 cores, 30% left
# the retraining 180-230 s, of which probing its pace took about 80 s (README, one-shot table).
ONE_SHOT_RETRAIN_SHARE = 0.5


@dataclasses.dataclass
class SearchOutcome:
    """What a search hands to the retraining: the winner, its score and every candidate.

    `tuner` and `best_trial` are set by a keras-tuner search (the trial's trained model can be
    kept); a one-shot search leaves them None.
    """

    genotype: Genotype
    score: float
    leaderboard: pd.DataFrame
    tuner: SearchTuner | None = None
    best_trial: keras_tuner.engine.trial.Trial | None = None
    one_shot: OneShotResult | None = None


class SearchClassifier(ClassifierMixin, BaseEstimator):
    """Base of the search classifiers (see `ImageSearchClassifier` for the parameters)."""

    project_name = "search"
    rank = 2

    def __init__(self, *, max_trials=None, epochs=10, final_epochs=30, time_limit=None, oracle="evolution",
                 seed=None, directory=None, overwrite=False, verbose=1, retrain=True, batch_size=128,
                 num_blocks=4, operations=None, search_filters=16, search_normal_cells=1, final_filters=32,
                 final_normal_cells=2, optimizer="sgd", learning_rate=None, dropout=0.2, warm_start=None,
                 distribution_strategy=None):
        self.max_trials = max_trials
        self.epochs = epochs
        self.final_epochs = final_epochs
        self.time_limit = time_limit
        self.oracle = oracle
        self.seed = seed
        self.directory = directory
        self.overwrite = overwrite
        self.verbose = verbose
        self.retrain = retrain
        self.batch_size = batch_size
        self.num_blocks = num_blocks
        self.operations = operations
        self.search_filters = search_filters
        self.search_normal_cells = search_normal_cells
        self.final_filters = final_filters
        self.final_normal_cells = final_normal_cells
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.dropout = dropout
        self.warm_start = warm_start
        self.distribution_strategy = distribution_strategy

    # ----------------------------------------------------------------- task hooks
    def _default_operations(self):
        raise NotImplementedError

    def _prepare_fit_data(self, x, y, validation_split, validation_data, seed, batch_size):
        """Return `(PreparedData, input_spec, classes)` batched by `batch_size`; raise ValueError
        on bad input."""
        raise NotImplementedError

    def _check_predict_inputs(self, x):
        """Return inputs `model_.predict` accepts; raise ValueError on bad input."""
        raise NotImplementedError

    def _probe_inputs(self):
        """A small batch of raw inputs for the export self-check."""
        raise NotImplementedError

    # ----------------------------------------------------------------- fit
    def _check_params(self):
        """Validate the configuration before touching data or disk."""
        if self.max_trials is not None:
            _check_integer("max_trials", self.max_trials, 1)
        for name, minimum in [("epochs", 1), ("final_epochs", 1), ("batch_size", 1),
                              ("num_blocks", 1), ("search_filters", 2), ("search_normal_cells", 1),
                              ("final_filters", 2), ("final_normal_cells", 1)]:
            _check_integer(name, getattr(self, name), minimum)
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral)
                                      or self.seed < 0):
            raise ValueError(f"seed must be None or a non-negative integer, got {self.seed!r}.")
        names = ORACLE_NAMES + ONE_SHOT_NAMES
        if not (isinstance(self.oracle, keras_tuner.Oracle) or self.oracle in names):
            raise ValueError(f"oracle must be one of {names} or a keras_tuner.Oracle, got {self.oracle!r}.")
        check_optimizer(self.optimizer)
        check_strategy(self.distribution_strategy)
        if self.learning_rate is not None and not (isinstance(self.learning_rate, numbers.Real)
                                                   and not isinstance(self.learning_rate, bool)
                                                   and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be None or a positive number, got {self.learning_rate!r}.")
        if not (isinstance(self.dropout, numbers.Real) and 0 <= self.dropout < 1):
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if self.verbose not in (0, 1, 2, False, True):
            raise ValueError(f"verbose must be 0, 1 or 2, got {self.verbose!r}.")
        time_limit = parse_duration(self.time_limit)
        if self._one_shot and Cluster.from_environment().distributed:
            raise ValueError(f"oracle={self.oracle!r} trains one supernet in one process and cannot be spread over "
                             "keras-tuner's chief and workers: unset KERASTUNER_TUNER_ID (and KERASTUNER_ORACLE_IP/PORT), "
                             "or use oracle='evolution', 'reinforce' or 'random' for a multi-worker search.")
        if self.warm_start and self._one_shot:
            raise ValueError(f"warm_start works with oracle='evolution' or 'reinforce', not {self.oracle!r}: a one-shot "
                             "search starts from the whole space.")
        if self.warm_start and not isinstance(self.oracle, str):
            raise ValueError("warm_start works with oracle='evolution' or 'reinforce'; a keras_tuner.Oracle "
                             "instance brings its own starting points.")
        # Checked against the space with both cells; `_search_space` drops what the data don't need.
        self._warm_start_values(self._search_space(reduction_cell=True))
        return time_limit

    def _search_space(self, reduction_cell):
        return CellSearchSpace(self.operations or self._default_operations(), num_blocks=self.num_blocks,
                               rank=self.rank, reduction_cell=reduction_cell)

    @property
    def _one_shot(self):
        """Whether `oracle` names a weight-sharing search (ENAS, DARTS) rather than trials."""
        return isinstance(self.oracle, str) and self.oracle in ONE_SHOT_NAMES

    def _warm_start_values(self, space):
        return [space.values(_genotype(g)) for g in self.warm_start or ()]

    def fit(self, x, y=None, *, validation_split=0.2, validation_data=None):
        """Search architectures on `x, y`, then retrain the best one on all the data.

        Args:
            x: training inputs (see the subclass for accepted forms).
            y: class labels (int, str or bool), one per sample; None when `x` is a dataset
                that yields `(input, label)` pairs.
            validation_split: share of the training data held out to score trials, used
                when `validation_data` is None.
            validation_data: `(x_val, y_val)` or a dataset, scoring the trials instead.

        Returns:
            self.

        Raises:
            ValueError: on bad configuration or input, before any training starts.
            RuntimeError: when no trial completed.
        """
        time_limit = self._check_params()
        cluster = Cluster.from_environment()
        if cluster.distributed and self.seed is None and validation_data is None:
            raise ValueError(
                f"A multi-worker search (KERASTUNER_TUNER_ID={cluster.tuner_id!r}) needs seed=<int> (or "
                "validation_data=): every process splits off the validation samples itself, and with seed=None "
                "each would draw its own, scoring trials on different samples.")
        strategy = make_strategy(self.distribution_strategy)
        if spans_workers(strategy):
            self._check_multi_worker_strategy(cluster)
        # A resumed seed=None search splits off the same validation samples as before.
        seed = _seed_or_random(self.seed if self.seed is not None else
                               recorded_seed(self.directory, self.project_name, self.overwrite))
        # Workers of a multi-worker strategy search in step: they split, shuffle and propose alike.
        seed = int(agreed(strategy, seed))
        data, spec, classes = self._prepare_fit_data(x, y, validation_split, validation_data, seed,
                                                     global_batch_size(self.batch_size, strategy))
        # Networks on short sequences have no reduction cells, so there is none to search.
        space = self._search_space(reduction_cell=default_reductions(spec.spatial_shape) > 0)
        deadline = Deadline(time_limit)
        retrain_share = ONE_SHOT_RETRAIN_SHARE if self._one_shot else RETRAIN_SHARE
        search_deadline = deadline.sub(1.0 - retrain_share) if self.retrain else deadline
        search_size = NetworkSize(filters=self.search_filters, normal_cells=self.search_normal_cells,
                                  dropout=self.dropout)
        hypermodel = CellHyperModel(space, inputs_builder=spec.build_inputs, num_classes=len(classes),
                                    size=search_size, optimizer=self.optimizer, learning_rate=self.learning_rate)
        with self._working_directory(strategy) as directory:
            if self._one_shot:
                outcome = self._one_shot_search(space, hypermodel, data, search_deadline, seed)
            else:
                outcome = self._tuner_search(space, hypermodel, data, search_deadline, seed, directory, strategy,
                                             time_limit)
                if outcome is None:  # a worker of a multi-worker search: the chief keeps and retrains the result
                    return self
            self.best_genotype_ = outcome.genotype
            self.leaderboard_ = outcome.leaderboard
            # Per-epoch statistics of a one-shot search (controller entropy, mean reward, ...).
            self.search_history_ = None if outcome.one_shot is None else pd.DataFrame(outcome.one_shot.history)
            self.model_ = self._final_model(outcome, hypermodel, data, deadline, strategy)
        self.classes_ = classes
        self.input_spec_ = spec
        self.best_score_ = outcome.score
        self.search_seconds_ = deadline.elapsed
        return self

    def _tuner_search(self, space, hypermodel, data, search_deadline, seed, directory, strategy, time_limit):
        """Search with a keras-tuner Oracle, training every trial: the `SearchOutcome`.

        In a multi-worker search (keras-tuner's KERASTUNER_* variables, see
        `autonas.engine.cluster`) the chief runs no trial: it serves the oracle until the search is
        over and gets the outcome of every trial (`trial_workers_` says which worker ran which).
        A worker runs trials until the chief says stop and returns None: the chief retrains, and
        the worker keeps only `search_role_`, `worker_trials_` and `search_seconds_`.

        Raises:
            ValueError: in a multi-worker search without `directory` (workers save the trials'
                weights where the chief must find them).
        """
        cluster = Cluster.from_environment()
        if cluster.distributed and self.directory is None:
            raise ValueError(
                f"A multi-worker search (KERASTUNER_TUNER_ID={cluster.tuner_id!r}) needs directory=: one path that "
                "every process reaches (a shared disk), where workers save the trials' weights for the chief.")
        # Before anything is written: a project resumed with a changed configuration is refused.
        seed = check_resume(self, directory, space=space, hypermodel=hypermodel, data=data,
                            global_batch_size=global_batch_size(self.batch_size, strategy), seed=seed)
        max_trials = self.max_trials
        if max_trials is None and time_limit is None:
            max_trials = DEFAULT_MAX_TRIALS
        initial_values = self._warm_start_values(space)
        oracle = make_oracle(self.oracle, objective=OBJECTIVE, max_trials=max_trials, seed=seed,
                             hyperparameters=space.hyperparameters(), initial_values=initial_values or None)
        progress = None
        if self.verbose:
            # A worker counts its own trials, of a total it does not know.
            progress = TrialProgress(max_trials=None if cluster.is_worker else oracle.max_trials,
                                     deadline=search_deadline,
                                     describe=lambda hp: space.declare(hp.copy()).summary())
        tuner = SearchTuner(hypermodel, oracle, deadline=search_deadline, on_trial_done=progress,
                            directory=directory, project_name=self.project_name, overwrite=self.overwrite,
                            distribution_strategy=strategy)
        # A trial that would run past the search deadline (in practice the first, before any
        # pace is known) shortens its schedule to end on time.
        tuner.search(data.train, validation_data=data.validation, epochs=self.epochs, verbose=0,
                     callbacks=[CosineEpochs(hypermodel.learning_rate, self.epochs, search_deadline)])
        self.search_role_ = cluster.role if cluster.distributed else None
        if cluster.is_worker:
            self.worker_trials_ = [trial.trial_id for trial in tuner.finished_trials]
            self.search_seconds_ = search_deadline.elapsed
            return None
        if cluster.is_chief:
            self.trial_workers_ = tuner.trial_workers
        best_trials = tuner.oracle.get_best_trials(1)
        if not best_trials:
            raise RuntimeError(_no_trial_message(tuner))
        best = best_trials[0]
        return SearchOutcome(genotype=space.declare(best.hyperparameters.copy()), score=float(best.score),
                             leaderboard=_leaderboard(tuner, space), tuner=tuner, best_trial=best)

    def _one_shot_search(self, space, hypermodel, data, search_deadline, seed):
        """Search with shared weights (ENAS, DARTS) on a supernet: the `SearchOutcome`."""
        result = run_one_shot(self.oracle, space, hypermodel, data, deadline=search_deadline, seed=seed,
                              batch_size=self.batch_size, learning_rate=self.learning_rate, say=self._say)
        return SearchOutcome(genotype=result.best.genotype, score=result.best.score,
                             leaderboard=one_shot_leaderboard(result, hypermodel.count_params), one_shot=result)

    def _working_directory(self, strategy):
        """`directory`, a temporary one without it; under a multi-worker strategy each worker but
        the chief keeps its own copy of the search in `directory/worker-<index>`."""
        if self.directory is None:
            return tempfile.TemporaryDirectory(prefix="autonas-")
        index = worker_index(strategy) if spans_workers(strategy) else 0
        if index > 0:
            return contextlib.nullcontext(os.path.join(self.directory, f"worker-{index}"))
        return contextlib.nullcontext(self.directory)

    def _check_multi_worker_strategy(self, cluster):
        """Refuse, before any training, what a MultiWorkerMirroredStrategy over several workers cannot run."""
        if self._one_shot:
            raise ValueError(f"oracle={self.oracle!r} trains its supernet in one process and cannot run under a "
                             "MultiWorkerMirroredStrategy over several workers: use distribution_strategy=None or "
                             "'mirrored', or oracle='evolution', 'reinforce' or 'random'.")
        if cluster.distributed:
            raise ValueError(
                "Choose one way to use several workers: keras-tuner's chief/worker mode (KERASTUNER_TUNER_ID="
                f"{cluster.tuner_id!r}) runs different trials side by side, a MultiWorkerMirroredStrategy (TF_CONFIG) "
                "trains each trial on all workers together. Unset KERASTUNER_TUNER_ID or use "
                "distribution_strategy=None or 'mirrored'.")

    def _final_model(self, outcome, hypermodel, data, deadline, strategy):
        """Retrain the best genotype on train + validation data at the final size, or, if that
        cannot get enough epochs in the time left, at the search size; if neither can, keep the
        best trial's model rather than return an undertrained one. A one-shot search has no trial
        to keep (`_one_shot_pick`). Its architecture is trained on the training data at the
        search size when `retrain=False`.
        """
        self.retrained_size_ = None
        best = outcome.best_trial
        if self.retrain:
            sizes = [NetworkSize(filters=self.final_filters, normal_cells=self.final_normal_cells,
                                 dropout=self.dropout), hypermodel.size]
        else:
            sizes = [hypermodel.size] if best is None else []
        sizes = list(dict.fromkeys(sizes))
        batches = data.full if self.retrain else data.train
        if best is None:
            samples = data.train_size + (data.validation_size if self.retrain else 0)
            size, model, epochs = self._one_shot_pick(hypermodel, sizes, batches, samples, deadline, strategy)
            return self._train_final(model, size, epochs, hypermodel, batches, deadline, strategy, min_epochs=1)
        for size in sizes:
            keras.backend.clear_session()
            with strategy_scope(strategy):
                model = hypermodel.build_genotype(self.best_genotype_, size=size)
            affordable = _epochs_that_fit(best, model, data, self.epochs, deadline.remaining)
            # No more than wanted (never infinite), and the chief's clock decides for every worker.
            affordable = int(agreed(strategy, min(affordable, self.final_epochs)))
            # Fewer epochs than a search trial had would likely undo the search's result.
            if affordable >= min(self.final_epochs, self.epochs):
                return self._train_final(model, size, affordable, hypermodel, batches, deadline, strategy,
                                         min_epochs=self.epochs)
        self._say("not enough time left to retrain; keeping the best trial's model")
        return outcome.tuner.load_model(best)

    def _one_shot_pick(self, hypermodel, sizes, batches, samples, deadline, strategy):
        """`(size, model, epochs)` for a one-shot pick, which has no trial whose pace could be
        scaled: each size's pace is measured on its first batches (`autonas.engine.pace`), and
        the probed model is kept.

        The search size (last of `sizes`) is probed first. When even it cannot get
        `min(final_epochs, epochs)` epochs, a final size at least as large cannot either, and its
        tracing is skipped (55 s of a 300 s retraining on the Fashion subset). Otherwise the final
        size is probed; when it falls short, the search size trains for the epochs that fit (at
        least one). Without a time limit nothing is probed and the final size trains.
        """
        wanted = self.final_epochs if self.retrain else self.epochs
        keras.backend.clear_session()

        def build(size):
            with strategy_scope(strategy):
                return hypermodel.build_genotype(self.best_genotype_, size=size)

        if deadline.remaining is None:
            return sizes[0], build(sizes[0]), wanted
        steps = steps_per_epoch(batches, samples, global_batch_size(self.batch_size, strategy))

        def probe(size):
            model = build(size)
            return model, probe_epoch_seconds(model, batches, steps)

        def affordable(epoch_seconds):  # the chief's clock decides for every worker
            return int(agreed(strategy, min(epochs_that_fit(epoch_seconds, deadline.remaining), wanted)))

        needed = min(self.final_epochs, self.epochs)
        search_size, *larger = sizes[::-1]
        search_model, search_pace = probe(search_size)
        for size in larger:
            if size.covers(search_size) and affordable(search_pace) < needed:
                break
            model, pace = probe(size)
            epochs = affordable(pace)
            if epochs >= needed:
                return size, model, epochs
        return search_size, search_model, max(1, affordable(search_pace))

    def _train_final(self, model, size, epochs, hypermodel, batches, deadline, strategy, *, min_epochs):
        """Train the final model for up to `epochs` (at least `min_epochs`) on `batches`.

        After a trial search, fewer epochs than a trial had would likely undo its result. A
        one-shot pick's epochs come from a few probed batches: if the real epochs run slower, the
        plan shrinks to end on time, still annealed to zero, and past the deadline an epoch
        beyond the minimum stops at its current batch.
        """
        epochs = max(1, epochs)
        self._say(f"training the best architecture ({model.count_params():,} parameters) for up to {epochs} "
                  "epochs" + (f", {format_seconds(deadline.remaining)} left" if deadline.remaining is not None else ""))
        schedule = CosineEpochs(hypermodel.learning_rate, epochs, deadline, min_epochs=min_epochs,
                                anneal_per_batch=True, stop_within_epoch=True)
        fit_history(model, batches, epochs=epochs, callbacks=[schedule], strategy=strategy,
                    verbose=2 if self.verbose == 2 else 0)
        self.retrained_size_ = size if self.retrain else None
        if spans_workers(strategy):  # Keras cannot predict under it: a copy outside it predicts
            trained, model = model, hypermodel.build_genotype(self.best_genotype_, size=size)
            model.set_weights(trained.get_weights())
        return model

    def _say(self, message):
        if self.verbose:
            print(message, flush=True)

    # ----------------------------------------------------------------- use
    def _check_fitted(self):
        """NotFittedError unless `fit` produced a model; a multi-worker search's workers have none."""
        message = ("This %(name)s has no fitted model yet: call fit first." if getattr(self, "search_role_", None)
                   != "worker" else "This %(name)s was a worker of a multi-worker search: it ran trials, and the "
                   "chief process holds the fitted model; predict and export there.")
        check_is_fitted(self, "model_", msg=message)

    def predict_proba(self, x):
        """Class probabilities, shape (n_samples, n_classes), columns ordered as `classes_`."""
        self._check_fitted()
        inputs = self._check_predict_inputs(x)
        return np.asarray(self.model_.predict(inputs, batch_size=self.batch_size, verbose=0))

    def predict(self, x):
        """The most probable class of each sample, as values of `classes_`."""
        probabilities = self.predict_proba(x)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def leaderboard(self):
        """Every trial of the search as a DataFrame (architecture, score, params, epochs trained,
        seconds, status), best first; a trial cut short by `time_limit` shows fewer epochs."""
        check_is_fitted(self, "leaderboard_")
        return self.leaderboard_.copy()

    def export(self, path, *, overwrite=False):
        """Write a TF SavedModel serving raw inputs -> class probabilities, plus `autonas.json`
        (classes, genotype, input spec). See `autonas.export.export_saved_model`."""
        self._check_fitted()
        metadata = {
            "classes": jsonable_classes(self.classes_),
            "genotype": self.best_genotype_.to_dict(),
            "inputs": self.input_spec_.to_dict(),
            "signature": "serve",
            "outputs": "class probabilities, columns ordered as classes",
        }
        return export_saved_model(self.model_, path, metadata=metadata, probe_inputs=self._probe_inputs(),
                                  overwrite=overwrite)


def _check_integer(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def _genotype(value):
    """A warm-start entry: a `Genotype`, or the name of a published cell ("enas", "nasnet_a", ...)."""
    if isinstance(value, Genotype):
        return value
    if isinstance(value, str) and value in PUBLISHED_CELLS:
        return PUBLISHED_CELLS[value]
    raise ValueError(f"warm_start entries must be Genotypes or names of published cells {sorted(PUBLISHED_CELLS)}, "
                     f"got {value!r}.")


def _seed_or_random(seed):
    if seed is None:
        return int(np.random.default_rng().integers(2**31 - 1))
    return int(seed)


def _epochs_that_fit(best, final_model, data, search_epochs, seconds_left):
    """How many epochs of `final_model` on train + validation data fit in `seconds_left`.

    Scales the best trial's set-up time (build, tracing) and steady epoch time by the growth in
    parameters, and epoch time also by the growth in data: rough, and pessimistic for small
    inputs, where per-step overhead rather than arithmetic dominates. Training re-plans its
    epochs under the deadline anyway (`CosineEpochs`); this only picks the size.
    """
    if seconds_left is None:
        return math.inf
    metric = best.metrics.get_last_value
    growth = max(1.0, final_model.count_params() / max(metric("params"), 1.0))
    epoch_seconds = metric("epoch_seconds")
    setup = max(metric("seconds") - search_epochs * epoch_seconds, 0.0) * growth
    per_epoch = epoch_seconds * growth * (data.train_size + data.validation_size) / max(data.train_size, 1)
    return max(0, int(math.floor((seconds_left - setup) / max(per_epoch, 1e-9))))


def _leaderboard(tuner, space):
    objective = tuner.oracle.objective.name
    rows = []
    for trial in tuner.oracle.trials.values():
        metric = trial.metrics.get_last_value
        rows.append({
            "trial": trial.trial_id,
            "architecture": str(space.declare(trial.hyperparameters.copy())),
            "score": metric(objective) if trial.metrics.exists(objective) else np.nan,
            "params": int(metric("params")) if trial.metrics.exists("params") else pd.NA,
            "epochs": int(metric("epochs")) if trial.metrics.exists("epochs") else pd.NA,
            "seconds": metric("seconds") if trial.metrics.exists("seconds") else np.nan,
            "status": str(trial.status),
        })
    frame = pd.DataFrame(rows, columns=["trial", "architecture", "score", "params", "epochs", "seconds", "status"])
    return frame.sort_values("score", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


def _no_trial_message(tuner):
    messages = [t.message for t in tuner.oracle.trials.values() if t.message]
    detail = f" Last failure:\n{messages[-1]}" if messages else " The time limit ended before the first trial."
    return "No trial completed, so there is no architecture to keep." + detail
