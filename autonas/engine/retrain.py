"""Retrain the winner of a search within what is left of the time budget (`retrain_best`).

The winner is retrained at the final size on training + validation data when enough epochs fit
in the time left (`least_epochs`: a larger network needs a full plan to be worth it), else at
the search size, going on from the winning trial's weights; after a trial search, if neither
can get as many epochs as one trial had (from scratch: as the winner had in all), the best
trial's trained model is kept rather than an undertrained one.
A one-shot search trained no child, so its winner is always trained, for the epochs that fit.
A winner without cells (a text network whose n-grams stand alone) is the same network at every
size, so it is retrained as its trial validated it: from scratch, for the trial's epochs
(`validated_epochs_only`).
"""
from __future__ import annotations

import dataclasses
import math
import os

import keras

from autonas.distribute.multi_worker_strategy import agreed, fit_history, spans_workers
from autonas.distribute.strategies import global_batch_size, make_strategy, strategy_scope
from autonas.engine.budget import CosineEpochs, Deadline
from autonas.engine.graph_rewrites import graph_rewrites_off
from autonas.engine.pace import epochs_that_fit, probe_epoch_seconds, steps_per_epoch
from autonas.engine.progress import format_seconds, speaker
from autonas.engine.user_callbacks import retraining_callbacks
from autonas.space.network import NetworkSize

# Share of `time_limit` kept for the final retraining when `retrain=True`.
RETRAIN_SHARE = 0.3
# The same after a one-shot search (ENAS, DARTS). Its retraining is the only training the final
# model gets (a trial-based search can keep its best trial's trained model), and the papers
# spent at least as long retraining as searching. On Fashion-MNIST at 600 s on 2 cores, 30% left
# the retraining 180-230 s, of which probing its pace took about 80 s (docs/one-shot.md).
ONE_SHOT_RETRAIN_SHARE = 0.5


# Retraining epochs when `final_epochs` is None: without a time limit, and the most with one
# (the plan then grows from its first estimate while the measured pace allows, so the fit uses
# its whole budget: `autonas.engine.budget.CosinePlan`).
DEFAULT_FINAL_EPOCHS = 30
MOST_FINAL_EPOCHS = 300


def most_final_epochs(final_epochs, deadline):
    """The most epochs a retraining may run: `final_epochs` when given, else by the time limit."""
    if final_epochs is not None:
        return int(final_epochs)
    return DEFAULT_FINAL_EPOCHS if deadline.seconds is None else MOST_FINAL_EPOCHS


def least_epochs(size, search_size, final_epochs, trial_epochs):
    """The fewest epochs worth retraining at `size`: a network larger than the search's needs as
    many as a fit without a time limit plans (`DEFAULT_FINAL_EPOCHS`) to overtake the search size
    trained for as long as fits; any other size, as many as a search trial had.

    Measured: in 100 s on 2 cores the plain residual cell at the search size (16 filters, 1
    normal cell) trained 11 epochs of the Fashion-MNIST 10k subset to 0.879 test accuracy, at 32
    filters 5 epochs to 0.826, at 32 filters and 2 normal cells 6 epochs to 0.829; on the CIFAR-10
    10k subset 7 epochs to 0.507 against 3 epochs to 0.329 (docs/results.md, "Retraining size").
    """
    if size != search_size and size.covers(search_size):
        return min(final_epochs, DEFAULT_FINAL_EPOCHS)
    return min(final_epochs, trial_epochs)


def validated_epochs_only(genotype, final_epochs):
    """Whether `genotype` is retrained for its trial's epochs only, not as many as time allows.

    A network without cells does not grow with the final size: more epochs are all the
    retraining could change, and for this linear model over TF-IDF n-grams they overfit (the
    281 and more epochs a 900 s fit allowed scored 5 points below its trials' 10 on SST-2 and MR:
    docs/how-a-fit-works.md, "How long a winner without cells retrains"). A `final_epochs` the
    user gave still wins.
    """
    return final_epochs is None and genotype is not None and not genotype.ending.reads_cells


