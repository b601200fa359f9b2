"""The training loop autonas runs where Keras's fit cannot (a MultiWorkerMirroredStrategy over
several workers) must train exactly as `fit` does: checked here under the default strategy, in
process; tests/test_distribute.py runs it on two worker processes."""
import keras
import numpy as np
import tensorflow as tf

from autonas.engine.budget import CosineEpochs
from autonas.distribute.multi_worker_strategy import lockstep_evaluate, lockstep_fit


def _model(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization(),
                              keras.layers.ReLU(), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _batches(digits):
    images, labels = digits
    x = images[:300, :, :, None].astype("float32") / 255.0
    # 300 samples in batches of 64: the last batch is short, and must weigh by its size.
    return tf.data.Dataset.from_tensor_slices((x, labels[:300])).batch(64)


def test_lockstep_fit_matches_keras_fit_weights_logs_and_callbacks(digits):
    dataset = _batches(digits)
    reference, lockstep = _model(0), _model(0)
    # The schedule plans 2 epochs of 3: both loops must follow its learning rates and its stop.
    expected = reference.fit(dataset, epochs=3, shuffle=False, verbose=0, callbacks=[CosineEpochs(0.1, 2)]).history
    history = lockstep_fit(lockstep, dataset, epochs=3, strategy=tf.distribute.get_strategy(),
                           callbacks=[CosineEpochs(0.1, 2)])
    assert len(history["loss"]) == len(expected["loss"]) == 2
    np.testing.assert_allclose(history["loss"], expected["loss"], rtol=1e-4)
    np.testing.assert_allclose(history["accuracy"], expected["accuracy"], rtol=1e-4)
    for ours, theirs in zip(lockstep.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    # Training moved the weights: the comparison above is not between two untouched models.
    assert not np.allclose(lockstep.get_weights()[0], _model(0).get_weights()[0])


def test_lockstep_evaluate_matches_keras_evaluate(digits):
    dataset = _batches(digits)
    model = _model(1)
    model.fit(dataset, epochs=1, verbose=0, shuffle=False)
    expected = model.evaluate(dataset, verbose=0, return_dict=True)
    scores = lockstep_evaluate(model, dataset, tf.distribute.get_strategy())
    np.testing.assert_allclose(scores["loss"], expected["loss"], rtol=1e-5)
    np.testing.assert_allclose(scores["accuracy"], expected["accuracy"], rtol=1e-6)
