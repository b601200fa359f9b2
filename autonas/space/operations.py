"""The one registry of candidate operations for cell edges.

Every operation maps a feature map with `filters` channels to one with `filters` channels,
downsampling by `strides` (1 or 2). Convolutions follow the ReLU-conv-BN order of NASNet and
DARTS. Names ending in `NxN` are 2-D (images); names ending in a single number are 1-D
(sequences). `identity` works in both.

Example:
    >>> import keras
    >>> x = keras.Input((8, 8, 16))
    >>> apply_operation("sep_conv_3x3", x, filters=16, strides=2, name="edge").shape
    (None, 4, 4, 16)
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import tensorflow as tf
from keras import layers

from autonas.layers import FactorizedReduce

BATCHNORM_MOMENTUM = 0.9  # short proxy trainings need moving statistics that keep up

_CONV = {1: layers.Conv1D, 2: layers.Conv2D}
_SEPARABLE = {1: layers.SeparableConv1D, 2: layers.SeparableConv2D}
_DEPTHWISE = {1: layers.DepthwiseConv1D, 2: layers.DepthwiseConv2D}
_MAX_POOL = {1: layers.MaxPooling1D, 2: layers.MaxPooling2D}
_AVG_POOL = {1: layers.AveragePooling1D, 2: layers.AveragePooling2D}


@dataclasses.dataclass(frozen=True)
class Operation:
    """A named candidate operation.

    Attributes:
        name: registry key, as it appears in genotypes.
        ranks: spatial ranks it supports (1 for sequences, 2 for images).
        build: `build(x, filters, strides, rank, name) -> tensor`, functional Keras.
        has_weights: False for parameter-free operations (identity, pooling).
    """

    name: str
    ranks: frozenset
    build: Callable
    has_weights: bool = True


def batch_norm(name, momentum=BATCHNORM_MOMENTUM):
    """BatchNormalization, synchronised across replicas when built under a `tf.distribute`
    strategy: otherwise each replica keeps its own moving statistics, and replicas other than
    the first score, predict and export with different ones."""
    return layers.BatchNormalization(momentum=momentum, synchronized=tf.distribute.has_strategy(), name=name)


def relu_conv_bn(x, filters, kernel_size, strides, rank, name):
    """ReLU, convolution (no bias), batch norm: the standard NAS convolution unit."""
    x = layers.ReLU(name=f"{name}_relu")(x)
    x = _CONV[rank](filters, kernel_size, strides=strides, padding="same", use_bias=False,
                    name=f"{name}_conv")(x)
    return batch_norm(f"{name}_bn")(x)


def _identity(x, filters, strides, rank, name):
    if strides == 1:
        return x
    return FactorizedReduce(filters, batchnorm_momentum=BATCHNORM_MOMENTUM, name=f"{name}_reduce")(x)


def _conv(kernel):
    def build(x, filters, strides, rank, name):
        return relu_conv_bn(x, filters, kernel, strides, rank, name)

    return build


def _separable(kernel):
    """Two ReLU-separable-conv-BN units, the first carrying the stride (NASNet)."""

    def build(x, filters, strides, rank, name):
        for repeat, stride in enumerate((strides, 1)):
            x = layers.ReLU(name=f"{name}_relu{repeat}")(x)
            x = _SEPARABLE[rank](filters, kernel, strides=stride, padding="same", use_bias=False,
                                 name=f"{name}_sep{repeat}")(x)
            x = batch_norm(f"{name}_bn{repeat}")(x)
        return x

    return build


def _dilated(kernel):
    """ReLU, dilated depthwise conv, pointwise conv (carrying the stride), BN.

    Keras convolutions reject strides > 1 together with dilation > 1, so the stride moves to
    the 1x1 pointwise convolution, which computes the same subsampled result.
    """

    def build(x, filters, strides, rank, name):
        x = layers.ReLU(name=f"{name}_relu")(x)
        x = _DEPTHWISE[rank](kernel, dilation_rate=2, padding="same", use_bias=False,
                             name=f"{name}_depthwise")(x)
        x = _CONV[rank](filters, 1, strides=strides, padding="same", use_bias=False,
                        name=f"{name}_pointwise")(x)
        return batch_norm(f"{name}_bn")(x)

    return build


def _factorized_conv(kernel):
    """ReLU, 1xk conv, kx1 conv, BN: a kxk receptive field with 2k weights per channel pair."""

    def build(x, filters, strides, rank, name):
        x = layers.ReLU(name=f"{name}_relu")(x)
        x = layers.Conv2D(filters, (1, kernel), strides=(1, strides), padding="same", use_bias=False,
                          name=f"{name}_conv1x{kernel}")(x)
        x = layers.Conv2D(filters, (kernel, 1), strides=(strides, 1), padding="same", use_bias=False,
                          name=f"{name}_conv{kernel}x1")(x)
        return batch_norm(f"{name}_bn")(x)

    return build


def _pool(kind, size):
    pools = _MAX_POOL if kind == "max" else _AVG_POOL

    def build(x, filters, strides, rank, name):
        return pools[rank](pool_size=size, strides=strides, padding="same", name=f"{name}_pool")(x)

    return build


def _subsample(x, strides, rank, name):
    """Keep every `strides`-th position (size ceil(n / strides), like a 'same' strided conv)."""
    if strides == 1:
        return x
    return _AVG_POOL[rank](pool_size=1, strides=strides, padding="same", name=f"{name}_subsample")(x)


def _bidirectional_gru(x, filters, strides, rank, name):
    """A bidirectional GRU over the sequence (filters / 2 units each way), then BN."""
    if filters % 2:
        raise ValueError(f"bigru needs an even number of filters, got {filters}.")
    x = layers.Bidirectional(layers.GRU(filters // 2, return_sequences=True), name=f"{name}_bigru")(x)
    x = batch_norm(f"{name}_bn")(x)
    return _subsample(x, strides, rank, name)


def attention_heads(filters):
    """Heads of the `self_attention` operation: 4 when `filters` is a multiple of 4 and >= 16, else 1."""
    return 4 if filters % 4 == 0 and filters >= 16 else 1


def _self_attention(x, filters, strides, rank, name):
    """Multi-head self-attention with a residual connection and layer normalisation."""
    heads = attention_heads(filters)
    attended = layers.MultiHeadAttention(num_heads=heads, key_dim=filters // heads, name=f"{name}_mha")(x, x)
    x = layers.Add(name=f"{name}_residual")([x, attended])
    x = layers.LayerNormalization(name=f"{name}_ln")(x)
    return _subsample(x, strides, rank, name)


def _both(name, build, has_weights=True):
    return Operation(name, frozenset({1, 2}), build, has_weights)


def _image(name, build, has_weights=True):
    return Operation(name, frozenset({2}), build, has_weights)


def _sequence(name, build, has_weights=True):
    return Operation(name, frozenset({1}), build, has_weights)


OPERATIONS = {
    op.name: op
    for op in [
        _both("identity", _identity, has_weights=False),
        # 2-D, the NASNet operation list.
        _image("conv_1x3_3x1", _factorized_conv(3)),
        _image("conv_1x7_7x1", _factorized_conv(7)),
        _image("dil_conv_3x3", _dilated(3)),
        _image("avg_pool_3x3", _pool("avg", 3), has_weights=False),
        _image("max_pool_3x3", _pool("max", 3), has_weights=False),
        _image("max_pool_5x5", _pool("max", 5), has_weights=False),
        _image("max_pool_7x7", _pool("max", 7), has_weights=False),
        _image("conv_1x1", _conv(1)),
        _image("conv_3x3", _conv(3)),
        _image("sep_conv_3x3", _separable(3)),
        _image("sep_conv_5x5", _separable(5)),
        _image("sep_conv_7x7", _separable(7)),
        # 1-D, for sequences.
        _sequence("conv_3", _conv(3)),
        _sequence("conv_5", _conv(5)),
        _sequence("conv_7", _conv(7)),
        _sequence("sep_conv_3", _separable(3)),
        _sequence("sep_conv_5", _separable(5)),
        _sequence("sep_conv_7", _separable(7)),
        _sequence("dil_conv_3", _dilated(3)),
        _sequence("dil_conv_5", _dilated(5)),
        _sequence("dil_conv_7", _dilated(7)),
        _sequence("max_pool_3", _pool("max", 3), has_weights=False),
        _sequence("avg_pool_3", _pool("avg", 3), has_weights=False),
        _sequence("bigru", _bidirectional_gru),
        _sequence("self_attention", _self_attention),
    ]
}


def operations_for_rank(rank):
    """Names of every registered operation usable on `rank`-D feature maps, in registry order."""
    return tuple(name for name, op in OPERATIONS.items() if rank in op.ranks)


IMAGE_OPERATIONS = operations_for_rank(2)


def check_operations(names, rank):
    """Raise ValueError unless every name is a registered operation supporting `rank`."""
    names = list(names)
    if not names:
        raise ValueError("The operation list is empty; name at least one operation.")
    for name in names:
        if name not in OPERATIONS:
            raise ValueError(f"Unknown operation {name!r}. Registered: {sorted(OPERATIONS)}.")
        if rank not in OPERATIONS[name].ranks:
            raise ValueError(
                f"Operation {name!r} does not work on {rank}-D feature maps; "
                f"choose from {list(operations_for_rank(rank))}."
            )


def apply_operation(op_name, x, *, filters, strides, name):
    """Apply registered operation `op_name` to the functional tensor `x`; `name` prefixes its layers."""
    rank = len(x.shape) - 2
    check_operations([op_name], rank)
    return OPERATIONS[op_name].build(x, filters, strides, rank, name)
