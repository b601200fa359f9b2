"""The one registry of candidate operations for cell edges, and the layer computing each.

Every operation maps a feature map with `filters` channels to one with `filters` channels,
downsampling by `strides` (1 or 2), which is given at call time: a child network calls each
operation's layer with the stride of its edge, and a supernet edge in a reduction cell calls the
same layer with stride 2 on a cell input and stride 1 on a block output, with the same weights
(kernel shapes do not depend on the stride). Convolutions follow the ReLU-conv-BN order of
NASNet and DARTS. Names ending in `NxN` are 2-D (images); names ending in a single number are
1-D (sequences). `identity` works in both.

To add an operation, add its `Operation` to `OPERATIONS`; when no layer below computes it (with
other arguments), write one here too: an `EdgeOperation` subclass, registered for
`keras.saving`, with a complete `get_config`.

Example:
    >>> import keras
    >>> x = keras.Input((8, 8, 16))
    >>> apply_operation("sep_conv_3x3", x, filters=16, strides=2, name="edge").shape
    (None, 4, 4, 16)
"""
from __future__ import annotations

import dataclasses
from functools import partial
from typing import Callable

import keras
from keras import layers, ops

from autonas.layers import FactorizedReduce, StridedConv
from autonas.layers.batch_norm import batch_norm as layers_batch_norm

BATCHNORM_MOMENTUM = 0.9  # short proxy trainings need moving statistics that keep up


def batch_norm(name, momentum=BATCHNORM_MOMENTUM):
    """The cells' batch norm (`autonas.layers.batch_norm`: fused, synchronised across replicas
    under a `tf.distribute` strategy)."""
    return layers_batch_norm(name, momentum)


def _with_channels(shape, channels):
    return tuple(shape[:-1]) + (channels,)


def _subsample(x, strides):
    """Keep every `strides`-th position (size ceil(n / strides), like a 'same' strided conv)."""
    if strides == 1:
        return x
    return ops.average_pool(x, pool_size=1, strides=strides, padding="same")


class EdgeOperation(layers.Layer):
    """An operation of a cell edge: `call(x, strides=1, training=None)` maps `filters` channels
    to `filters` channels, downsampling by `strides`.

    Args:
        filters: output channels.
        reduces: whether the layer may be called with stride 2 (only `Identity` cares: its
            stride-2 form is a FactorizedReduce with weights of its own).
    """

    def __init__(self, filters, *, reduces=False, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.reduces = bool(reduces)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "reduces": self.reduces})
        return config


class KernelOperation(EdgeOperation):
    """An `EdgeOperation` with a kernel size (the convolutions).

    Args:
        filters: output channels.
        kernel_size: an int.
        reduces: see `EdgeOperation`.
    """

    def __init__(self, filters, kernel_size, *, reduces=False, **kwargs):
        super().__init__(filters, reduces=reduces, **kwargs)
        self.kernel_size = int(kernel_size)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}


@keras.saving.register_keras_serializable(package="autonas")
class ReluConvBN(KernelOperation):
    """ReLU, convolution, batch norm (`conv_*`; also the cells' 1x1 input projections)."""

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        self.conv = StridedConv(filters, self.kernel_size, name="conv")
        self.bn = batch_norm("bn")

    def build(self, input_shape):
        self.conv.build(input_shape)
        self.bn.build(_with_channels(input_shape, self.filters))

    def call(self, x, strides=1, training=None):
        return self.bn(self.conv(ops.relu(x), strides=strides), training=training)


@keras.saving.register_keras_serializable(package="autonas")
class StackedSeparable(KernelOperation):
    """Two ReLU-separable-conv-BN units, the first carrying the stride (`sep_conv_*`, NASNet)."""

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        self.convs = [StridedConv(filters, self.kernel_size, kind="separable", name=f"sep{i}") for i in range(2)]
        self.norms = [batch_norm(f"bn{i}") for i in range(2)]

    def build(self, input_shape):
        for conv, norm in zip(self.convs, self.norms):
            conv.build(input_shape)
            input_shape = _with_channels(input_shape, self.filters)
            norm.build(input_shape)

    def call(self, x, strides=1, training=None):
        for conv, norm, stride in zip(self.convs, self.norms, (strides, 1)):
            x = norm(conv(ops.relu(x), strides=stride), training=training)
        return x


