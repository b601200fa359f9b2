"""Which `tf.distribute` strategy trains the trials and the final model.

The classifiers take `distribution_strategy=` as a name or a strategy instance. Names are the
scikit-learn-friendly form: `clone` deep-copies parameters, and a copied strategy object is a new,
unconnected strategy, while a name is created afresh in each `fit`.
"""
from __future__ import annotations

import contextlib

import tensorflow as tf

STRATEGY_NAMES = ("default", "mirrored", "multi_worker_mirrored")


def check_strategy(value):
    """Raise ValueError unless `value` is None, a name in `STRATEGY_NAMES` or a `tf.distribute.Strategy`."""
    if value is None or isinstance(value, tf.distribute.Strategy) or value in STRATEGY_NAMES:
        return
    raise ValueError(f"distribution_strategy must be None, one of {STRATEGY_NAMES} or a tf.distribute.Strategy, "
                     f"got {value!r}.")


def make_strategy(value):
    """The strategy `value` names (None and "default" give TensorFlow's default strategy).

    "mirrored" replicates over every local GPU (or the CPU when there is none, or the logical
    devices configured with `tf.config.set_logical_device_configuration`);
    "multi_worker_mirrored" spans the workers that the `TF_CONFIG` environment variable lists
    (trained with `autonas.distribute.multi_worker_strategy`'s loop).
    """
    check_strategy(value)
    if isinstance(value, tf.distribute.Strategy):
        strategy = value
    elif value == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
    elif value == "multi_worker_mirrored":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    return strategy


def global_batch_size(per_replica, strategy):
    """Samples per training step across all replicas: `batch_size` is per replica, so adding
    replicas adds throughput rather than shrinking each replica's batch."""
    return int(per_replica) * int(strategy.num_replicas_in_sync)


def strategy_scope(strategy):
    """The scope models must be built in to train under `strategy` (None: no scope)."""
    return contextlib.nullcontext() if strategy is None else strategy.scope()