# Seconds a fit keeps for retraining a winner that retrains as its trial validated it, as a
# multiple of that trial's training time: as many epochs on the training and validation data (a
# quarter more at the default split), then the export.
QUICK_RETRAINING_FACTOR = 2.0


def quick_retraining_seconds(genotype, training_seconds, final_epochs):
    """The seconds retraining `genotype` needs when that is known before the search ends: for a
    winner retrained as validated (`validated_epochs_only`), `QUICK_RETRAINING_FACTOR` times the
    `training_seconds` its trial took; None for any other, which gets the retraining share
    (`autonas.engine.budget.SearchDeadline`)."""
    if validated_epochs_only(genotype, final_epochs):
        return QUICK_RETRAINING_FACTOR * training_seconds
    return None


def search_share(one_shot, retrain):
    """The share of a fit's time limit its search may use; the rest retrains the winner."""
    if not retrain:
        return 1.0
    return 1.0 - (ONE_SHOT_RETRAIN_SHARE if one_shot else RETRAIN_SHARE)


@dataclasses.dataclass
class Retrained:
    """The final model and the `NetworkSize` it was retrained at (None: the best trial's model,
    kept); `epochs`: all the epochs its weights trained, those of the trial it went on from
    included (None: the kept trial's)."""

    model: keras.Model
    size: NetworkSize | None
    epochs: int | None = None


def retrain_best(outcome, hypermodel, data, *, final_size, final_epochs, batch_size, deadline=None,
                 strategy=None, retrain=True, verbose=1, callbacks=()):
    """Train the final model for `outcome`'s winner in what is left before `deadline`.

    Args:
        outcome: the search's `SearchOutcome`; its winner's epochs (`trial_epochs`) are the
            fewest a retraining from scratch may run: fewer would likely undo the search's
            result. Going on from the winner's weights, one epoch is worth running.
        hypermodel: the search's `CellHyperModel` (its size is the search size).
        data: the search's `PreparedData`.
        final_size: the `NetworkSize` to retrain at when it fits.
        final_epochs: the most epochs of the retraining; None: `most_final_epochs`.
        batch_size: per-replica batch size.
        deadline: the whole fit's `Deadline`; None: no limit.
        strategy: the `tf.distribute.Strategy` to train under.
        retrain: False keeps the best trial's model (a one-shot winner is trained at the search
            size on the training data).
        verbose: 0 silent, 1 one progress line, 2 also Keras's per-epoch lines.
        callbacks: Keras callbacks for the retraining (copied; a TensorBoard logs to its
            `<log_dir>/final`, `autonas.engine.user_callbacks`).

    Returns:
        `Retrained`.
    """
    strategy = make_strategy(strategy)
    deadline = deadline or Deadline(None)
    epochs = outcome.trial_epochs
    as_validated = validated_epochs_only(outcome.genotype, final_epochs)
    final_epochs = epochs if as_validated else most_final_epochs(final_epochs, deadline)
    best = outcome.best_trial
    if best is not None and not os.path.exists(outcome.tuner.weights_path(best.trial_id)):
        # Its weights file is gone (deleted, or written on another machine): train the winner
        # as a one-shot winner is, from scratch (`autonas.engine.project_files`).
        speaker(verbose)(f"trial {best.trial_id}'s weights file is missing; training its architecture again")
        best = None
    if best is not None and not retrain:
        return Retrained(outcome.tuner.load_model(best), None)
    sizes = list(dict.fromkeys([final_size, hypermodel.size] if retrain and not as_validated else [hypermodel.size]))
    batches = data.full if retrain else data.train
    say = speaker(verbose)
    train = RetrainRun(outcome.genotype, hypermodel, batches, deadline=deadline, strategy=strategy, say=say,
                       verbose=verbose, callbacks=callbacks)
    if best is None:
        samples = data.train_size + (data.validation_size if retrain else 0)
        wanted = final_epochs if retrain else epochs
        keras.backend.clear_session()
        size, model, planned = pick_one_shot_size(
            train, sizes, samples, batch_size=batch_size, wanted=wanted,
            needed=lambda size: least_epochs(size, hypermodel.size, final_epochs, epochs))
        model = train(model, size, planned, min_epochs=1, most_epochs=wanted)
        return Retrained(model, size if retrain else None, train.epochs_trained)
    for size in sizes:
        keras.backend.clear_session()
        model = train.build(size)
        # Across workers each would read its own file: the replicas could start apart.
        goes_on = (size == hypermodel.size and not as_validated and not spans_workers(strategy)
                   and continue_from_trial(model, outcome.tuner, best))
        # Going on from the winner's weights, every epoch adds to the ones it had: one more epoch
        # on training + validation data beat keeping the trial's model (mean of three seeds, digits
        # +0.3 points, Fashion +0.7; docs/results.md, "Going on from the winner"). From scratch,
        # fewer epochs than the trial had would likely undo the search's result.
        fewest = 1 if goes_on else epochs
        affordable = _epochs_that_fit(best, model, data, deadline.remaining)
        # No more than wanted (never infinite), and the chief's clock decides for every worker.
        affordable = int(agreed(strategy, min(affordable, final_epochs)))
        if affordable >= least_epochs(size, hypermodel.size, final_epochs, fewest):
            if goes_on:
                say(f"going on from trial {best.trial_id}'s weights ({epochs} epochs trained)")
            model = train(model, size, affordable, min_epochs=fewest, most_epochs=final_epochs)
            return Retrained(model, size if retrain else None, train.epochs_trained + (epochs if goes_on else 0))
    say("not enough time left to retrain; keeping the best trial's model")
    return Retrained(outcome.tuner.load_model(best), None)


