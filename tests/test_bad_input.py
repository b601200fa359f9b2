"""Bad input fails with a clear error before any training, leaving nothing on disk.

One table (`BAD_INPUTS`): each row is a call a user could make, the exact error type, and a
message naming the problem (and, in the message, the fix). Rows that need a fitted model share
one tiny model, fitted once for the module.
"""
import keras_tuner
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from sklearn.exceptions import NotFittedError

from autonas import ImageSearchClassifier, TextSearchClassifier
from autonas.space import Block, Cell

TINY = dict(max_trials=1, epochs=1, final_epochs=1, num_blocks=2, search_filters=8, final_filters=8,
            search_normal_cells=1, final_normal_cells=1, operations=["conv_3x3", "max_pool_3x3", "identity"],
            batch_size=32, verbose=0, seed=0)
TEXT_TINY = {**TINY, "operations": ["conv_3", "max_pool_3", "identity"]}


def _images(n=40):
    return np.random.default_rng(0).integers(0, 255, size=(n, 8, 8)).astype(np.uint8)


def _labels(n=40):
    return np.arange(n) % 2


def _texts(n=40):
    return [f"good film {i}" if i % 2 else f"bad movie {i}" for i in range(n)]


def _with(x, index, value, dtype):
    x = x.astype(dtype)
    x[index] = value
    return x


def _dataset(images, labels):
    return tf.data.Dataset.from_tensor_slices((images, labels))


def _varying_sizes():
    def images():
        for i in range(40):
            yield np.zeros((8 + i % 2, 8 + i % 2), np.float32), i % 2

    return tf.data.Dataset.from_generator(images, output_signature=(tf.TensorSpec((None, None), tf.float32),
                                                                     tf.TensorSpec((), tf.int64)))


def _other_oracle():
    hyperparameters = keras_tuner.HyperParameters()
    hyperparameters.Int("units", 8, 64)
    return keras_tuner.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=1,
                                                  hyperparameters=hyperparameters)


# Each helper returns call(directory, fitted): `directory` is where a fit may write (it must not
# exist afterwards), `fitted()` gives the module's fitted image model.
def fit_images(x, y=None, **fit_arguments):
    return lambda directory, fitted: ImageSearchClassifier(**TINY, directory=directory).fit(x, y, **fit_arguments)


def fit_texts(x, y, **fit_arguments):
    return lambda directory, fitted: TextSearchClassifier(**TEXT_TINY, directory=directory).fit(x, y, **fit_arguments)


def configure(**parameters):
    return lambda directory, fitted: ImageSearchClassifier(**{**TINY, "directory": directory, **parameters}).fit(
        _images(), _labels())


def configure_text(**parameters):
    return lambda directory, fitted: TextSearchClassifier(**{**TEXT_TINY, "directory": directory,
                                                             **parameters}).fit(_texts(), _labels())


def on_fitted(method, *arguments):
    return lambda directory, fitted: getattr(fitted(), method)(*arguments)


def row(call, error, message, id):
    return pytest.param(call, error, message, id=id)


