"""How many epochs of a model fit in the time left, measured on the model itself.

A trial-based search knows the pace of its best trial and scales it to the final model. A
one-shot search (ENAS, DARTS) trained no child, so its retraining measures the pace: a few real
training steps of the model it is about to train (kept, not thrown away), timed after the first,
which includes tracing. Without this, the retraining on 28x28 images at the final size could run
many minutes past `time_limit`.
"""
from __future__ import annotations

import math
import statistics
import time

import keras

from autonas.engine.graph_rewrites import graph_rewrites_off

PROBE_BATCHES = 4  # the first traces; the median of the other three sets the pace


class BatchSeconds(keras.callbacks.Callback):
    """Wall-clock seconds of each training batch after the first."""

    def __init__(self):
        super().__init__()
        self.seconds = []
        self._start = None

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if batch > 0:
            self.seconds.append(time.monotonic() - self._start)


def steps_per_epoch(batches, samples, batch_size):
    """Batches in one pass over `batches`: its cardinality when known, else `ceil(samples / batch_size)`."""
    cardinality = int(batches.cardinality())
    return cardinality if cardinality > 0 else math.ceil(samples / batch_size)


def probe_epoch_seconds(model, batches, steps, probe_batches=PROBE_BATCHES):
    """Train `model` on the first `probe_batches` of `batches`; the seconds an epoch of `steps`
    batches takes at the pace after the first batch (which traces). With fewer than two batches
    the pace is the whole probe's, tracing included.

    Args:
        model: a compiled Keras model, trained in place by the probe.
        batches: a `tf.data.Dataset` of training batches.
        steps: batches per epoch (`steps_per_epoch`).
        probe_batches: batches the probe trains on (at least 2).
    """
    start = time.monotonic()
    timer = BatchSeconds()
    with graph_rewrites_off():  # as the training that follows calls the same step
        model.fit(batches.take(probe_batches), epochs=1, verbose=0, shuffle=False, callbacks=[timer])
    if not timer.seconds:
        return time.monotonic() - start
    return statistics.median(timer.seconds) * steps


def epochs_that_fit(epoch_seconds, seconds_left):
    """Whole epochs of `epoch_seconds` in `seconds_left` (math.inf when it is None)."""
    if seconds_left is None:
        return math.inf
    return max(0, int(seconds_left // max(epoch_seconds, 1e-9)))