@keras.saving.register_keras_serializable(package="autonas")
class DilatedConv(KernelOperation):
    """ReLU, dilated depthwise conv, pointwise conv carrying the stride, BN (`dil_conv_*`).

    Keras convolutions reject strides > 1 together with dilation > 1, so the stride moves to the
    1x1 pointwise convolution, which computes the same subsampled result. `kernel_size` is the
    depthwise kernel's, dilated by 2.
    """

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        self.depthwise = StridedConv(filters, self.kernel_size, kind="depthwise", dilation_rate=2, name="depthwise")
        self.pointwise = StridedConv(filters, 1, name="pointwise")
        self.bn = batch_norm("bn")

    def build(self, input_shape):
        self.depthwise.build(input_shape)
        self.pointwise.build(input_shape)
        self.bn.build(_with_channels(input_shape, self.filters))

    def call(self, x, strides=1, training=None):
        x = self.pointwise(self.depthwise(ops.relu(x)), strides=strides)
        return self.bn(x, training=training)


@keras.saving.register_keras_serializable(package="autonas")
class FactorizedConv(KernelOperation):
    """ReLU, 1xk conv, kx1 conv, BN (`conv_1xk_kx1`, images only): a kxk receptive field with
    2k weights per channel pair (k is `kernel_size`).
    """

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        self.row = StridedConv(filters, (1, self.kernel_size), name="row")
        self.column = StridedConv(filters, (self.kernel_size, 1), name="column")
        self.bn = batch_norm("bn")

    def build(self, input_shape):
        self.row.build(input_shape)
        self.column.build(_with_channels(input_shape, self.filters))
        self.bn.build(_with_channels(input_shape, self.filters))

    def call(self, x, strides=1, training=None):
        x = self.row(ops.relu(x), strides=(1, strides))
        return self.bn(self.column(x, strides=(strides, 1)), training=training)


@keras.saving.register_keras_serializable(package="autonas")
class Pool(EdgeOperation):
    """Max or average pooling, 'same' padding (`max_pool_*`, `avg_pool_*`); no weights.

    Args:
        filters: output channels (those of the input: pooling keeps them).
        kind: "max" or "avg".
        pool_size: an int.
        reduces: see `EdgeOperation`.
    """

    def __init__(self, filters, kind, pool_size, *, reduces=False, **kwargs):
        super().__init__(filters, reduces=reduces, **kwargs)
        if kind not in ("max", "avg"):
            raise ValueError(f"kind must be 'max' or 'avg', got {kind!r}.")
        self.kind = kind
        self.pool_size = int(pool_size)

    def call(self, x, strides=1, training=None):
        pool = ops.max_pool if self.kind == "max" else ops.average_pool
        return pool(x, pool_size=self.pool_size, strides=strides, padding="same")

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "pool_size": self.pool_size}


@keras.saving.register_keras_serializable(package="autonas")
class Identity(EdgeOperation):
    """The input itself at stride 1; a FactorizedReduce at stride 2 (`identity`).

    Args:
        filters: output channels (those of the input at stride 1).
        reduces: whether to hold the FactorizedReduce that stride 2 needs.
    """

    def __init__(self, filters, *, reduces=False, **kwargs):
        super().__init__(filters, reduces=reduces, **kwargs)
        self.reduce = None
        if self.reduces:
            self.reduce = FactorizedReduce(filters, batchnorm_momentum=BATCHNORM_MOMENTUM, name="reduce")

    def build(self, input_shape):
        if self.reduce is not None:
            self.reduce.build(input_shape)

    def call(self, x, strides=1, training=None):
        if strides == 1:
            return x
        if self.reduce is None:
            raise ValueError(f"{self.name} was built without stride-2 weights (reduces=False).")
        return self.reduce(x, training=training)


def attention_heads(filters):
    """Heads of the `self_attention` operation: 4 when `filters` is a multiple of 4 and >= 16, else 1."""
    return 4 if filters % 4 == 0 and filters >= 16 else 1


