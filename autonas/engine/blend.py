"""Averaging the final network with a bag-of-n-grams linear model (texts).

A linear model over n-grams and a network over the token sequence make different mistakes: on
the validation splits of four sentence sets, two different cells averaged with the n-grams
network beat the cell alone on every set and seed (docs/how-a-fit-works.md, "Averaging the
winner with the n-grams network"). A search that tried the n-grams alone (one of a text
search's first trials) has that network's architecture. Its one trainable layer is a softmax
over TF-IDF vectors: multinomial logistic regression, a convex problem that scikit-learn solves
to the optimum in seconds, where a trial's few epochs of Adam leave it short (on TREC's
validation split, 0.79 against 0.85 for the solved one). So this module fits that layer with
`LogisticRegression`, its penalty chosen from `PENALTIES` on the validation data that scored the
trials, checks there whether averaging the winner's class probabilities with it beats the winner,
and builds the averaged model: one Keras model over the same raw inputs, so `predict_proba` and
the exported SavedModel serve it unchanged.
"""
from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np
import scipy.sparse
from keras import layers
from sklearn.linear_model import LogisticRegression

from autonas.data.text import NGRAM_SCALE_LAYER, NGRAM_UNIT_LAYER
from autonas.distribute.multi_worker_strategy import spans_workers
from autonas.distribute.strategies import make_strategy, strategy_scope
from autonas.engine.progress import speaker
from autonas.oracles.halving import trained_epochs
from autonas.space.genotype import Genotype
from autonas.space.network import PROBABILITIES_LAYER

# scikit-learn's C (inverse L2 penalty) for unit-length TF-IDF vectors, as a user's
# `TfidfVectorizer` + `LogisticRegression` would read it; the one whose average with the winner
# is most accurate on validation is kept, the strongest penalty on a tie.
PENALTIES = (1.0, 10.0, 100.0)
# The logit of a class the linear model never saw in training: never its prediction.
_UNSEEN_CLASS_LOGIT = -100.0


@dataclasses.dataclass(frozen=True)
class BlendPartner:
    """The trial whose n-grams architecture the winner is averaged with, the penalty its linear
    layer is fitted with, and the validation accuracy of the winner's trial model alone and
    averaged with it."""

    trial_id: str
    genotype: Genotype
    penalty: float
    alone: float
    averaged: float


def find_partner(outcome, data, *, objective, strategy=None, verbose=1):
    """The best trial without cells, with the penalty to fit its linear layer with, when
    averaging its class probabilities with the winner's raises the winner's validation accuracy;
    else None.

    None also when there is nothing to average: the winner has no cells (it is the n-grams
    model), the search was one-shot or ranked trials by costs too (an average costs more to
    serve), no trial without cells finished, or the winner's weights are not on this machine.
    """
    tuner, best = outcome.tuner, outcome.best_trial
    if (tuner is None or best is None or not outcome.genotype.ending.reads_cells or spans_workers(strategy)
            or objective.costs):
        return None
    partner, genotype = _best_without_cells(outcome)
    if partner is None or not os.path.exists(tuner.weights_path(best.trial_id)):
        return None
    # One pass: a validation dataset the user gave may shuffle itself on every pass.
    validation = list(data.validation)
    labels = np.concatenate([np.asarray(batch[1]) for batch in validation])
    winner_model = tuner.load_model(best)
    winner = np.concatenate([np.asarray(winner_model.predict_on_batch(batch[0])) for batch in validation])
    network = build_network(genotype, tuner.hypermodel, strategy)
    features, training_labels = ngram_features(network, data.train)
    validation_features, _ = ngram_features(network, validation)
    averages = {penalty: _accuracy((winner + fit_regression(features, training_labels, penalty, winner.shape[1])
                                    .predict_proba(validation_features)) / 2.0, labels) for penalty in PENALTIES}
    penalty = max(PENALTIES, key=lambda c: (averages[c], -c))
    alone, averaged = _accuracy(winner, labels), averages[penalty]
    speaker(verbose)(f"the winner averaged with trial {partner.trial_id}'s n-grams network (logistic regression, "
                     f"C={penalty:g}): validation accuracy {averaged:.4f} against {alone:.4f} alone; "
                     + ("averaging" if averaged > alone else "the winner stays alone"))
    if averaged <= alone:
        return None
    return BlendPartner(partner.trial_id, genotype, penalty, alone, averaged)


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


