"""The prepared tf.data pipelines: batched, and with tf.data's autotuning off (its tuning
thread can hold an epoch's end for up to a minute: `autonas.data.pipeline.without_autotune`)."""
import numpy as np
import tensorflow as tf

from autonas.data.pipeline import from_arrays, from_datasets


def _arrays(count):
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (count, 8, 8), dtype=np.uint8), rng.integers(0, 3, count).astype("int32")


def _prepared_datasets(data):
    return {"train": data.train, "validation": data.validation, "full": data.full}


def test_array_pipelines_are_batched_and_not_autotuned():
    x, y = _arrays(50)
    data = from_arrays(x[:40], y[:40], x[40:], y[40:], batch_size=16, seed=0)
    for name, dataset in _prepared_datasets(data).items():
        assert dataset.options().autotune.enabled is False, name
    assert [len(batch) for batch, _ in data.train] == [16, 16, 8]
    assert sum(len(labels) for _, labels in data.full) == 50


def test_a_users_dataset_is_not_autotuned_either():
    x, y = _arrays(30)
    user = tf.data.Dataset.from_tensor_slices((x, y)).map(lambda a, b: (a, b), num_parallel_calls=tf.data.AUTOTUNE)
    data = from_datasets(user.take(20), user.skip(20), train_size=20, validation_size=10, batch_size=8, seed=0)
    for name, dataset in _prepared_datasets(data).items():
        assert dataset.options().autotune.enabled is False, name
    assert sorted(int(v) for _, labels in data.validation for v in labels) == sorted(y[20:].tolist())
