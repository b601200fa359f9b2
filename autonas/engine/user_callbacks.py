"""The Keras callbacks a user passes to `fit`: checked before training, copied into the
retraining, and given the trial's validation scores (keras-tuner's convention for a search:
`tuner.search(..., callbacks=[keras.callbacks.TensorBoard("logs")])`)."""
from __future__ import annotations

import copy
import os

import keras
import tensorflow as tf

RETRAINING_RUN = "final"  # the retraining's TensorBoard run, beside the trials' `<trial_id>` runs


def check_callbacks(callbacks, *, parallel_trials):
    """`callbacks` as a list; a ValueError naming the problem before any training.

    Trials that run in worker processes (`parallel_trials` above 1) cannot take the caller's
    callback objects with them.
    """
    if callbacks is None:
        return []
    if isinstance(callbacks, keras.callbacks.Callback) or not isinstance(callbacks, (list, tuple)):
        raise ValueError(f"callbacks must be a list of keras.callbacks.Callback, got {type(callbacks).__name__}; "
                         "wrap a single callback in a list.")
    for callback in callbacks:
        if not isinstance(callback, keras.callbacks.Callback):
            raise ValueError(f"callbacks must be keras.callbacks.Callback instances, got {type(callback).__name__}.")
    if callbacks and parallel_trials > 1:
        raise ValueError(f"callbacks cannot reach trials that run in worker processes (parallel_trials="
                         f"{parallel_trials}); use parallel_trials=1 with callbacks.")
    try:
        copy.deepcopy(list(callbacks))
    except Exception as error:  # noqa: BLE001 - any failure to copy is the user's to fix
        raise ValueError(f"Every callback must be deep-copyable (each trial gets its own copy): {error}") from error
    return list(callbacks)


def retraining_callbacks(callbacks):
    """Copies of `callbacks` for the retraining; a TensorBoard logs to `<log_dir>/final`."""
    copies = copy.deepcopy(list(callbacks))
    for callback in copies:
        if isinstance(callback, keras.callbacks.TensorBoard):
            callback.log_dir = os.path.join(str(callback.log_dir), RETRAINING_RUN)
    return copies


def write_validation_scores(callbacks, scores, epoch):
    """Write a trial's validation scores where a TensorBoard callback would write a fit's
    validation curve (`<log_dir>/validation`, `epoch_<metric>` at `epoch`).

    The runner validates once, after the last epoch, not inside `fit`; without this the trial's
    run would have no validation scalar for the HParams dashboard to show beside its architecture.
    """
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.TensorBoard):
            writer = tf.summary.create_file_writer(os.path.join(str(callback.log_dir), "validation"))
            with writer.as_default():
                for name, value in scores.items():
                    tf.summary.scalar(f"epoch_{name}", float(value), step=int(epoch))
            writer.close()
