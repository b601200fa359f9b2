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


def measured_epochs_that_fit(model, batches, steps, seconds_left, probe_batches=PROBE_BATCHES):
    """Train `model` on the first `probe_batches` of `batches`; how many epochs of `steps`
    batches then fit in what is left of `seconds_left` (math.inf when it is None).

    Args:
        model: a compiled Keras model, trained in place by the probe.
        batches: a `tf.data.Dataset` of training batches.
        steps: batches per epoch (`steps_per_epoch`).
        seconds_left: the time left when the call starts, or None for no limit.
        probe_batches: batches the probe trains on (at least 2).
    """
    if seconds_left is None:
        return math.inf
    start = time.monotonic()
    timer = BatchSeconds()
    model.fit(batches.take(probe_batches), epochs=1, verbose=0, shuffle=False, callbacks=[timer])
    left = seconds_left - (time.monotonic() - start)
    if not timer.seconds:  # fewer than two batches: the pace is the first one's, tracing included
        return max(0, int(left // max(time.monotonic() - start, 1e-9)))
    return max(0, int(left // max(statistics.median(timer.seconds) * steps, 1e-9)))
