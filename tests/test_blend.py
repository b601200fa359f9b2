"""Averaging the winner with the search's n-grams network (`autonas.engine.blend`): when the
validation data say so, and the averaged model as predicted, exported and served."""
import dataclasses
import subprocess
import sys
import types
from pathlib import Path

import keras_tuner
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from autonas import TextSearchClassifier
from autonas.engine import blend
from autonas.engine.objectives import SearchObjective
from autonas.space import CellSearchSpace, Genotype, operations_for_rank
from autonas.space.genotype import NGRAM_BRANCHES, POOLINGS, Head
from autonas.space.starting_cells import plain_cell

SERVE_SCRIPT = Path(__file__).with_name("serve_saved_model.py")
CELL = plain_cell(2, "conv_3")
SPACE = CellSearchSpace(operations_for_rank(1), num_blocks=2, rank=1, reduction_cell=False, poolings=POOLINGS,
                        ngram_branches=NGRAM_BRANCHES)
LABELS = np.array([0, 1, 1, 0])
# The winner is right on the first two texts only, and unsure on the others, where the n-grams
# network is sure and right: averaged, all four are right.
WINNER = np.array([[0.9, 0.1], [0.2, 0.8], [0.55, 0.45], [0.45, 0.55]])
SURE_AND_RIGHT = np.array([[0.6, 0.4], [0.4, 0.6], [0.1, 0.9], [0.9, 0.1]])


class FixedModel:
    """Stands in for a trial's model: its predictions are given."""

    def __init__(self, probabilities):
        self.probabilities = probabilities
        self.seen = 0

    def predict_on_batch(self, inputs):
        self.seen += len(inputs)
        return self.probabilities[self.seen - len(inputs):self.seen]


def trial(trial_id, genotype, epochs=3):
    hp = SPACE.hyperparameters()
    hp.values = SPACE.values(genotype)
    made = keras_tuner.engine.trial.Trial(hp, trial_id=trial_id, status="COMPLETED")
    made.metrics.register("epochs")
    made.metrics.update("epochs", epochs)
    return made


def outcome(tmp_path, predictions, *, winner=Genotype(normal=CELL, head=Head("max")), without_cells=True):
    """A finished search of two trials, "0" (the winner) and "1", whose models predict
    `predictions[trial_id]` on the validation data."""
    trials = {"0": trial("0", winner), "1": trial("1", Genotype(normal=CELL, head=Head(ngrams="alone"))
                                                  if without_cells else Genotype(normal=CELL), epochs=4)}
    for trial_id in trials:
        (tmp_path / trial_id).write_text("weights")
    tuner = types.SimpleNamespace(
        oracle=types.SimpleNamespace(trials=trials), hypermodel=types.SimpleNamespace(space=SPACE),
        weights_path=lambda trial_id: str(tmp_path / trial_id),
        load_model=lambda t: FixedModel(predictions[t.trial_id]))
    leaderboard = pd.DataFrame({"trial": ["0", "1"], "score": [0.8, 0.7]})
    return types.SimpleNamespace(tuner=tuner, best_trial=trials["0"], genotype=winner, leaderboard=leaderboard)


def validation_data():
    texts = tf.constant(["a", "b", "c", "d"])
    return types.SimpleNamespace(validation=tf.data.Dataset.from_tensor_slices((texts, LABELS)).batch(3))


ACCURACY = SearchObjective.from_parameters()


def test_the_ngrams_network_joins_when_the_average_is_more_accurate(tmp_path):
    partner = blend.find_partner(outcome(tmp_path, {"0": WINNER, "1": SURE_AND_RIGHT}), validation_data(),
                                 objective=ACCURACY, verbose=0)
    assert (partner.trial_id, partner.epochs, partner.alone, partner.averaged) == ("1", 4, 0.5, 1.0)
    assert partner.genotype.ending == Head(ngrams="alone")


@pytest.mark.parametrize("case", ["average no better", "winner without cells", "no trial without cells",
                                  "costs ranked the trials", "weights gone"])
def test_no_partner(tmp_path, case):
    linear = WINNER if case == "average no better" else SURE_AND_RIGHT  # the same mistakes: a tie
    winner = Genotype(normal=CELL, head=Head(ngrams="alone")) if case == "winner without cells" else \
        Genotype(normal=CELL, head=Head("max"))
    searched = outcome(tmp_path, {"0": WINNER, "1": linear}, winner=winner,
                       without_cells=case != "no trial without cells")
    if case == "weights gone":
        (tmp_path / "1").unlink()
    objective = SearchObjective.from_parameters(max_params=1e6) if case == "costs ranked the trials" else ACCURACY
    assert blend.find_partner(searched, validation_data(), objective=objective, verbose=0) is None