class RetrainRun:
    """Builds `genotype`'s model at a size and trains it on `batches` under the deadline."""

    def __init__(self, genotype, hypermodel, batches, *, deadline, strategy, say, verbose, callbacks=()):
        self.genotype = genotype
        self.callbacks = callbacks
        self.hypermodel = hypermodel
        self.batches = batches
        self.deadline = deadline
        self.strategy = strategy
        self.say = say
        self.verbose = verbose
        self.epochs_trained = 0  # by the last call

    def build(self, size):
        with strategy_scope(self.strategy):
            return self.hypermodel.build_genotype(self.genotype, size=size)

    def __call__(self, model, size, epochs, *, min_epochs, most_epochs):
        """Train `model` (built at `size`) for about `epochs` (at least `min_epochs`, at most
        `most_epochs`); the model to keep.

        A plan from probed batches or a scaled trial pace is an estimate: when the real epochs
        run slower, the plan shrinks to end on time, still annealed to zero, and past the
        deadline an epoch beyond the minimum stops at its current batch; when they run faster,
        it grows (up to `most_epochs`) to use the time left.
        """
        epochs = max(1, epochs)
        most_epochs = max(epochs, most_epochs)
        remaining = self.deadline.remaining
        planned = f"{epochs} epochs" + (" or more, as time allows" if most_epochs > epochs and remaining is not None
                                         else "")
        self.say(f"training the best architecture ({model.count_params():,} parameters) for {planned}"
                 + (f", {format_seconds(remaining)} left" if remaining is not None else ""))
        schedule = CosineEpochs(self.hypermodel.learning_rate, epochs, self.deadline, min_epochs=min_epochs,
                                anneal_per_batch=True, stop_within_epoch=True, most_epochs=most_epochs)
        callbacks = [schedule, *retraining_callbacks(self.callbacks)]
        with graph_rewrites_off():
            history = fit_history(model, self.batches, epochs=most_epochs, callbacks=callbacks,
                                  strategy=self.strategy, verbose=2 if self.verbose == 2 else 0)
        self.epochs_trained = len(history.get("loss", ()))
        if spans_workers(self.strategy):  # Keras cannot predict under it: a copy outside it predicts
            trained, model = model, self.hypermodel.build_genotype(self.genotype, size=size)
            model.set_weights(trained.get_weights())
        return model


