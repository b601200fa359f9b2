import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autonas import TextSearchClassifier

SERVE_SCRIPT = Path(__file__).with_name("serve_saved_model.py")
TOPICS = {
    "sport": "match goal team score player coach league win".split(),
    "food": "bread cheese soup recipe oven taste dinner salt".split(),
    "tech": "laptop code software chip network server phone app".split(),
}
FILLER = "the a of and today really quite some very new".split()


def _corpus(n, seed):
    """Short sentences whose topic words reveal the class, mixed with shared filler words."""
    rng = np.random.default_rng(seed)
    names = sorted(TOPICS)
    labels = rng.choice(names, size=n)
    texts = [" ".join(rng.permutation(list(rng.choice(TOPICS[label], 3)) + list(rng.choice(FILLER, 4))))
             for label in labels]
    return texts, labels


@pytest.fixture(scope="module")
def text_tiny(tiny):
    return {**tiny, "operations": ["conv_3", "max_pool_3", "identity"], "epochs": 8, "final_epochs": 8, "batch_size": 32,
            "embedding_dim": 16}


@pytest.fixture(scope="module")
def fitted_text(text_tiny):
    texts, labels = _corpus(800, seed=0)
    clf = TextSearchClassifier(**text_tiny).fit(texts, labels)
    return clf


def test_fit_predict_on_lists_of_strings(fitted_text):
    clf = fitted_text
    texts, labels = _corpus(100, seed=1)
    assert list(clf.classes_) == ["food", "sport", "tech"]
    assert clf.predict(texts).shape == (100,)
    assert clf.score(texts, labels) > 0.8  # topic words make this easy: a working model must get it


def test_short_texts_search_no_reduction_cell(fitted_text):
    # 7-word sentences give 8 positions, which no reduction would leave long enough.
    assert fitted_text.best_genotype_.reduce is None
    assert not [layer for layer in fitted_text.model_.layers if layer.name.startswith("reduce")]
    assert fitted_text.leaderboard()["architecture"].str.contains("reduce").sum() == 0


def test_long_texts_get_a_reduction_cell(text_tiny):
    texts, labels = _corpus(120, seed=3)
    long_texts = [" ".join([text] * 12) for text in texts]  # about 84 tokens: one reduction
    clf = TextSearchClassifier(**{**text_tiny, "epochs": 1, "retrain": False}).fit(long_texts, labels)
    assert clf.input_spec_.sequence_length >= 64
    assert clf.best_genotype_.reduce is not None
    assert [layer for layer in clf.model_.layers if layer.name.startswith("reduce1_")]


@pytest.mark.parametrize("oracle", ["random", "evolution", "reinforce"])
def test_every_search_strategy_searches_the_text_space(text_tiny, oracle):
    texts, labels = _corpus(200, seed=4)
    clf = TextSearchClassifier(**{**text_tiny, "max_trials": 2, "epochs": 2, "retrain": False, "oracle": oracle})
    clf.fit(texts, labels)
    board = clf.leaderboard()
    assert len(board) == 2 and (board["status"] == "COMPLETED").all()
    assert board["architecture"].nunique() == 2  # two different cells were proposed and trained
    assert set(clf.best_genotype_.operations) <= set(text_tiny["operations"])


@pytest.mark.parametrize("form", ["list", "unicode_array", "object_array", "series", "column"])
def test_every_input_form_gives_the_same_probabilities(fitted_text, form):
    texts, _ = _corpus(20, seed=2)
    converted = {
        "list": texts,
        "unicode_array": np.array(texts),
        "object_array": np.array(texts, dtype=object),
        "series": pd.Series(texts),
        "column": np.array(texts)[:, None],
    }[form]
    np.testing.assert_allclose(fitted_text.predict_proba(converted), fitted_text.predict_proba(texts), atol=1e-6)


def test_saved_model_serves_raw_strings_in_a_fresh_process(fitted_text, tmp_path):
    export_dir = tmp_path / "model"
    fitted_text.export(export_dir)
    metadata = json.loads((export_dir / "autonas.json").read_text())
    assert metadata["classes"] == ["food", "sport", "tech"]
    texts = np.array(["", "goal for the team", "Ünïcödé 文字 ✓ soup", " ".join(["bread"] * 5000), "SERVER CODE!"])
    np.save(tmp_path / "inputs.npy", texts)
    subprocess.run([sys.executable, str(SERVE_SCRIPT), str(export_dir), str(tmp_path / "inputs.npy"),
                    str(tmp_path / "served.npy")], check=True)
    served = np.load(tmp_path / "served.npy")
    assert served.shape == (5, 3)
    assert np.max(np.abs(served - fitted_text.predict_proba(texts))) <= 1e-5


@pytest.mark.parametrize("x, y, message", [
    (["good", 3, "bad"], ["a", "b", "a"], "x\\[1\\] is int, not a string"),
    (["good", None, "bad"], ["a", "b", "a"], "None/NaN"),
    (["good", float("nan"), "bad"], ["a", "b", "a"], "None/NaN"),
    (["good", b"bytes", "bad"], ["a", "b", "a"], "not a string"),
    (["good", "bad"], ["a", "b", "a"], "x has 2 samples but y has 3"),
    (["good", "bad", "ugly"], ["a", "a", "a"], "single class"),
    ([], [], "x is empty"),
    ("one long string", ["a"], "single string"),
])
def test_bad_text_input_is_rejected_before_training(tmp_path, x, y, message):
    runs = tmp_path / "runs"
    with pytest.raises(ValueError, match=message):
        TextSearchClassifier(directory=str(runs), verbose=0).fit(x, y)
    assert not runs.exists()


def test_text_parameters_are_estimator_parameters():
    from sklearn.base import clone

    clf = TextSearchClassifier(max_vocabulary=500, sequence_length=20, max_trials=3)
    params = clone(clf).get_params()
    assert params["max_vocabulary"] == 500 and params["sequence_length"] == 20 and params["max_trials"] == 3
    with pytest.raises(ValueError, match="max_vocabulary must be a positive integer"):
        TextSearchClassifier(max_vocabulary=0).fit(["a b", "c d"], [0, 1])