def texts_and_labels(size=400):
    rng = np.random.default_rng(0)
    words = {"sport": "match goal team score".split(), "food": "bread cheese soup oven".split()}
    labels = rng.choice(sorted(words), size=size)
    return [" ".join(rng.choice(words[label], 3)) + " the new one" for label in labels], labels


def test_a_fit_serves_the_average_of_both_networks_in_a_fresh_process(tiny, tmp_path, monkeypatch):
    """The whole path once the average wins: the n-grams network retrained beside the winner,
    one model averaging both, its export serving raw strings, a pickle. The decision itself is
    the validation data's (above); here it is forced, whatever the two networks score."""
    def always(outcome, data, *, objective, strategy=None, verbose=1):
        partner, genotype = blend._best_without_cells(outcome)
        return blend.BlendPartner(partner.trial_id, genotype, 3, 0.5, 0.6)

    monkeypatch.setattr("autonas.tasks.text.find_partner", always)
    # The class is the case of the words, which only the cells read ("cased" tokens; the n-grams
    # are lower-cased): the cell network wins.
    texts, labels = texts_and_labels(640)
    rng = np.random.default_rng(1)
    texts = [text.title() if upper else text for text, upper in zip(texts, rng.random(len(texts)) < 0.5)]
    labels = np.array([text[0].isupper() for text in texts])
    # Warm starts are checked against the space with both cells.
    winner, alone = (Genotype(normal=CELL, reduce=CELL, head=head) for head in (Head("max"), Head(ngrams="alone")))
    clf = TextSearchClassifier(**{**tiny, "max_trials": 2, "operations": ["conv_3", "identity"], "epochs": 6,
                                  "final_epochs": 6, "embedding_dim": 8, "directory": str(tmp_path / "search"),
                                  "tokens": "cased"},
                               warm_start=[winner, alone]).fit(texts, labels)
    assert (clf.best_genotype_.normal, clf.best_genotype_.ending) == (CELL, Head("max"))
    assert clf.blended_trial_ == "1"
    members = [layer for layer in clf.model_.layers if isinstance(layer, type(clf.model_))]
    probe = np.array(["", "Goal For The Team", "Ünïcödé 文字 ✓ soup", " ".join(["bread"] * 3000), "BREAD OVEN!"])
    each = [member.predict(tf.constant(probe), verbose=0) for member in members]
    assert len(each) == 2 and not np.allclose(each[0], each[1])
    np.testing.assert_allclose(clf.predict_proba(probe), np.mean(each, axis=0), atol=1e-6)
    clf.export(tmp_path / "model")
    np.save(tmp_path / "inputs.npy", probe)
    subprocess.run([sys.executable, str(SERVE_SCRIPT), str(tmp_path / "model"), str(tmp_path / "inputs.npy"),
                    str(tmp_path / "served.npy")], check=True)
    assert np.max(np.abs(np.load(tmp_path / "served.npy") - clf.predict_proba(probe))) <= 1e-5
    metadata = (tmp_path / "model" / "autonas.json").read_text()
    assert '"blended_with": {' in metadata and '"ngrams": "alone"' in metadata
    assert clf.score(texts, labels) > 0.9
    clf.select("1")  # another trial's architecture: alone
    assert clf.blended_trial_ is None


def test_blending_can_be_switched_off_and_takes_only_a_bool(tiny, tmp_path):
    with pytest.raises(ValueError, match="blend_ngrams must be True or False"):
        TextSearchClassifier(blend_ngrams="yes", directory=str(tmp_path / "s")).fit(["a b", "c d"], [0, 1])
    assert not (tmp_path / "s").exists()
    texts, labels = texts_and_labels(200)
    clf = TextSearchClassifier(**{**tiny, "max_trials": 2, "operations": ["conv_3", "identity"], "epochs": 2,
                                  "final_epochs": 2, "embedding_dim": 8, "directory": str(tmp_path / "search"),
                                  "blend_ngrams": False},
                               warm_start=[Genotype(normal=CELL, reduce=CELL, head=Head("max")),
                                           Genotype(normal=CELL, reduce=CELL, head=Head(ngrams="alone"))]).fit(texts, labels)
    assert clf.blended_trial_ is None
    assert not any(layer.name == "blend" for layer in clf.model_.layers)