@keras.saving.register_keras_serializable(package="autonas")
class BidirectionalGRU(EdgeOperation):
    """A bidirectional GRU over the sequence (filters / 2 units each way), BN, then subsampling
    (`bigru`).

    Args:
        filters: output channels; must be even.
        reduces: see `EdgeOperation`.
    """

    def __init__(self, filters, *, reduces=False, **kwargs):
        super().__init__(filters, reduces=reduces, **kwargs)
        if self.filters % 2:
            raise ValueError(f"bigru needs an even number of filters, got {filters}.")
        self.rnn = layers.Bidirectional(layers.GRU(self.filters // 2, return_sequences=True), name="bigru")
        self.bn = batch_norm("bn")

    def build(self, input_shape):
        self.rnn.build(input_shape)
        self.bn.build(_with_channels(input_shape, self.filters))

    def call(self, x, strides=1, training=None):
        return _subsample(self.bn(self.rnn(x, training=training), training=training), strides)


@keras.saving.register_keras_serializable(package="autonas")
class SelfAttention(EdgeOperation):
    """Multi-head self-attention (`attention_heads`), a residual connection, layer
    normalisation, then subsampling (`self_attention`).

    Args:
        filters: channels of the input and output.
        reduces: see `EdgeOperation`.
    """

    def __init__(self, filters, *, reduces=False, **kwargs):
        super().__init__(filters, reduces=reduces, **kwargs)
        heads = attention_heads(self.filters)
        self.attention = layers.MultiHeadAttention(num_heads=heads, key_dim=self.filters // heads, name="mha")
        self.norm = layers.LayerNormalization(name="ln")

    def build(self, input_shape):
        self.attention.build(input_shape, input_shape)
        self.norm.build(input_shape)

    def call(self, x, strides=1, training=None):
        x = self.norm(x + self.attention(x, x, training=training), training=training)
        return _subsample(x, strides)


@dataclasses.dataclass(frozen=True)
class Operation:
    """A named candidate operation.

    Attributes:
        name: registry key, as it appears in genotypes.
        ranks: spatial ranks it supports (1 for sequences, 2 for images).
        layer: `layer(filters, reduces=..., name=...)` -> a fresh `EdgeOperation` computing it.
        has_weights: False for parameter-free operations (identity, pooling).
    """

    name: str
    ranks: frozenset
    layer: Callable
    has_weights: bool = True


def _both(name, layer, has_weights=True):
    return Operation(name, frozenset({1, 2}), layer, has_weights)


def _image(name, layer, has_weights=True):
    return Operation(name, frozenset({2}), layer, has_weights)


def _sequence(name, layer, has_weights=True):
    return Operation(name, frozenset({1}), layer, has_weights)


OPERATIONS = {
    op.name: op
    for op in [
        _both("identity", Identity, has_weights=False),
        # 2-D, the NASNet operation list.
        _image("conv_1x3_3x1", partial(FactorizedConv, kernel_size=3)),
        _image("conv_1x7_7x1", partial(FactorizedConv, kernel_size=7)),
        _image("dil_conv_3x3", partial(DilatedConv, kernel_size=3)),
        _image("avg_pool_3x3", partial(Pool, kind="avg", pool_size=3), has_weights=False),
        _image("max_pool_3x3", partial(Pool, kind="max", pool_size=3), has_weights=False),
        _image("max_pool_5x5", partial(Pool, kind="max", pool_size=5), has_weights=False),
        _image("max_pool_7x7", partial(Pool, kind="max", pool_size=7), has_weights=False),
        _image("conv_1x1", partial(ReluConvBN, kernel_size=1)),
        _image("conv_3x3", partial(ReluConvBN, kernel_size=3)),
        _image("sep_conv_3x3", partial(StackedSeparable, kernel_size=3)),
        _image("sep_conv_5x5", partial(StackedSeparable, kernel_size=5)),
        _image("sep_conv_7x7", partial(StackedSeparable, kernel_size=7)),
        # 1-D, for sequences.
        _sequence("conv_3", partial(ReluConvBN, kernel_size=3)),
        _sequence("conv_5", partial(ReluConvBN, kernel_size=5)),
        _sequence("conv_7", partial(ReluConvBN, kernel_size=7)),
        _sequence("sep_conv_3", partial(StackedSeparable, kernel_size=3)),
        _sequence("sep_conv_5", partial(StackedSeparable, kernel_size=5)),
        _sequence("sep_conv_7", partial(StackedSeparable, kernel_size=7)),
        _sequence("dil_conv_3", partial(DilatedConv, kernel_size=3)),
        _sequence("dil_conv_5", partial(DilatedConv, kernel_size=5)),
        _sequence("dil_conv_7", partial(DilatedConv, kernel_size=7)),
        _sequence("max_pool_3", partial(Pool, kind="max", pool_size=3), has_weights=False),
        _sequence("avg_pool_3", partial(Pool, kind="avg", pool_size=3), has_weights=False),
        _sequence("bigru", BidirectionalGRU),
        _sequence("self_attention", SelfAttention),
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


def make_operation(op_name, *, filters, reduces, name):
    """A fresh layer computing registered operation `op_name` (see `EdgeOperation`).

    Args:
        op_name: a name in `OPERATIONS`.
        filters: channels of its input and output.
        reduces: whether it will be called with stride 2.
        name: the layer's name.

    Raises:
        ValueError: for an unregistered name.
    """
    if op_name not in OPERATIONS:
        raise ValueError(f"Unknown operation {op_name!r}. Registered: {sorted(OPERATIONS)}.")
    return OPERATIONS[op_name].layer(filters, reduces=reduces, name=name)


def apply_operation(op_name, x, *, filters, strides, name):
    """Apply registered operation `op_name` with a fixed stride to the functional tensor `x`,
    as the layer called `name`."""
    check_operations([op_name], len(x.shape) - 2)
    return make_operation(op_name, filters=filters, reduces=strides != 1, name=name)(x, strides=strides)
