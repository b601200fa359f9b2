"""What a model costs to serve: floating-point operations and latency of its inference function.

Accuracy is one objective of a deployment; a phone or a CPU server also bounds size and time.
These measures are taken on the model a trial trained (parameters come from Keras itself):

- `count_flops`: floating-point operations of one forward pass on one sample, counted by
  TensorFlow's profiler over the frozen inference graph (so every layer counts, custom ones
  too). A text model's tokenizer turns strings into token ids and does no arithmetic; the count
  starts at its numeric output, since the profiler cannot trace string lookups.
- `latency_ms`: the median wall time of the inference function, `model(x, training=False)`
  traced with a batch dimension of any size as `model.export` traces the SavedModel's `serve`
  endpoint, on `batch_size` samples, after warm-up calls, on this machine.

Example:
    >>> import keras
    >>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])
    >>> count_flops(model)  # a 784 x 10 matrix product and 10 bias additions
    15690
"""
from __future__ import annotations

import dataclasses
import statistics
import time

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from autonas.engine.objectives import VIOLATION

_PROFILER = tf.compat.v1.profiler


@dataclasses.dataclass
class TrialCosts:
    """Measures what each trial's architecture costs to serve, on the model `fit` would return
    for it: built at `size` (None: the search size), untrained (costs do not depend on the
    weights).

    Measuring takes a build, a profile and two traced calls: 5-8 s a trial for a 1.2 M-parameter
    NASNet-A network on 8x8 digits on 2 cores; only a search with costs in its objective or
    limits pays it.

    Args:
        objective: the search's `SearchObjective` (which costs, which limits).
        samples: a few raw inputs, as the model takes them, for the latency calls.
        size: the `NetworkSize` of the returned model, or None.
    """

    objective: object
    samples: np.ndarray
    size: object = None

    @property
    def metric_names(self):
        """The metrics `measure` reports."""
        return self.objective.costs + ((VIOLATION,) if self.objective.limits else ())

    def measure(self, hypermodel, hyperparameters):
        """`{cost: value}` for the trial's architecture, with the constraint violation when
        the objective has limits."""
        model = hypermodel.network(hypermodel.space.declare(hyperparameters.copy()), size=self.size)
        costs = {"params": float(model.count_params()), "flops": float(count_flops(model)),
                 "latency_ms": latency_ms(model, self.samples)}
        if self.objective.batch_latency is not None:
            costs["batch_latency_ms"] = latency_ms(model, self.samples, batch_size=self.objective.batch_latency)
        if self.objective.limits:
            costs[VIOLATION] = self.objective.violation(costs)
        return costs


def count_flops(model):
    """Floating-point operations of `model` on one sample, as TensorFlow's profiler counts them.

    Args:
        model: a built Keras model with one input.

    Returns:
        An int.
    """
    model = _numeric_part(model)
    function = tf.function(lambda inputs: model(inputs, training=False))
    one_sample = [tf.TensorSpec((1, *spec.shape[1:]), spec.dtype) for spec in model.inputs]
    concrete = function.get_concrete_function(one_sample[0] if len(one_sample) == 1 else one_sample)
    frozen = convert_variables_to_constants_v2(concrete)
    with tf.Graph().as_default() as graph:
        tf.graph_util.import_graph_def(frozen.graph.as_graph_def(), name="")
        options = _PROFILER.ProfileOptionBuilder(_PROFILER.ProfileOptionBuilder.float_operation()).with_empty_output()
        profile = _PROFILER.profile(graph=graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op",
                                    options=options.build())
    return int(profile.total_float_ops)


def _numeric_part(model):
    """`model` from the tensors where its strings become numbers on (a text model's tokenizer
    and its n-gram counts: one input each)."""
    if model.inputs[0].dtype != "string":
        return model
    numbers = [layer.output for layer in model.layers
               if layer.input is not None and getattr(layer.input, "dtype", None) == "string"
               and layer.output.dtype != "string"]
    if not numbers:
        raise ValueError(f"{model.name} takes strings and no layer turns them into numbers: nothing to count.")
    return keras.Model(numbers, model.output)


def latency_ms(model, samples, *, batch_size=1, repeats=30, warmup=10):
    """Median milliseconds of one call of `model`'s inference function on `batch_size` samples.

    Args:
        model: a built Keras model taking raw inputs (what the SavedModel serves).
        samples: a few raw input samples (an array or list, as the model takes them), cycled
            to make up the batch.
        batch_size: samples per call.
        repeats: timed calls; the median is returned.
        warmup: untimed calls first (tracing, thread pools, caches).

    Returns:
        A float, milliseconds.
    """
    samples = np.asarray(samples)
    batch = tf.constant(samples[np.arange(batch_size) % len(samples)])
    spec = tf.TensorSpec((None, *batch.shape[1:]), batch.dtype)
    serve = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    for _ in range(warmup):
        np.asarray(serve(batch))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(serve(batch))
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)
