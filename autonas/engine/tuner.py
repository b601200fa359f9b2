"""The trial runner: a keras-tuner Tuner that builds, trains and scores one architecture."""
from __future__ import annotations

import gc
import os
import threading
import time
from typing import NamedTuple

import keras
import keras_tuner

from autonas.engine.budget import CosineEpochs, Deadline
from autonas.engine.objectives import ACCURACY, VIOLATION
from autonas.cluster.roles import Cluster
from autonas.distribute.strategies import strategy_scope
from autonas.engine.gradient_registry import released_custom_gradients
from autonas.engine.project_files import WEIGHTS_FILE
from autonas.engine.trial_epochs import read_agreed_epochs, record_agreed_epochs
from autonas.engine.user_callbacks import write_validation_scores
from autonas.engine.graph_rewrites import graph_rewrites_off
from autonas.distribute.multi_worker_strategy import agreed, check_same_trial, evaluate_scores, fit_history, spans_workers
from autonas.oracles.halving import EPOCHS, INITIAL_EPOCH, PARENT
from autonas.oracles.pareto import constraint_violation
from autonas.kt_internals import trial_callbacks
from autonas.oracles.recovery import write_json_atomically


class SearchBudgetSpent(Exception):
    """Raised from `pre_create_trial` when no further trial fits in the time budget."""


class EpochTimer(keras.callbacks.Callback):
    """Records each epoch's wall time; the first includes tracing, so the pace is the last one."""

    def __init__(self):
        super().__init__()
        self.durations = []
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.durations.append(time.monotonic() - self._start)

    def steady_epoch_seconds(self):
        return self.durations[-1] if self.durations else 0.0


class Rung(NamedTuple):
    """The epochs one trial trains: epochs `initial_epoch` to `epochs - 1` (as Keras counts them),
    starting from the weights trial `parent` saved, or from scratch when `parent` is None."""

    epochs: int
    initial_epoch: int = 0
    parent: str | None = None


def trial_rung(hyperparameters, epochs):
    """The `Rung` a trial trains, read from keras-tuner's Hyperband hyperparameters.

    `keras_tuner.oracles.HyperbandOracle` sets "tuner/epochs" (the epoch the trial trains until),
    "tuner/initial_epoch" (the epoch it starts at) and, for a trial promoted to a higher rung,
    "tuner/trial_id" (the trial whose weights it continues from). A trial without them trains
    the search's `epochs` from scratch.

    Args:
        hyperparameters: the trial's `keras_tuner.HyperParameters`.
        epochs: the search's epochs per trial.

    Returns:
        A `Rung`.

    Example:
        >>> hp = keras_tuner.HyperParameters()
        >>> hp.values.update({"tuner/epochs": 3, "tuner/initial_epoch": 1, "tuner/trial_id": "0000"})
        >>> trial_rung(hp, epochs=10)
        Rung(epochs=3, initial_epoch=1, parent='0000')
    """
    values = hyperparameters.values
    if not is_rung(hyperparameters):
        return Rung(int(epochs))
    return Rung(int(values[EPOCHS]), int(values.get(INITIAL_EPOCH, 0)), values.get(PARENT))


def is_rung(hyperparameters):
    """Whether a trial's epochs come from its oracle (keras-tuner's Hyperband rungs)."""
    return EPOCHS in hyperparameters.values


def untrained(trial):
    """Whether `trial` was over a cost limit, so never trained (it has no weights, no pace)."""
    return constraint_violation(trial) > 0