def build_network(genotype, hypermodel, strategy=None):
    """`genotype`'s network (the n-grams alone) at the search size, untrained."""
    with strategy_scope(make_strategy(strategy)):
        return hypermodel.build_genotype(genotype)


def ngram_features(network, batches):
    """`(features, labels)`: the unit-length TF-IDF vectors `network`'s n-gram branch makes of
    each batch's texts (a sparse matrix, a row per text) and the batches' labels."""
    vectors = keras.Model(network.inputs, network.get_layer(NGRAM_UNIT_LAYER).output)
    rows, labels = [], []
    for inputs, batch_labels, *_ in batches:
        rows.append(scipy.sparse.csr_matrix(np.asarray(vectors.predict_on_batch(inputs))))
        labels.append(np.asarray(batch_labels))
    return scipy.sparse.vstack(rows).tocsr(), np.concatenate(labels)


def fit_regression(features, labels, penalty, num_classes):
    """scikit-learn's multinomial logistic regression of `labels` on `features`, with
    `predict_proba` giving a column for each of `num_classes` (a class the training labels lack
    gets probability 0)."""
    regression = LogisticRegression(C=penalty, max_iter=1000).fit(features, labels)
    return _AllClasses(regression, num_classes)


@dataclasses.dataclass(frozen=True)
class _AllClasses:
    """A fitted `LogisticRegression` seen as softmax weights over all `num_classes` classes."""

    regression: LogisticRegression
    num_classes: int

    def weights(self):
        """`(kernel, bias)`: features x classes and classes, with softmax(x @ kernel + bias) the
        regression's class probabilities (a binary regression's one logit becomes two, 0 and z,
        whose softmax is its sigmoid)."""
        coef, intercept = self.regression.coef_, self.regression.intercept_
        if len(self.regression.classes_) == 2:
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
        kernel = np.zeros((coef.shape[1], self.num_classes), "float32")
        bias = np.full(self.num_classes, _UNSEEN_CLASS_LOGIT, "float32")
        kernel[:, self.regression.classes_] = coef.T
        bias[self.regression.classes_] = intercept
        return kernel, bias

    def predict_proba(self, features):
        probabilities = np.zeros((features.shape[0], self.num_classes))
        probabilities[:, self.regression.classes_] = self.regression.predict_proba(features)
        return probabilities


_ROLES = ("network", "ngrams")  # the averaged models' names start with these
AVERAGE_LAYER = "blend"


def averaged_model(network, linear, name="autonas_blend"):
    """One model over `network`'s raw inputs whose class probabilities are the mean of
    `network`'s and `linear`'s (both over the same inputs)."""
    source = network.inputs[0]
    inputs = keras.Input(shape=source.shape[1:], dtype=source.dtype, name=source.name)
    # Renamed copies of the two graphs: a model's layers need distinct names, and both are
    # built as "autonas_classifier".
    members = [keras.Model(model.inputs[0], model.outputs[0], name=f"{role}_{model.name}")
               for role, model in zip(_ROLES, (network, linear))]
    return keras.Model(inputs, layers.Average(name=AVERAGE_LAYER)([member(inputs) for member in members]),
                       name=name)


def members(model):
    """`{"network": ..., "ngrams": ...}`, the two models `model` averages (`averaged_model`), or
    `{"network": model}` when it averages nothing."""
    if not any(layer.name == AVERAGE_LAYER for layer in model.layers):
        return {"network": model}
    return {layer.name.split("_")[0]: layer for layer in model.layers if isinstance(layer, keras.Model)}


def train_partner(partner, hypermodel, data, *, retrain=True, strategy=None):
    """`partner`'s network as the final model averages it: its linear layer fitted with
    `partner.penalty` on training + validation data (on the training data alone when nothing is
    retrained, as the winner then keeps its trial's weights)."""
    network = build_network(partner.genotype, hypermodel, strategy)
    return fit_linear_layer(network, data.full if retrain else data.train, partner.penalty)


def fit_linear_layer(network, batches, penalty):
    """`network` (the n-grams alone) with its softmax layer set to scikit-learn's logistic
    regression fitted with C=`penalty` on `batches`' n-gram vectors."""
    features, labels = ngram_features(network, batches)
    kernel, bias = fit_regression(features, labels, penalty, network.output_shape[-1]).weights()
    scale = float(network.get_layer(NGRAM_SCALE_LAYER).scale)  # the layer reads the scaled vector
    network.get_layer(PROBABILITIES_LAYER).set_weights([kernel / scale, bias])
    return network
