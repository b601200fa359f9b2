import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import autonas
from autonas import ImageSearchClassifier, Genotype

SERVE_SCRIPT = Path(__file__).with_name("serve_saved_model.py")


@pytest.fixture(scope="module")
def fitted(digits, tiny):
    """One small search on uint8 digits with string labels, shared by the read-only tests."""
    images, target = digits
    labels = np.array([f"digit-{t}" for t in target])
    clf = ImageSearchClassifier(**{**tiny, "max_trials": 2, "retrain": True})
    clf.fit(images[:600], labels[:600])
    return clf, images[600:800], labels[600:800]


def test_fit_sets_learned_attributes(fitted):
    clf, _, _ = fitted
    assert list(clf.classes_) == [f"digit-{d}" for d in range(10)]
    assert isinstance(clf.best_genotype_, Genotype)
    assert isinstance(clf.model_, keras.Model)
    assert 0.0 <= clf.best_score_ <= 1.0


def test_predictions_are_classes_and_probabilities(fitted):
    clf, x_test, y_test = fitted
    probabilities = clf.predict_proba(x_test)
    assert probabilities.shape == (len(x_test), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    predictions = clf.predict(x_test)
    assert set(predictions) <= set(clf.classes_)
    np.testing.assert_array_equal(predictions, clf.classes_[probabilities.argmax(axis=1)])
    # A 5-epoch search on 600 images is far from converged, but must beat chance (0.1) clearly.
    assert clf.score(x_test, y_test) > 0.5


def test_leaderboard_lists_every_trial_best_first(fitted):
    clf, _, _ = fitted
    board = clf.leaderboard()
    assert isinstance(board, pd.DataFrame)
    assert list(board.columns) == ["trial", "architecture", "score", "params", "epochs", "seconds", "status",
                                   "from_trial"]
    assert len(board) == 2
    assert board["score"].is_monotonic_decreasing
    assert (board["status"] == "COMPLETED").all()
    assert (board["params"] > 0).all() and (board["seconds"] > 0).all() and (board["epochs"] == 5).all()
    assert board.loc[0, "architecture"] == str(clf.best_genotype_)


def test_saved_model_serves_raw_pixels_in_a_fresh_process(fitted, tmp_path):
    clf, x_test, _ = fitted
    export_dir = tmp_path / "model"
    clf.export(export_dir)
    metadata = json.loads((export_dir / "autonas.json").read_text())
    assert metadata["classes"] == list(clf.classes_)
    assert Genotype.from_dict(metadata["genotype"]) == clf.best_genotype_
    assert metadata["inputs"] == {"shape": [8, 8], "dtype": "uint8"}
    for batch in (x_test[:1], x_test[:37]):  # any batch size
        np.save(tmp_path / "inputs.npy", batch)
        subprocess.run([sys.executable, str(SERVE_SCRIPT), str(export_dir), str(tmp_path / "inputs.npy"),
                        str(tmp_path / "served.npy")], check=True)
        served = np.load(tmp_path / "served.npy")
        assert np.max(np.abs(served - clf.predict_proba(batch))) <= 1e-5


def test_export_refuses_to_overwrite_and_leaves_no_partial_files(fitted, tmp_path):
    clf, _, _ = fitted
    target = tmp_path / "model"
    target.mkdir()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        clf.export(target)
    assert list(tmp_path.iterdir()) == [target]
    clf.export(target, overwrite=True)
    assert (target / "autonas.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_keras_file_reloads_without_custom_objects(fitted, tmp_path):
    clf, x_test, _ = fitted
    path = tmp_path / "model.keras"
    clf.model_.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(reloaded.predict(x_test, verbose=0), clf.predict_proba(x_test), atol=1e-6)


def test_predict_rejects_mismatched_inputs(fitted):
    clf, x_test, _ = fitted
    with pytest.raises(ValueError, match="trained on \\(8, 8\\)"):
        clf.predict(np.zeros((2, 9, 9), np.uint8))
    with pytest.raises(ValueError, match="trained on uint8"):
        clf.predict(x_test.astype("float32"))


@pytest.mark.endtoend
def test_tf_data_input_with_int_labels(digits, tiny):
    images, target = digits
    dataset = tf.data.Dataset.from_tensor_slices((images[:500], target[:500])).batch(50)
    clf = ImageSearchClassifier(**tiny).fit(dataset, validation_split=0.2)
    assert list(clf.classes_) == list(range(10))
    predictions = clf.predict(tf.data.Dataset.from_tensor_slices(images[500:600]))
    assert predictions.shape == (100,)
    assert np.mean(predictions == target[500:600]) > 0.3


def test_time_limit_stops_starting_trials(digits, tiny):
    images, target = digits
    # 3 s: the set-up before the first trial (about 1 s under load) fits, and the first trial
    # (building and tracing take 3-5 s) spends the rest; a limit of 1 s was spent by the set-up
    # alone when another test process shared the cores.
    clf = ImageSearchClassifier(**{**tiny, "max_trials": 20, "epochs": 1, "time_limit": 3, "retrain": False})
    clf.fit(images[:300], target[:300])
    assert len(clf.leaderboard()) == 1  # the first trial runs; then the budget is spent


def test_time_limit_shortens_a_trial_that_would_overrun_it(digits, tiny):
    images, target = digits
    clf = ImageSearchClassifier(**{**tiny, "epochs": 5000, "time_limit": 8, "retrain": False})
    clf.fit(images[:300], target[:300])
    trial = clf.leaderboard().iloc[0]
    assert 2 <= trial["epochs"] < 5000  # the schedule was cut to the deadline
    # 5000 epochs take over 8 minutes; the first two epochs (with tracing) may pass the deadline,
    # by much on a loaded machine, but nowhere near that.
    assert clf.search_seconds_ < 60
    # The shortened trial is still validated after its last epoch and counts.
    assert trial["status"] == "COMPLETED" and 0.0 <= trial["score"] <= 1.0


@pytest.mark.endtoend
def test_a_fit_with_sized_epochs_uses_its_time_limit_and_no_more(digits, tiny):
    images, target = digits
    # 45 s: room for two trials (about 7 s each, 11 s on a loaded CI machine) in the search's share.
    clf = ImageSearchClassifier(**{**tiny, "max_trials": None, "epochs": None, "final_epochs": None,
                                   "time_limit": 45})
    clf.fit(images[:600], target[:600])
    # Unused budget is lost accuracy; a late fit breaks the user's contract.
    assert 0.9 * 45 <= clf.search_seconds_ <= 1.05 * 45, clf.leaderboard()
    epochs = clf.leaderboard().sort_values("trial")["epochs"].tolist()
    assert len(epochs) >= 2 and set(epochs[1:-1]) <= {epochs[0]}, epochs  # every trial trains the probe's epochs


def test_validation_data_scores_the_trials(digits, tiny):
    images, target = digits
    bools = target % 2 == 0
    clf = ImageSearchClassifier(**{**tiny, "epochs": 1, "retrain": False})
    clf.fit(images[:300], bools[:300], validation_data=(images[300:400], bools[300:400]))
    assert list(clf.classes_) == [False, True]
    assert clf.predict(images[:5]).dtype == bool


def test_same_seed_proposes_the_same_architectures(fitted, digits, tiny):
    clf, _, _ = fitted
    images, target = digits
    again = ImageSearchClassifier(**{**tiny, "max_trials": 2, "epochs": 1, "retrain": False})
    again.fit(images[:600], np.array([f"digit-{t}" for t in target[:600]]))

    def in_trial_order(board):
        return board.sort_values("trial")["architecture"].tolist()

    assert in_trial_order(again.leaderboard()) == in_trial_order(clf.leaderboard())


def test_any_keras_tuner_oracle_can_drive_the_search(digits, tiny):
    import keras_tuner

    images, target = digits
    oracle = keras_tuner.oracles.BayesianOptimizationOracle(
        objective=keras_tuner.Objective("val_accuracy", "max"), max_trials=2, seed=5)
    clf = ImageSearchClassifier(**{**tiny, "epochs": 1, "retrain": False, "oracle": oracle})
    clf.fit(images[:300], target[:300])
    assert len(clf.leaderboard()) == 2
    assert clf.leaderboard()["architecture"].nunique() == 2


def test_warm_start_is_the_first_trial_with_reinforce(digits, tiny):
    from autonas import Block, Cell

    images, target = digits
    cell = Cell.from_blocks([Block(0, "conv_3x3", 1, "identity"), Block(2, "max_pool_3x3", 0, "conv_3x3")])
    start = Genotype(normal=cell, reduce=cell)
    clf = ImageSearchClassifier(**{**tiny, "epochs": 1, "retrain": False, "oracle": "reinforce",
                                   "warm_start": [start]})
    clf.fit(images[:300], target[:300])
    assert clf.leaderboard().loc[0, "architecture"] == str(start)


def test_warm_start_must_fit_the_space():
    with pytest.raises(ValueError, match="set num_blocks to match"):
        ImageSearchClassifier(warm_start=["enas"], num_blocks=4).fit(np.zeros((20, 8, 8)), np.arange(20) % 2)


def test_public_api_is_explicit():
    assert "ImageSearchClassifier" in autonas.__all__
    assert all(hasattr(autonas, name) for name in autonas.__all__)