def train_architecture(genotype, hypermodel, batches, *, size, epochs, strategy=None, verbose=1):
    """`genotype`'s model at `size`, trained from scratch on `batches` for `epochs` epochs,
    without a time limit: another point of a search's Pareto front trained as its winner was."""
    strategy = make_strategy(strategy)
    train = RetrainRun(genotype, hypermodel, batches, deadline=Deadline(None), strategy=strategy,
                       say=speaker(verbose), verbose=verbose)
    keras.backend.clear_session()
    return train(train.build(size), size, epochs, min_epochs=epochs, most_epochs=epochs)


def pick_one_shot_size(train, sizes, samples, *, batch_size, wanted, needed):
    """`(size, model, epochs)` for a one-shot winner, which has no trial whose pace could be
    scaled: each size's pace is measured on its first batches (`autonas.engine.pace`), and the
    probed model is kept.

    `needed(size)` is the fewest epochs worth training `size` for (`least_epochs`). The search
    size (last of `sizes`) is probed first. When even it cannot get a larger final size's
    `needed` epochs, the final size cannot either, and its tracing is skipped (55 s of a 300 s
    retraining on the Fashion subset). Otherwise the final size is probed; when it falls short,
    the search size trains for the epochs that fit (at least one). Without a time limit nothing
    is probed and the first of `sizes` trains for `wanted` epochs.
    """
    deadline, strategy = train.deadline, train.strategy
    if deadline.remaining is None:
        return sizes[0], train.build(sizes[0]), wanted
    steps = steps_per_epoch(train.batches, samples, global_batch_size(batch_size, strategy))

    def probe(size):
        model = train.build(size)
        return model, probe_epoch_seconds(model, train.batches, steps)

    def affordable(epoch_seconds):  # the chief's clock decides for every worker
        return int(agreed(strategy, min(epochs_that_fit(epoch_seconds, deadline.remaining), wanted)))

    search_size, *larger = sizes[::-1]
    search_model, search_pace = probe(search_size)
    for size in larger:
        if size.covers(search_size) and affordable(search_pace) < needed(size):
            break
        model, pace = probe(size)
        epochs = affordable(pace)
        if epochs >= needed(size):
            return size, model, epochs
    return search_size, search_model, max(1, affordable(search_pace))


def continue_from_trial(model, tuner, trial):
    """Load `trial`'s trained weights into `model`, its architecture rebuilt at the search size,
    so that the retraining goes on from the epochs the trial trained rather than starting over
    (a restart of the learning-rate schedule, as in SGDR). False, and `model` untouched, when
    the weights are not on this machine (a trial run by a remote worker)."""
    path = tuner.weights_path(trial.trial_id)
    if not os.path.exists(path):
        return False
    model.load_weights(path)
    return True


def _epochs_that_fit(best, final_model, data, seconds_left):
    """How many epochs of `final_model` on train + validation data fit in `seconds_left`.

    Scales the best trial's set-up time (build, tracing) and steady epoch time by the growth in
    parameters, and epoch time also by the growth in data: rough, and pessimistic for small
    inputs, where per-step overhead rather than arithmetic dominates. Training re-plans its
    epochs under the deadline anyway (`CosineEpochs`); this only picks the size.
    """
    if seconds_left is None:
        return math.inf
    metric = best.metrics.get_last_value
    trained_params = metric("trained_params") if best.metrics.exists("trained_params") else metric("params")
    growth = max(1.0, final_model.count_params() / max(trained_params, 1.0))
    epoch_seconds = metric("epoch_seconds")
    # The epochs this trial ran (a Hyperband rung's: from its parent's epochs on).
    setup = max(metric("seconds") - metric("epochs") * epoch_seconds, 0.0) * growth
    per_epoch = epoch_seconds * growth * (data.train_size + data.validation_size) / max(data.train_size, 1)
    return max(0, int(math.floor((seconds_left - setup) / max(per_epoch, 1e-9))))
