"""The retraining of a one-shot search measures its own pace (autonas.engine.pace)."""
import math

import keras
import numpy as np
import tensorflow as tf

from autonas.engine.pace import measured_epochs_that_fit, steps_per_epoch


def _model_and_batches(count=320, batch_size=32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(count, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model, tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)


def test_the_probe_trains_the_model_and_counts_the_epochs_left():
    model, batches = _model_and_batches()
    before = [w.copy() for w in model.get_weights()]
    epochs = measured_epochs_that_fit(model, batches, steps=10, seconds_left=3600)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # real steps, kept
    assert 1 <= epochs < math.inf


def test_no_time_left_fits_no_epoch_and_no_limit_needs_no_probe():
    model, batches = _model_and_batches()
    assert measured_epochs_that_fit(model, batches, steps=10, seconds_left=0.0) == 0
    before = [w.copy() for w in model.get_weights()]
    assert measured_epochs_that_fit(model, batches, steps=10, seconds_left=None) == math.inf
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_more_steps_per_epoch_fit_fewer_epochs():
    model, batches = _model_and_batches()
    few = measured_epochs_that_fit(model, batches, steps=10, seconds_left=60)
    many = measured_epochs_that_fit(model, batches, steps=10_000, seconds_left=60)
    assert many < few


def test_steps_per_epoch_uses_the_cardinality_or_counts_the_samples():
    _, batches = _model_and_batches(count=330)
    assert steps_per_epoch(batches, samples=330, batch_size=32) == 11
    unknown = batches.filter(lambda x, y: True)  # cardinality unknown to tf.data
    assert steps_per_epoch(unknown, samples=330, batch_size=32) == 11
