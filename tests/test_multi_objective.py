"""Accuracy against serving costs on both estimators: limits the returned model keeps, the
Pareto front, and any point of it selected and exported (autonas.engine.objectives)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from autonas import ImageSearchClassifier, TextSearchClassifier
from autonas.oracles.pareto import VIOLATION, non_dominated_ranks

SERVE_SCRIPT = Path(__file__).with_name("serve_saved_model.py")
# Six architectures (the seed fixes them) whose final-size networks have 53k-206k parameters:
# three over this limit, three within.
MAX_PARAMS = 120_000


def served_in_a_fresh_process(export_dir, inputs, tmp_path):
    np.save(tmp_path / "inputs.npy", inputs)
    subprocess.run([sys.executable, str(SERVE_SCRIPT), str(export_dir), str(tmp_path / "inputs.npy"),
                    str(tmp_path / "served.npy")], check=True)
    return np.load(tmp_path / "served.npy")


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return x.reshape(-1, 8, 8).astype(np.uint8)[:500], y[:500]


@pytest.mark.endtoend
def test_the_returned_model_never_exceeds_max_params_and_any_front_point_exports(tiny, digits, tmp_path):
    x, y = digits
    # The final size (16 filters) is not the search size (8): costs are the returned model's.
    clf = ImageSearchClassifier(**{**tiny, "max_trials": 6, "epochs": 3, "final_epochs": 3, "final_filters": 16},
                                objective=["val_accuracy", "params"], max_params=MAX_PARAMS).fit(x, y)
    board = clf.leaderboard()
    over = board[board[VIOLATION] > 0]
    within = board[board[VIOLATION] == 0]
    assert len(over) >= 1 and len(within) >= 2  # both paths ran
    assert (over["params"] > MAX_PARAMS).all() and (within["params"] <= MAX_PARAMS).all()
    assert over["score"].isna().all() and (over["epochs"] == 0).all()  # not trained
    assert within["score"].notna().all() and (within["epochs"] == 3).all()

    chosen = board.set_index("trial").loc[clf.selected_trial_]
    assert clf.model_.count_params() == chosen["params"] <= MAX_PARAMS
    assert chosen["score"] == within["score"].max()

    front = clf.pareto_front_
    assert set(front["trial"]) <= set(within["trial"]) and clf.selected_trial_ in set(front["trial"])
    points = np.column_stack([within["score"], -within["params"].astype(float)])
    expected = set(within["trial"][np.array(non_dominated_ranks(points)) == 0])
    assert set(front["trial"]) == expected

    # Another point of the front (or, if the front is one trial, another trial within the limit).
    other = next(t for t in [*front["trial"], *within["trial"]] if t != clf.selected_trial_)
    clf.select(other)
    assert clf.selected_trial_ == other
    assert clf.model_.count_params() == board.set_index("trial").loc[other, "params"] <= MAX_PARAMS
    clf.export(tmp_path / "model")
    assert json.loads((tmp_path / "model" / "autonas.json").read_text())["trial"] == other
    served = served_in_a_fresh_process(tmp_path / "model", x[:16], tmp_path)
    assert np.max(np.abs(served - clf.predict_proba(x[:16]))) <= 1e-5


@pytest.mark.endtoend
def test_a_text_front_point_exports_without_changing_the_estimator(tiny, tmp_path):
    rng = np.random.default_rng(0)
    words = {"sport": "goal team match score".split(), "food": "soup bread cheese oven".split()}
    labels = rng.choice(sorted(words), size=300)
    texts = np.array([" ".join(rng.choice(words[label], 4)) + " the day" for label in labels])
    clf = TextSearchClassifier(**{**tiny, "max_trials": 4, "epochs": 3, "final_epochs": 3, "embedding_dim": 8,
                                  "operations": ["conv_3", "max_pool_3", "identity"]},
                               objective=["val_accuracy", "latency_ms"], latency_batch_size=16).fit(texts, labels)
    board = clf.leaderboard()
    assert {"params", "flops", "latency_ms", "batch_latency_ms"} <= set(board.columns)
    assert (board["latency_ms"] > 0).all() and (board["flops"] > 0).all()
    assert VIOLATION not in board  # no limits
    assert not clf.pareto_front_.empty
    before = clf.predict_proba(texts[:8])
    selected = clf.selected_trial_
    other = next(t for t in board["trial"] if t != selected)
    clf.export(tmp_path / "other", trial=other)
    assert json.loads((tmp_path / "other" / "autonas.json").read_text())["trial"] == other
    assert clf.selected_trial_ == selected
    np.testing.assert_array_equal(clf.predict_proba(texts[:8]), before)
    clf.select(other)
    clf.export(tmp_path / "selected")
    served = served_in_a_fresh_process(tmp_path / "selected", texts[:8], tmp_path)
    assert np.max(np.abs(served - clf.predict_proba(texts[:8]))) <= 1e-5


def test_limits_no_architecture_meets_name_the_closest_and_the_fix(tiny, digits):
    x, y = digits
    with pytest.raises(RuntimeError, match=r"No architecture tried was within the limits: the closest, trial \d+, "
                                           r"has params [\d,]+ \(limit 1,000\). Raise the limit"):
        ImageSearchClassifier(**{**tiny, "max_trials": 2}, max_params=1000).fit(x, y)


def test_select_refuses_an_unknown_trial_and_missing_data(tiny, digits):
    x, y = digits
    clf = ImageSearchClassifier(**{**tiny, "epochs": 1, "final_epochs": 1}).fit(x[:200], y[:200])
    assert list(clf.pareto_front_["trial"]) == [clf.selected_trial_]  # accuracy alone: the winner
    with pytest.raises(ValueError, match="trial '99' is not a trained trial of this search; choose one of"):
        clf.select("99")
    assert clf.select(clf.selected_trial_) is clf
    clf._trials["other"] = clf._trials[clf.selected_trial_]  # a second trial, as a larger search has
    del clf._fit_inputs  # as after pickling
    with pytest.raises(ValueError, match=r"pass them, select\(trial, x, y\)"):
        clf.select("other")


@pytest.mark.endtoend
@pytest.mark.parametrize("oracle", ["random", "bayesian"])  # reinforce's reward: tests/test_objectives.py
def test_random_and_keras_tuner_oracles_search_with_costs_and_a_limit(tiny, digits, oracle):
    import keras_tuner

    x, y = digits
    if oracle == "bayesian":  # any keras-tuner Oracle: it gets keras-tuner's MultiObjective
        oracle = keras_tuner.oracles.BayesianOptimizationOracle(max_trials=3, seed=0, objective=[
            keras_tuner.Objective("val_accuracy", "max"), keras_tuner.Objective("params", "min")])
    # With a time limit the search measures and returns the search size (8 filters), not the final (16).
    clf = ImageSearchClassifier(**{**tiny, "max_trials": 3, "epochs": 1, "final_epochs": 1, "final_filters": 16},
                                oracle=oracle, objective=["val_accuracy", "params"], max_params=MAX_PARAMS,
                                time_limit="10m").fit(x, y)
    board = clf.leaderboard()
    assert len(board) == 3 and {"flops", "latency_ms", VIOLATION} <= set(board.columns)
    assert clf.retrained_size_ is None or clf.retrained_size_.filters == 8
    assert clf.model_.count_params() == board.set_index("trial").loc[clf.selected_trial_, "params"] <= MAX_PARAMS
    assert clf.selected_trial_ in set(clf.pareto_front_["trial"])
