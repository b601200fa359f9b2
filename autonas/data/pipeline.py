"""tf.data pipelines for search and final training, from arrays or from a user's dataset."""
from __future__ import annotations

import dataclasses
import numbers

import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split

SHUFFLE_BUFFER = 10_000


@dataclasses.dataclass
class PreparedData:
    """Batched datasets with integer labels.

    Attributes:
        train: training batches, reshuffled every epoch.
        validation: validation batches (scores the trials).
        full: train + validation batches, for the final retraining.
        train_size, validation_size: sample counts.
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset
    full: tf.data.Dataset
    train_size: int
    validation_size: int


def check_validation_split(value):
    """Raise ValueError unless `value` is a number in (0, 1): the share of samples held out."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 < value < 1.0:
        raise ValueError(f"validation_split must be a number in (0, 1), the share held out to score trials, got "
                         f"{value!r}; or pass validation_data=(x_val, y_val).")


def split_arrays(x, y, validation_split, seed):
    """Hold out `validation_split` of the samples, stratified by class where every class allows it."""
    check_validation_split(validation_split)
    n_val = int(round(len(x) * validation_split))
    if n_val < 1 or len(x) - n_val < 1:
        raise ValueError(
            f"validation_split={validation_split} leaves an empty training or validation set for {len(x)} samples; "
            "pass more data or validation_data."
        )
    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 and n_val >= len(counts) and len(x) - n_val >= len(counts) else None
    return train_test_split(x, y, test_size=n_val, random_state=seed, stratify=stratify)


def without_autotune(dataset):
    """`dataset` with tf.data's autotuning off.

    Deleting an autotuned iterator can wait for its tuning thread's sleep to run out: the
    thread sleeps twice as long after each round, up to a minute, and an epoch ends by deleting
    its iterator. Measured on 2 cores with 48 s epochs (`benchmarks/iterator_stall.py`): 1 of 6
    deletions waited 34 s (1 of 4 in an earlier run), and in ENAS on the Fashion subset 35-40 s
    of about half the 95 s supernet epochs went to it. Without autotuning the deletion took no
    measurable time, and a parallel map asked for `AUTOTUNE` ran as fast (one call per core).
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def _batched(dataset, batch_size, *, shuffle_seed=None, size=None):
    if shuffle_seed is not None:
        dataset = dataset.shuffle(min(size or SHUFFLE_BUFFER, SHUFFLE_BUFFER), seed=shuffle_seed,
                                  reshuffle_each_iteration=True)
    return without_autotune(dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE))


def from_arrays(x_train, y_train, x_val, y_val, *, batch_size, seed):
    """Datasets from validated arrays with integer labels."""
    train = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    validation = tf.data.Dataset.from_tensor_slices((x_val, y_val))
    return PreparedData(
        train=_batched(train, batch_size, shuffle_seed=seed, size=len(x_train)),
        validation=_batched(validation, batch_size),
        full=_batched(train.concatenate(validation), batch_size, shuffle_seed=seed, size=len(x_train) + len(x_val)),
        train_size=len(x_train),
        validation_size=len(x_val),
    )


def from_datasets(train, validation, *, train_size, validation_size, batch_size, seed):
    """Datasets from unbatched user datasets whose labels are already integer indices."""
    return PreparedData(
        train=_batched(train, batch_size, shuffle_seed=seed, size=train_size),
        validation=_batched(validation, batch_size),
        full=_batched(train.concatenate(validation), batch_size, shuffle_seed=seed,
                      size=train_size + validation_size),
        train_size=train_size,
        validation_size=validation_size,
    )
