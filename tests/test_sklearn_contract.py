import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from autonas import ImageSearchClassifier


def test_init_only_stores_and_get_params_comes_from_the_signature():
    clf = ImageSearchClassifier(max_trials=3, oracle="random", seed=0, time_limit="5m")
    params = clf.get_params()
    assert params["max_trials"] == 3 and params["seed"] == 0 and params["time_limit"] == "5m"
    assert set(params) >= {"max_trials", "epochs", "time_limit", "oracle", "seed", "directory", "overwrite",
                           "verbose", "retrain"}
    assert not [name for name in vars(clf) if name.endswith("_")]


def test_clone_and_set_params():
    clf = ImageSearchClassifier(max_trials=3, seed=1)
    copy = clone(clf)
    assert copy is not clf and copy.get_params() == clf.get_params()
    assert copy.set_params(max_trials=7).max_trials == 7 and clf.max_trials == 3


def test_clone_keeps_a_keras_tuner_oracle_instance():
    import keras_tuner

    oracle = keras_tuner.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=2, seed=3)
    copy = clone(ImageSearchClassifier(oracle=oracle))
    assert isinstance(copy.oracle, keras_tuner.oracles.RandomSearchOracle)


def _flat_to_images(x):
    return np.asarray(x).reshape(-1, 8, 8)


def test_pipeline_with_reshaping_transformer(digits, tiny):
    images, target = digits
    flat = images.reshape(len(images), -1).astype("float64")  # as sklearn users hold tabular digits
    searcher = ImageSearchClassifier(**{**tiny, "epochs": 6, "batch_size": 32, "retrain": False})
    pipe = make_pipeline(FunctionTransformer(_flat_to_images), searcher)
    pipe.fit(flat[:400], target[:400])
    assert pipe.predict(flat[400:450]).shape == (50,)
    assert pipe.score(flat[400:600], target[400:600]) > 0.3


@pytest.mark.endtoend
def test_cross_val_score_with_a_tiny_budget(digits, tiny):
    images, target = digits
    clf = ImageSearchClassifier(**{**tiny, "epochs": 6, "batch_size": 32, "retrain": False})
    scores = cross_val_score(clf, images[:600], target[:600], cv=2)
    assert scores.shape == (2,)
    assert np.all((scores > 0.2) & (scores <= 1.0))