class SearchTuner(keras_tuner.Tuner):
    """Runs trials for any keras-tuner Oracle and HyperModel, under an optional deadline.

    Each trial trains the built model for `epochs` and reports the final epoch's metrics, its
    parameter count, the epochs it trained, the wall-clock seconds of the whole trial and of its
    last epoch. Before each new trial the tuner checks that an
    average trial still fits before `deadline`; if not, the search ends with the trials so far.

    With `costs` (`autonas.engine.costs.TrialCosts`) a trial first measures what its
    architecture costs to serve, before training: one over a limit is not trained, and reports
    its costs, accuracy 0 and its `constraint_violation` (`autonas.engine.objectives`).

    Under `keras_tuner.oracles.HyperbandOracle`, or an autonas oracle's successive halving
    (`autonas.oracles.halving`), a trial trains its rung instead (`trial_rung`):
    until "tuner/epochs", from "tuner/initial_epoch", a promoted trial from the weights its
    parent trial saved (the optimizer starts afresh, as in keras-tuner's own `Hyperband`). A
    `CosineEpochs` schedule among the callbacks is planned over the rung's last epoch
    (`CosineEpochs.spanning`), so a rung is neither cut at the search's `epochs` nor left
    unannealed before it; it shrinks only to end before the search's deadline.

    Its project resumes after the process is killed at any moment: the tuner's state file is
    written from the start of the search and replaced atomically (the oracle's files too, for
    autonas's oracles: `autonas.oracles.recovery`). What TensorFlow would keep of a trial's
    traced graphs is released when the trial ends (`autonas.engine.gradient_registry`).

    In a multi-worker search (keras-tuner's KERASTUNER_* variables, see `autonas.cluster.roles`)
    the chief's `search` serves the oracle and returns when the search is over; a worker's runs
    trials, with heartbeats, until the chief says stop. Only the chief may `overwrite`.

    Args:
        hypermodel: a `keras_tuner.HyperModel` returning compiled models.
        oracle: any `keras_tuner.Oracle`.
        deadline: a `Deadline`; None means no time limit.
        trial_epochs: a `TrialEpochs` deciding each trial's epochs (and sizing them to the
            budget; in a chief/worker search the chief records the agreed epochs and workers
            read them, `autonas.engine.trial_epochs`); None: every trial trains the `epochs`
            given to `search`.
        on_trial_done: optional callback `f(tuner, trial)` after each trial (progress output).
        costs: a `TrialCosts` measuring each trial's serving costs, or None (none measured).
        cluster: this process's part in a chief/worker search; None: `Cluster.from_environment()`.
        **tuner_kwargs: keras-tuner Tuner arguments (directory, project_name, overwrite,
            distribution_strategy, ...).
    """

    def __init__(self, hypermodel, oracle, *, deadline=None, trial_epochs=None, on_trial_done=None, cluster=None,
                 costs=None, **tuner_kwargs):
        self.cluster = cluster or Cluster.from_environment()
        self.costs = costs
        # Before keras-tuner's constructor, which restores a resumed project's state into it.
        self.trial_epochs = trial_epochs
        if self.cluster.is_worker:
            tuner_kwargs["overwrite"] = False  # the project directory is shared: only the chief clears it
        super().__init__(oracle=oracle, hypermodel=hypermodel, **tuner_kwargs)
        self.deadline = deadline or Deadline(None)
        self.on_trial_done = on_trial_done
        # Trials that ended through this tuner (on the chief: all), as the oracle recorded them.
        self.finished_trials = []
        # On the chief, after `search`: trial id -> the tuner ids it was given to.
        self.trial_workers = {}
        self._heartbeat = None
        self._agreeing = threading.Lock()  # the chief's server threads end trials at once

    def search(self, *fit_args, **fit_kwargs):
        if self.cluster.is_chief:
            # keras-tuner's chief serves until its process is killed; this one returns when the
            # search is over, its oracle holding every trial.
            if "verbose" in fit_kwargs:
                self.oracle.verbose = fit_kwargs["verbose"]
            self.save()
            self.trial_workers = self.cluster.serve(self.oracle, may_start_trial=self.trial_fits,
                                                    on_trial_end=self._trial_done)
            return
        # keras-tuner's loop only ends when the oracle says so; the time budget is the runner's,
        # so it ends the loop by raising from the public `pre_create_trial` hook.
        try:
            super().search(*fit_args, **fit_kwargs)
        except SearchBudgetSpent:
            self.on_search_end()

    def on_search_begin(self):
        super().on_search_begin()
        # keras-tuner resumes a project only if `<tuner_id>.json` exists, and first writes it
        # when a trial ends: write it now, so that a search killed in its first trial resumes.
        self.save()

    def save(self):
        # BaseTuner.save rewrites `<tuner_id>.json` in place, and a kill during that write leaves
        # a file the project cannot be reloaded from: replace it atomically (same name).
        if not self.cluster.is_worker:
            self.oracle.save()
        write_json_atomically(os.path.join(self.project_dir, f"{self.tuner_id}.json"), self.get_state())

    def pre_create_trial(self):
        # Under a multi-worker strategy every worker runs this search in step: the chief's clock decides.
        if not agreed(self.distribution_strategy, self.trial_fits()):
            raise SearchBudgetSpent()

    def trial_fits(self):
        """Whether an average trial still ends before the deadline."""
        return self.deadline.fits(self.expected_trial_seconds())

    def expected_trial_seconds(self):
        """Mean wall time of finished trials (0 before the first); a worker knows only its own."""
        trials = self.finished_trials if self.cluster.is_worker else self.oracle.trials.values()
        seconds = [t.metrics.get_last_value("seconds") for t in trials
                   if t.metrics.exists("seconds") and not untrained(t)]
        return sum(seconds) / len(seconds) if seconds else 0.0

    def strategy_scope(self):
        """The scope models must be built in to train under the tuner's distribution strategy."""
        return strategy_scope(self.distribution_strategy)

    def run_trial(self, trial, train_data, *, validation_data, epochs, callbacks=(), verbose=0):
        start = time.monotonic()
        check_same_trial(self.distribution_strategy, trial.hyperparameters.values)
        keras.backend.clear_session()
        gc.collect()
        costs = self._trial_costs(trial)
        if costs.get(VIOLATION, 0.0) > 0:  # over a limit: training it would be wasted
            return self._with_objective({**costs, ACCURACY: 0.0, "epochs": 0.0, "seconds": time.monotonic() - start})
        if self.cluster.is_worker and self.trial_epochs is not None:
            self.trial_epochs.agree(read_agreed_epochs(self.project_dir))
        cover_setup = self.trial_epochs is not None and self.trial_epochs.probe_covers_setup
        planned, schedule_deadline = (epochs, None) if self.trial_epochs is None else self.trial_epochs.next_trial()
        rung = trial_rung(trial.hyperparameters, planned)
        from_oracle = is_rung(trial.hyperparameters)
        if from_oracle:  # its rung's epochs, shortened only to end before the search's deadline
            schedule_deadline = self.deadline
        # TensorFlow's gradient registry would keep each trial's train step alive, and memory
        # would grow with every trial (see `autonas.engine.gradient_registry`).
        with released_custom_gradients():
            with self.strategy_scope():
                model = self.hypermodel.build(trial.hyperparameters)
                if rung.parent is not None and not os.path.exists(self.weights_path(rung.parent)):
                    # Its parent's weights file is gone (`autonas.engine.project_files`): train
                    # all the rung's epochs from scratch rather than fail the trial.
                    rung = Rung(rung.epochs)
                if rung.parent is not None:
                    model.load_weights(self.weights_path(rung.parent))
            callbacks = [c.spanning(rung.epochs, schedule_deadline, cover_setup=cover_setup and not from_oracle)
                         if isinstance(c, CosineEpochs) else c for c in trial_callbacks(self, callbacks, trial)]
            timer = EpochTimer()
            with graph_rewrites_off():  # about 1 s less tracing per trial on a CPU, same steps after
                history = fit_history(model, train_data, epochs=rung.epochs, initial_epoch=rung.initial_epoch,
                                      callbacks=[*callbacks, timer], strategy=self.distribution_strategy,
                                      verbose=verbose)
                # Validate once, after the last epoch run (a callback may stop training early to
                # meet the deadline): the score is that epoch's, and each validation pass costs time.
                scores = evaluate_scores(model, validation_data, self.distribution_strategy)
            write_validation_scores(callbacks, scores, epoch=rung.initial_epoch + len(timer.durations) - 1)
        model.save_weights(self.weights_path(trial.trial_id))
        metrics = {name: float(values[-1]) for name, values in history.items()}
        metrics.update({f"val_{name}": float(value) for name, value in scores.items()})
        metrics["epochs"] = float(len(timer.durations))  # trained in this trial (a rung: from its initial epoch)
        metrics["params"] = metrics["trained_params"] = float(model.count_params())
        metrics.update(costs)  # the costs of the model `fit` returns ("params" at its size)
        metrics["epoch_seconds"] = timer.steady_epoch_seconds()
        metrics["seconds"] = time.monotonic() - start
        if self.trial_epochs is not None and not from_oracle:
            self.trial_epochs.trial_done(len(timer.durations))
        return self._with_objective(metrics)

    def _trial_costs(self, trial):
        """The trial's serving costs (none without `costs`): a promoted trial's are its parent's,
        the same architecture; any other's are measured."""
        if self.costs is None:
            return {}
        parent = trial.hyperparameters.values.get(PARENT)
        if parent is not None:
            metrics = self.oracle.get_trial(parent).metrics
            if all(metrics.exists(name) for name in self.costs.metric_names):
                return {name: metrics.get_last_value(name) for name in self.costs.metric_names}
        return self.costs.measure(self.hypermodel, trial.hyperparameters)

    def _with_objective(self, metrics):
        """`metrics` with a keras-tuner `MultiObjective`'s own value (its sum, which keras-tuner
        requires of a returned dict: its `Tuner` adds it to the histories it scores)."""
        objective = self.oracle.objective
        if getattr(objective, "objectives", None) and objective.name not in metrics:
            metrics[objective.name] = objective.get_value(metrics)
        return metrics

    def get_state(self):
        state = super().get_state()
        if self.trial_epochs is not None:
            state["trial_epochs"] = self.trial_epochs.get_state()
        return state

    def set_state(self, state):
        super().set_state(state)
        if self.trial_epochs is not None and "trial_epochs" in state:
            self.trial_epochs.set_state(state["trial_epochs"])

    def weights_path(self, trial_id):
        return os.path.join(self.get_trial_dir(trial_id), WEIGHTS_FILE)

    def load_model(self, trial):
        """The trained model of a finished trial (for predictions: outside a multi-worker
        strategy, where Keras cannot predict)."""
        scope = None if spans_workers(self.distribution_strategy) else self.distribution_strategy
        with strategy_scope(scope):
            model = self.hypermodel.build(trial.hyperparameters)
            model.load_weights(self.weights_path(trial.trial_id))
        return model

    def on_trial_begin(self, trial):
        super().on_trial_begin(trial)
        self._heartbeat = self.cluster.heartbeat(self.oracle, trial.trial_id)

    def on_trial_end(self, trial):
        try:
            super().on_trial_end(trial)
        finally:
            self._heartbeat.stop()
        self._trial_done(self.oracle.get_trial(trial.trial_id))

    def _trial_done(self, trial):
        if self.cluster.is_chief and self.trial_epochs is not None:
            self._agree_on_epochs(trial)
        self.finished_trials.append(trial)
        if self.on_trial_done is not None:
            self.on_trial_done(self, trial)

    def _agree_on_epochs(self, trial):
        """On the chief: the first completed trial's epochs become the search's (the probe's,
        `autonas.engine.trial_epochs`), for the workers to read before their next trial."""
        completed = trial.status == keras_tuner.engine.trial.TrialStatus.COMPLETED
        if not completed or is_rung(trial.hyperparameters) or not trial.metrics.exists("epochs") or untrained(trial):
            return
        with self._agreeing:
            if self.trial_epochs.sizing:
                self.trial_epochs.trial_done(trial.metrics.get_last_value("epochs"))
                record_agreed_epochs(self.project_dir, self.trial_epochs.epochs)
