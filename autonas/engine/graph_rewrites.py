"""Run compiled steps without TensorFlow's graph optimiser (Grappler) on a CPU.

A supernet's train step inlines a switch over every candidate of every edge: about 180,000
graph nodes for the default image space. Grappler rewrites such a graph for minutes on its
first call (the memory optimiser alone took 43 s here), and on a CPU its rewrites buy nothing
back. `python benchmarks/supernet_tracing.py --side 28` (2 cores, 13 operations, 4 blocks,
batch 128): the first train step took 159 s with Grappler and 77 s without, the first scoring
step 29 s and 12 s, and later steps the same either way (1.37 s and 1.38 s).

A search trial's child network is smaller, but its first step is most of a short trial's fixed
cost: for a DARTS-V2 proxy (2 runs each, 2 cores) the first step took 6.5-7.6 s with Grappler and
5.6-5.8 s without on digits, 7.2-7.3 s and 6.2-6.3 s on 28x28 Fashion-MNIST, and later steps the
same within noise (docs/results.md, "Where a search trial's time goes"). So the supernet's steps,
every trial's training and validation, and the retraining are called with the optimiser off on a
machine without a GPU; with a GPU, TensorFlow's default stays (its layout rewrite matters there;
not measured here).

The option travels with each call (`FunctionCallOptions` of the eager context, thread-local),
so every other function in the process (a user's own models) keeps TensorFlow's defaults.
"""
from __future__ import annotations

import contextlib
import copy
import functools

import tensorflow as tf
from tensorflow.core.protobuf import config_pb2
from tensorflow.python.eager import context as eager_context


@functools.cache
def _cpu_only():
    return not tf.config.list_logical_devices("GPU")


@functools.cache
def _without_rewrites(serialized):
    """The `ConfigProto` serialized as `serialized`, with the graph optimiser disabled."""
    config = config_pb2.ConfigProto.FromString(serialized or b"")
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    return config


@contextlib.contextmanager
def graph_rewrites_off():
    """Within this block, `tf.function` calls skip Grappler on a CPU-only machine.

    Call every use of one compiled step inside it: a function is optimised on its first call,
    and a call with other options would optimise (and wait) again.
    """
    if not _cpu_only():
        yield
        return
    context = eager_context.context()
    previous = context.function_call_options
    options = copy.copy(previous)
    options.config_proto_serialized = _without_rewrites(previous.config_proto_serialized)
    context.function_call_options = options
    try:
        yield
    finally:
        context.function_call_options = previous