BAD_INPUTS = [
    # ---- images
    row(fit_images(_with(_images(), (3, 2, 2), np.nan, "float32"), _labels()), ValueError,
        "x contains 1 NaN or infinite pixel values; clean or drop", "images-nan"),
    row(fit_images(_with(_images(), (0, 0, 0), np.inf, "float64"), _labels()), ValueError,
        "NaN or infinite pixel", "images-inf"),
    row(fit_images(_images().reshape(40, 64), _labels()), ValueError,
        r"shape \(N, H, W\) or \(N, H, W, C\), got \(40, 64\). Reshape flat vectors", "images-flat-rank-2"),
    row(fit_images(_images()[..., None, None], _labels()), ValueError,
        r"shape \(N, H, W\) or \(N, H, W, C\), got \(40, 8, 8, 1, 1\)", "images-5d"),
    row(fit_images(np.zeros((40, 0, 8), np.uint8), _labels()), ValueError,
        r"empty images of shape \(0, 8\): every image needs at least one row", "images-zero-rows"),
    row(fit_images(_images()[:, :1, :1], _labels()), ValueError, "single-pixel images", "images-one-pixel"),
    # Found by tests/test_properties.py: no channels failed with numpy's "cannot reshape array of
    # size 0", pixels of 1e20 inside Keras ("Can't convert Python sequence with a value out of range").
    row(fit_images(np.zeros((40, 8, 8, 0), np.uint8), _labels()), ValueError,
        r"images of shape \(8, 8, 0\), without channels: pass \(N, H, W\) for one channel", "images-no-channels"),
    row(fit_images(_dataset(np.zeros((40, 8, 8, 0), np.float32), _labels())), ValueError,
        r"Dataset images has images of shape \(8, 8, 0\), without channels", "dataset-no-channels"),
    row(fit_images(_images().astype("float64") * 1e20, _labels()), ValueError,
        r"pixel values up to 2.5\de\+22 in magnitude, beyond the 1e\+18 the model's float32 normalisation can "
        "hold: rescale the pixels", "images-huge-values"),
    row(fit_images([np.zeros((8, 8))] * 39 + [np.zeros((9, 9))], _labels()), ValueError,
        r"images of different shapes \(8, 8\), \(9, 9\): resize them to one size", "images-mixed-sizes-list"),
    row(fit_images([np.zeros((8, 8, 3))] * 39 + [np.zeros((8, 8, 1))], _labels()), ValueError,
        r"different shapes \(8, 8, 3\), \(8, 8, 1\): resize them to one size \(and one channel count\)",
        "images-mixed-channels-list"),
    row(fit_images(_images().astype(object), _labels()), ValueError,
        r"array of Python objects \(dtype object\).*np.stack\(images\)", "images-object-array"),
    # Bool pixels are refused, not read as 0/1: a mask where 0-255 pixels were meant would train
    # quietly on the wrong scale; the message gives both conversions.
    row(fit_images(_images() > 128, _labels()), ValueError,
        r"bool pixels; convert them.*astype\('uint8'\)", "images-bool-pixels"),
    row(fit_images(np.full((40, 8, 8), "a"), _labels()), ValueError, "numeric pixels", "images-strings"),
    row(fit_images(np.zeros((0, 8, 8), np.uint8), np.zeros(0, int)), ValueError, "x is empty", "images-empty"),
    row(fit_images(_images(), _labels(39)), ValueError, "x has 40 samples but y has 39", "images-length-mismatch"),
    # ---- image datasets
    row(fit_images(tf.data.Dataset.from_tensor_slices(_images())), ValueError,
        r"must yield \(image, label\) pairs", "dataset-without-labels"),
    row(fit_images(_varying_sizes()), ValueError,
        r"fixed shape \(H, W\) or \(H, W, C\), got \(None, None\). Resize them", "dataset-unbatched-varying-shapes"),
    row(fit_images(_dataset(_images(), _labels()).repeat()), ValueError,
        r"The dataset is infinite.*\.take\(n\)", "dataset-infinite"),
    row(fit_images(_dataset(_images(), _labels()), _labels()), ValueError, "so y must be None", "dataset-and-y"),
    row(fit_images(_dataset(_images(), _labels()), validation_data=(_images(), _labels())), ValueError,
        "validation_data must be a dataset as well", "dataset-with-array-validation"),
    # ---- texts
    row(fit_texts([None] + _texts()[1:], _labels()), ValueError, r"x\[0\] is None/NaN; drop those samples",
        "texts-none"),
    row(fit_texts(pd.Series([np.nan] + _texts()[1:]), _labels()), ValueError, r"x\[0\] is None/NaN", "texts-nan"),
    # Bytes are refused, not decoded: the encoding is the user's to know (Latin-1 corpora are
    # common, and a wrong guess would change words silently).
    row(fit_texts([t.encode() for t in _texts()], _labels()), ValueError,
        r"x\[0\] is bytes, not a string: decode bytes first", "texts-bytes"),
    row(fit_texts([t.split() for t in _texts()], _labels()), ValueError,
        r"1-D sequence of texts, got shape \(40, 3\): pass one string per sample.*join", "texts-nested-lists"),
    row(fit_texts([["good", "film"], ["bad"]] * 20, _labels()), ValueError,
        r"x\[0\] is list, not a string: pass one string per sample.*join", "texts-ragged-nested-lists"),
    row(fit_texts(list(range(40)), _labels()), ValueError, r"x\[0\] is int, not a string.*str\(\)", "texts-numbers"),
    row(fit_texts(pd.DataFrame({"title": _texts(), "body": _texts()}), _labels()), ValueError,
        r"1-D sequence of texts, got shape \(40, 2\): pass one string per sample, one column",
        "texts-dataframe-two-columns"),
    row(fit_texts([""] * 40, _labels()), ValueError, "The training texts contain no words", "texts-empty-strings"),
    row(fit_texts("good film", _labels()), ValueError, "got a single string; wrap it in a list", "texts-one-string"),
    # ---- labels
    row(fit_images(_images(), None), ValueError, "y is missing", "labels-missing"),
    row(fit_images(_images(), np.array([np.nan] + [1.0] * 39)), ValueError, "NaN or infinite labels", "labels-nan"),
    row(fit_images(_images(), np.array([None] + [1] * 39, dtype=object)), ValueError, "None/NaN labels",
        "labels-none"),
    # numpy would read [1, "a"] as the strings "1" and "a": the list is checked item by item.
    row(fit_images(_images(), [1, "a"] * 20), ValueError, r"y mixes label types \(\['int', 'str'\]\)",
        "labels-mixed-types-list"),
    row(fit_images(_images(), np.array([0.5, 1.0] * 20)), ValueError, "non-integer floats", "labels-non-integer"),
    row(fit_images(_images(), np.eye(2)[_labels()]), ValueError, r"y must be 1-D.*y.argmax\(axis=1\)",
        "labels-one-hot"),
    row(fit_images(_images(), np.zeros(40, int)), ValueError, "single class", "labels-one-class"),
    row(fit_images(_images(), np.array(["cat"] + ["dog", "eel"] * 19 + ["dog"])), ValueError,
        r"1 class\(es\) have a single sample \(e.g. \['cat'\]\)", "labels-class-with-one-sample"),
    row(fit_images(_images(), _labels(), validation_data=(_images(4), np.array([0, 1, 2, 1]))), ValueError,
        r"validation y has labels not seen in training: \[2\]; the classes are \[0, 1\]",
        "labels-class-only-in-validation"),
    row(fit_images(_images(), _labels(), validation_split=1.5), ValueError,
        r"validation_split must be a number in \(0, 1\)", "validation-split-range"),
    row(fit_images(_images(), _labels(), validation_split="0.2"), ValueError,
        r"validation_split must be a number in \(0, 1\).*got '0.2'", "validation-split-string"),
    # ---- configuration
    row(configure(max_trials=0), ValueError, "max_trials must be an integer >= 1", "max-trials-zero"),
    row(configure(max_trials="3"), ValueError, "max_trials must be an integer >= 1, got '3'", "max-trials-string"),
    row(configure(epochs=2.5), ValueError, "epochs must be an integer", "epochs-float"),
    row(configure(final_epochs=0), ValueError, "final_epochs must be an integer >= 1", "final-epochs-zero"),
    row(configure(batch_size=0), ValueError, "batch_size must be an integer >= 1", "batch-size-zero"),
    row(configure(num_blocks=True), ValueError, "num_blocks must be an integer >= 1, got True", "num-blocks-bool"),
    row(configure(search_filters=1), ValueError, "search_filters must be an integer >= 2", "search-filters-one"),
    row(configure(final_normal_cells=0), ValueError, "final_normal_cells must be an integer >= 1",
        "final-normal-cells-zero"),
    row(configure(time_limit="soon"), ValueError, "Cannot read time_limit", "time-limit-unreadable"),
    row(configure(time_limit=-3), ValueError, "time_limit must be positive", "time-limit-negative"),
    row(configure(oracle="genetic"), ValueError, "oracle must be one of", "oracle-unknown"),
    row(configure(oracle=_other_oracle()), ValueError,
        r"oracle's search space does not match the cells': it has hyperparameter 'units'",
        "oracle-instance-other-space"),
    row(configure(seed=-1), ValueError, "seed must be None or a non-negative integer", "seed-negative"),
    row(configure(seed="0"), ValueError, "seed must be None or a non-negative integer, got '0'", "seed-string"),
    row(configure(operations=["conv_9x9"]), ValueError, "Unknown operation", "operations-unknown"),
    row(configure(operations=[]), ValueError, "operations is empty", "operations-empty"),
    row(configure(operations="conv_3x3"), ValueError, r"for one operation write \['conv_3x3'\]",
        "operations-bare-string"),
    row(configure(learning_rate=0), ValueError, "learning_rate must be None or a positive number",
        "learning-rate-zero"),
    row(configure(learning_rate=float("inf")), ValueError, "learning_rate must be None or a positive number, got inf",
        "learning-rate-inf"),
    row(configure(dropout=1.0), ValueError, r"dropout must be in \[0, 1\)", "dropout-one"),
    row(configure(optimizer="rmsprop"), ValueError, "optimizer must be one of", "optimizer-unknown"),
    row(configure(verbose=3), ValueError, "verbose must be 0, 1 or 2", "verbose-three"),
    # A string is truthy: retrain="no" used to retrain, overwrite="no" to overwrite.
    row(configure(overwrite="no"), ValueError, "overwrite must be True or False, got 'no'", "overwrite-string"),
    row(configure(retrain="no"), ValueError, "retrain must be True or False, got 'no'", "retrain-string"),
    row(configure(warm_start="nasnet_a"), ValueError, r"for one cell write \['nasnet_a'\]", "warm-start-bare-name"),
    row(configure(warm_start=5), ValueError, "warm_start must be None or a list", "warm-start-int"),
    row(configure(warm_start=["bogus"]), ValueError, "names of published cells", "warm-start-unknown-cell"),
    # Found by tests/test_properties.py: a string state failed comparing str and int (TypeError).
    row(lambda directory, fitted: Cell(blocks=(Block("1", "identity", 0, "identity"),), concat=(2,)), ValueError,
        r"Block 0: its inputs must be state indices \(ints\), got '1'", "warm-start-genotype-string-state"),
    row(configure(successive_halving=1), ValueError, "successive halving's factor must be an int >= 2",
        "halving-factor-one"),
    row(configure(successive_halving="yes"), ValueError, "successive_halving must be True, False",
        "halving-string"),
    row(configure(successive_halving=True, oracle="darts"), ValueError, "successive_halving works with oracle=",
        "halving-one-shot"),
    row(configure(objective=["latency_ms"]), ValueError, "leaves out 'val_accuracy'", "objective-without-accuracy"),
    row(configure(objective="val_loss"), ValueError, "which no trial measures", "objective-unknown"),
    row(configure(max_params=0), ValueError, "max_params must be None or a positive number", "max-params-zero"),
    row(configure_text(max_latency_ms="5ms"), ValueError, "max_latency_ms must be None or a positive number",
        "text-max-latency-string"),
    row(configure(objective=["val_accuracy", "batch_latency_ms"]), ValueError, "latency_batch_size=<int>",
        "objective-batch-latency-without-batch"),
    row(configure(max_params=10_000, oracle="enas"), ValueError, "scores architectures with shared weights",
        "limit-one-shot"),
    row(configure(width_multipliers=[0.5, 0.5]), ValueError, "width_multipliers must be None or a list of distinct",
        "width-multipliers-repeated"),
    row(configure_text(width_multipliers=0.5), ValueError, "width_multipliers must be None or a list",
        "text-width-multipliers-number"),
    row(configure(width_multipliers=[0.5, 1], oracle="darts"), ValueError, "trains one supernet at one width",
        "width-multipliers-one-shot"),
    row(configure(distribution_strategy="tpu"), ValueError, "distribution_strategy must be None, one of",
        "strategy-unknown"),
    row(configure(parallel_trials=0), ValueError, "parallel_trials must be an integer >= 1", "parallel-trials-zero"),
    row(configure(directory=3), ValueError, "directory must be None or a folder path", "directory-int"),
    row(configure_text(max_vocabulary=0), ValueError, "max_vocabulary must be a positive integer",
        "text-max-vocabulary-zero"),
    row(configure_text(sequence_length=True), ValueError, "sequence_length must be an integer >= 1, got True",
        "text-sequence-length-bool"),
    row(configure_text(embedding_dim="8"), ValueError, "embedding_dim must be a positive integer",
        "text-embedding-dim-string"),
    # The search has started when its clock runs out (no trial finished in 0.5 s): it says so in
    # about a second. Its records are a resumable search, kept in `directory` when one is given,
    # so this row passes none and they go with the fit.
    row(lambda directory, fitted: ImageSearchClassifier(**TINY, time_limit=0.5).fit(_images(), _labels()),
        RuntimeError, "No trial completed.*The time limit ended before the first trial", "time-limit-below-one-trial"),
    # ---- predict and score
    row(lambda directory, fitted: ImageSearchClassifier().predict(_images(2)), NotFittedError,
        "no fitted model yet: call fit first", "predict-before-fit"),
    row(on_fitted("predict", np.repeat(_images(4)[..., None], 3, axis=-1)), ValueError,
        r"images of shape \(8, 8, 3\), but the model was trained on \(8, 8\): pass images of the training's size "
        "and channel count", "predict-other-channel-count"),
    row(on_fitted("predict", _images(4)[:, :4, :4]), ValueError, r"images of shape \(4, 4\), but the model",
        "predict-other-size"),
    row(on_fitted("predict", _images(4).astype("float32") / 255), ValueError,
        "dtype float32, but the model was trained on uint8 pixels", "predict-wrong-dtype"),
    row(on_fitted("predict", _with(_images(4), (0, 0, 0), np.nan, "float32")), ValueError,
        "NaN or infinite pixel", "predict-nan"),
    row(on_fitted("predict", tf.data.Dataset.from_tensor_slices(_images(4)[..., None]).batch(2)), ValueError,
        r"images of shape \(8, 8, 1\), but the model was trained on \(8, 8\)", "predict-dataset-other-channels"),
    row(on_fitted("predict", tf.data.Dataset.from_tensor_slices(_images(4)).batch(2).repeat()), ValueError,
        "x is infinite", "predict-dataset-infinite"),
    # Another model's classes would score 0 without a word (a few unseen labels only count as wrong).
    row(on_fitted("score", _images(), _labels() + 5), ValueError,
        r"y has none of the model's classes: it has \[5, 6\], the classes are \[0, 1\]", "score-other-models-classes"),
    row(on_fitted("score", _images(), np.array(["cat", "dog"] * 20)), ValueError,
        r"y holds string labels but the model's classes are numeric", "score-strings-for-int-classes"),
]


