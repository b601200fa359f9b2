"""Averaging the final network with the search's best bag-of-n-grams network (texts).

A linear model over n-grams and a network over the token sequence make different mistakes: on
the validation splits of four sentence sets, two different cells averaged with the n-grams
network beat the cell alone on every set and seed (docs/how-a-fit-works.md, "Averaging the
winner with the n-grams network"). A search that tried the n-grams alone (one of a text
search's first trials) already has that linear network trained; this
module checks, on the validation data that scored the trials, whether averaging the winner's
class probabilities with it beats the winner, and builds the averaged model. The average is one
Keras model over the same raw inputs, so `predict_proba` and the exported SavedModel serve it
unchanged.
"""
from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np
from keras import layers

from autonas.distribute.multi_worker_strategy import spans_workers
from autonas.engine.progress import speaker
from autonas.engine.retrain import train_architecture
from autonas.oracles.halving import trained_epochs
from autonas.space.genotype import Genotype


@dataclasses.dataclass(frozen=True)
class BlendPartner:
    """The trial whose network the winner is averaged with, and the validation accuracy of
    the winner's trial model alone and averaged with it."""

    trial_id: str
    genotype: Genotype
    epochs: int
    alone: float
    averaged: float


def find_partner(outcome, data, *, objective, strategy=None, verbose=1):
    """The best trained trial without cells, when averaging its class probabilities with the
    winner's raises the winner's validation accuracy; else None.

    None also when there is nothing to average: the winner has no cells (it is the n-grams
    model), the search was one-shot or ranked trials by costs too (an average costs more to
    serve), no trial without cells finished, or either trial's weights are not on this machine.
    """
    tuner, best = outcome.tuner, outcome.best_trial
    if (tuner is None or best is None or not outcome.genotype.ending.reads_cells or spans_workers(strategy)
            or objective.costs):
        return None
    partner, genotype = _best_without_cells(outcome)
    if partner is None or not all(os.path.exists(tuner.weights_path(t.trial_id)) for t in (best, partner)):
        return None
    models = (tuner.load_model(best), tuner.load_model(partner))
    labels, winner, linear = [], [], []
    # One pass: a validation dataset the user gave may shuffle itself on every pass.
    for inputs, batch_labels in data.validation:
        labels.append(np.asarray(batch_labels))
        for predictions, model in zip((winner, linear), models):
            predictions.append(np.asarray(model.predict_on_batch(inputs)))
    labels, winner, linear = (np.concatenate(parts) for parts in (labels, winner, linear))
    alone, averaged = _accuracy(winner, labels), _accuracy((winner + linear) / 2.0, labels)
    speaker(verbose)(f"the winner averaged with trial {partner.trial_id}'s n-grams network: validation accuracy "
                     f"{averaged:.4f} against {alone:.4f} alone; " + ("averaging" if averaged > alone else
                                                                     "the winner stays alone"))
    if averaged <= alone:
        return None
    return BlendPartner(partner.trial_id, genotype, trained_epochs(partner), alone, averaged)


def _best_without_cells(outcome):
    """`(trial, genotype)` of the best-scored finished trial whose network does not read cells
    (the n-grams alone); `(None, None)` when there is none."""
    trials, space = outcome.tuner.oracle.trials, outcome.tuner.hypermodel.space
    for trial_id in outcome.leaderboard.loc[outcome.leaderboard["score"].notna(), "trial"]:
        trial = trials[trial_id]
        genotype = space.declare(trial.hyperparameters.copy())
        if trained_epochs(trial) and not genotype.ending.reads_cells:
            return trial, genotype
    return None, None


def _accuracy(probabilities, labels):
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


def averaged_model(network, linear, name="autonas_blend"):
    """One model over `network`'s raw inputs whose class probabilities are the mean of
    `network`'s and `linear`'s (both over the same inputs)."""
    source = network.inputs[0]
    inputs = keras.Input(shape=source.shape[1:], dtype=source.dtype, name=source.name)
    # Renamed copies of the two graphs: a model's layers need distinct names, and both are
    # built as "autonas_classifier".
    members = [keras.Model(model.inputs[0], model.outputs[0], name=f"{role}_{model.name}")
               for role, model in (("network", network), ("ngrams", linear))]
    return keras.Model(inputs, layers.Average(name="blend")([member(inputs) for member in members]), name=name)


def train_partner(partner, outcome, hypermodel, data, *, retrain=True, strategy=None, verbose=1):
    """`partner`'s network as the final model averages it: trained from scratch on training +
    validation data for the epochs its trial trained (what an n-grams winner gets,
    `autonas.engine.retrain.validated_epochs_only`), or its trial's model when nothing is
    retrained."""
    if not retrain:
        return outcome.tuner.load_model(outcome.tuner.oracle.trials[partner.trial_id])
    return train_architecture(partner.genotype, hypermodel, data.full, size=hypermodel.size, epochs=partner.epochs,
                              strategy=strategy, verbose=0)
