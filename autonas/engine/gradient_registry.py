"""Release what TensorFlow's gradient registry keeps of each trial's traced train step.

Keras's TensorFlow optimizer sums gradients with `ReplicaContext.all_reduce`, even under the
default strategy, and that goes through `tf.custom_gradient`; traced in a `tf.function` (every
`fit` of a new model), `tf.custom_gradient` registers a gradient function under a fresh name,
`CustomGradient-<uid>`, in TensorFlow's process-wide gradient registry and never removes it.
The function's closure holds the train step's graph, so every trial of a search stayed in
memory: measured with `benchmarks/memory.py` (30 trials on digits), RSS grew by about 40 MiB
per trial with keras 3.15 / TensorFlow 2.21.

TensorFlow has no public way to unregister a gradient; `released_custom_gradients` is the one
place autonas reaches into the registry (DESIGN.md rule 9).
"""
import contextlib

from tensorflow.python.framework import ops as tf_ops

PREFIX = "CustomGradient-"


def _entries():
    # `Registry._registry` is the dict behind `gradient_registry.register` / `.lookup`.
    return tf_ops.gradient_registry._registry


def custom_gradient_names():
    """Names of the `tf.custom_gradient` functions registered now (what a leak accumulates)."""
    return {name for name in list(_entries()) if name.startswith(PREFIX)}


@contextlib.contextmanager
def released_custom_gradients():
    """Unregister, when the block ends, the custom gradients registered while it ran.

    Use it around work whose graphs are not differentiated again afterwards (a trial: its
    model is discarded). Registrations made before the block, and ones that are not
    `tf.custom_gradient`'s, are kept.

    Example:
        >>> with released_custom_gradients():
        ...     pass  # build, fit and evaluate a model
    """
    entries = _entries()
    before = set(entries)
    try:
        yield
    finally:
        for name in [name for name in list(entries) if name not in before and name.startswith(PREFIX)]:
            entries.pop(name, None)