@pytest.fixture(scope="module")
def fitted_images():
    """A tiny fitted image model (uint8 8x8 pixels, classes 0 and 1), fitted once for the module."""
    return ImageSearchClassifier(**TINY, retrain=False, warm_start=[]).fit(_images(), _labels())


@pytest.mark.parametrize("call, error, message", BAD_INPUTS)
def test_bad_input_is_refused_before_training(request, tmp_path, call, error, message):
    runs = tmp_path / "runs"
    with pytest.raises(error, match=message):
        call(str(runs), lambda: request.getfixturevalue("fitted_images"))
    assert not runs.exists()


def test_a_few_labels_unseen_in_training_score_as_wrong_as_in_scikit_learn(fitted_images):
    labels = _labels()
    labels[:4] = 7  # a class the model never saw: those four can only be wrong
    predicted = fitted_images.predict(_images())
    assert fitted_images.score(_images(), labels) == pytest.approx(np.mean(predicted == labels))


def test_the_matrix_has_at_least_40_rows():
    assert len(BAD_INPUTS) >= 40


def test_a_directory_that_is_a_file_is_refused_before_training(tmp_path):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    with pytest.raises(ValueError, match="is a file; give the path of a folder"):
        ImageSearchClassifier(directory=str(taken), verbose=0).fit(_images(), _labels())
    assert taken.read_text() == "mine"
