"""Bad input fails with a clear error before any training, leaving nothing on disk."""
import numpy as np
import pytest

from autonas import ImageSearchClassifier


def _images(n=40):
    return np.random.default_rng(0).integers(0, 255, size=(n, 8, 8)).astype(np.uint8)


def _labels(n=40):
    return np.arange(n) % 2


def _nan_images():
    x = _images().astype("float32")
    x[3, 2, 2] = np.nan
    return x


def _inf_images():
    x = _images().astype("float64")
    x[0, 0, 0] = np.inf
    return x


@pytest.mark.parametrize("x, y, message", [
    (_nan_images(), _labels(), "NaN or infinite pixel"),
    (_inf_images(), _labels(), "NaN or infinite pixel"),
    (_images(), _labels(39), "x has 40 samples but y has 39"),
    (_images().reshape(40, 64), _labels(), "shape \\(N, H, W\\) or \\(N, H, W, C\\)"),
    (_images()[..., None, None], _labels(), "shape \\(N, H, W\\) or \\(N, H, W, C\\)"),
    (_images(), np.zeros(40, int), "single class"),
    (np.zeros((0, 8, 8), np.uint8), np.zeros(0, int), "x is empty"),
    (np.full((40, 8, 8), "a"), _labels(), "numeric pixels"),
    (_images(), None, "y is missing"),
    (_images(), np.eye(2)[_labels()], "y must be 1-D"),
    (_images(), np.array([None] + [1] * 39, dtype=object), "None/NaN labels"),
    (_images(), np.array([np.nan] + [1.0] * 39), "NaN or infinite labels"),
    (_images(), np.array(["cat"] + ["dog", "eel"] * 19 + ["dog"]), r"1 class\(es\) have a single sample \(e.g. \['cat'\]\)"),
    (_images()[:, :1, :1], _labels(), "single-pixel images"),
])
def test_bad_data_is_rejected_before_training(tmp_path, x, y, message):
    runs = tmp_path / "runs"
    clf = ImageSearchClassifier(directory=str(runs), verbose=0)
    with pytest.raises(ValueError, match=message):
        clf.fit(x, y)
    assert not runs.exists()
    assert not hasattr(clf, "model_")


@pytest.mark.parametrize("params, message", [
    (dict(max_trials=0), "max_trials must be an integer >= 1"),
    (dict(epochs=2.5), "epochs must be an integer"),
    (dict(time_limit="soon"), "Cannot read time_limit"),
    (dict(time_limit=-3), "time_limit must be positive"),
    (dict(oracle="genetic"), "oracle must be one of"),
    (dict(seed=-1), "seed must be None or a non-negative integer"),
    (dict(operations=["conv_9x9"]), "Unknown operation"),
    (dict(learning_rate=0), "learning_rate must be None or a positive number"),
    (dict(optimizer="rmsprop"), "optimizer must be one of"),
    (dict(successive_halving=1), "successive halving's factor must be an int >= 2"),
    (dict(successive_halving="yes"), "successive_halving must be True, False"),
    (dict(successive_halving=True, oracle="darts"), "successive_halving works with oracle="),
    (dict(operations=[]), "operations is empty"),
    (dict(operations="conv_3x3"), r"for one operation write \['conv_3x3'\]"),
])
def test_bad_configuration_is_rejected_before_training(tmp_path, params, message):
    runs = tmp_path / "runs"
    with pytest.raises(ValueError, match=message):
        ImageSearchClassifier(directory=str(runs), verbose=0, **params).fit(_images(), _labels())
    assert not runs.exists()


def test_validation_split_must_leave_both_sets(tmp_path):
    with pytest.raises(ValueError, match="validation_split"):
        ImageSearchClassifier(verbose=0).fit(_images(), _labels(), validation_split=1.5)


def test_validation_labels_must_be_known_classes():
    with pytest.raises(ValueError, match="not seen in training"):
        ImageSearchClassifier(verbose=0).fit(_images(), _labels(), validation_data=(_images(4), np.array([0, 1, 2, 1])))


def test_predict_before_fit_is_an_error():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ImageSearchClassifier().predict(_images(2))


def test_a_directory_that_is_a_file_is_refused_before_training(tmp_path):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    with pytest.raises(ValueError, match="is a file; give the path of a folder"):
        ImageSearchClassifier(directory=str(taken), verbose=0).fit(_images(), _labels())
    assert taken.read_text() == "mine"


def test_a_boolean_sequence_length_is_refused():
    from autonas import TextSearchClassifier

    with pytest.raises(ValueError, match="sequence_length must be an integer >= 1, got True"):
        TextSearchClassifier(sequence_length=True, verbose=0).fit(["a b", "c d"] * 10, [0, 1] * 10)
