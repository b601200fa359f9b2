"""Candidate operations of a supernet edge, with the stride chosen at call time.

The registry (`autonas.space.operations`) builds each operation for one fixed stride with
functional Keras. A supernet edge in a reduction cell applies the same operation with stride 2
to a cell input and with stride 1 to a block output; kernel shapes do not depend on the stride,
so each candidate here owns its weights once and takes `strides` per call. The computation
mirrors the registry's builder exactly (same Keras ops, same order), and `parts(strides)` lists
the weight-bearing layers in the order the builder creates them, which is what lets
`autonas.oneshot.weights.load_child_weights` copy a child layer by layer.

Example:
    >>> import keras
    >>> conv = make_candidate("conv_3x3", filters=4, reduces=True, name="edge")
    >>> conv.build((None, None, None, 4))
    >>> x = keras.random.normal((1, 8, 8, 4))
    >>> tuple(conv(x, strides=1).shape), tuple(conv(x, strides=2).shape)
    ((1, 8, 8, 4), (1, 4, 4, 4))
"""
from __future__ import annotations

import functools
import types

from keras import layers, ops

from autonas.layers import FactorizedReduce
from autonas.space.operations import BATCHNORM_MOMENTUM, attention_heads

CONV_KINDS = ("conv", "depthwise", "separable")


def _with_channels(shape, channels):
    return tuple(shape[:-1]) + (channels,)


def _batch_norm(name):
    return layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM, name=name)


def _subsample(x, strides):
    """Keep every `strides`-th position, like the registry's pool_size=1 average pooling."""
    if strides == 1:
        return x
    return ops.average_pool(x, pool_size=1, strides=strides, padding="same")


class StridedConv(layers.Layer):
    """A bias-free 'same' convolution whose stride is a call argument.

    Its weights have the names, shapes and order of the Keras layer of the same kind
    (`Conv*D`, `DepthwiseConv*D`, `SeparableConv*D` with `use_bias=False`), so a child's weights
    load with `set_weights`.

    Args:
        filters: output channels (ignored by "depthwise", which keeps the input channels).
        kernel_size: an int, or a tuple with one entry per spatial axis.
        kind: "conv", "depthwise" or "separable".
        dilation_rate: the dilation of the (depthwise) kernel.
    """

    def __init__(self, filters, kernel_size, *, kind="conv", dilation_rate=1, **kwargs):
        super().__init__(**kwargs)
        if kind not in CONV_KINDS:
            raise ValueError(f"kind must be one of {CONV_KINDS}, got {kind!r}.")
        self.filters = int(filters)
        self.kernel_size = kernel_size
        self.kind = kind
        self.dilation_rate = dilation_rate

    def build(self, input_shape):
        rank = len(input_shape) - 2
        size = tuple(self.kernel_size) if isinstance(self.kernel_size, (tuple, list)) else (self.kernel_size,) * rank
        channels = input_shape[-1]
        if self.kind == "conv":
            self.kernel = self.add_weight(name="kernel", shape=size + (channels, self.filters),
                                          initializer="glorot_uniform")
        elif self.kind == "depthwise":
            self.kernel = self.add_weight(name="kernel", shape=size + (channels, 1), initializer="glorot_uniform")
        else:
            self.depthwise_kernel = self.add_weight(name="depthwise_kernel", shape=size + (channels, 1),
                                                    initializer="glorot_uniform")
            self.pointwise_kernel = self.add_weight(name="pointwise_kernel",
                                                    shape=(1,) * rank + (channels, self.filters),
                                                    initializer="glorot_uniform")

    def call(self, x, strides=1):
        if self.kind == "conv":
            return ops.conv(x, self.kernel, strides=strides, padding="same", dilation_rate=self.dilation_rate)
        if self.kind == "depthwise":
            return ops.depthwise_conv(x, self.kernel, strides=strides, padding="same",
                                      dilation_rate=self.dilation_rate)
        return ops.separable_conv(x, self.depthwise_kernel, self.pointwise_kernel, strides=strides, padding="same",
                                  dilation_rate=self.dilation_rate)


class Candidate(layers.Layer):
    """One candidate operation: `call(x, strides=1, training=None)` maps `filters` channels to
    `filters` channels, downsampling by `strides`.

    Args:
        filters: output channels.
        reduces: whether the edge may call it with stride 2 (only `Identity` cares: its
            stride-2 form is a FactorizedReduce with weights of its own).
    """

    def __init__(self, filters, *, reduces=False, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.reduces = bool(reduces)

    def parts(self, strides):
        """The weight-bearing layers used at `strides`, in the registry builder's layer order."""
        return []


class ReluConvBN(Candidate):
    """ReLU, convolution, batch norm (`conv_*`; also the cells' 1x1 pre-projections)."""

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(filters, **kwargs)
        self.conv = StridedConv(filters, kernel_size, name="conv")
        self.bn = _batch_norm("bn")

    def build(self, input_shape):
        self.conv.build(input_shape)
        self.bn.build(_with_channels(input_shape, self.filters))

    def call(self, x, strides=1, training=None):
        return self.bn(self.conv(ops.relu(x), strides=strides), training=training)

    def parts(self, strides):
        return [self.conv, self.bn]


class SeparableConvs(Candidate):
    """Two ReLU-separable-conv-BN units, the first carrying the stride (`sep_conv_*`)."""

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(filters, **kwargs)
        self.convs = [StridedConv(filters, kernel_size, kind="separable", name=f"sep{i}") for i in range(2)]
        self.norms = [_batch_norm(f"bn{i}") for i in range(2)]

    def build(self, input_shape):
        for conv, norm in zip(self.convs, self.norms):
            conv.build(input_shape)
            input_shape = _with_channels(input_shape, self.filters)
            norm.build(input_shape)

    def call(self, x, strides=1, training=None):
        for conv, norm, stride in zip(self.convs, self.norms, (strides, 1)):
            x = norm(conv(ops.relu(x), strides=stride), training=training)
        return x

    def parts(self, strides):
        return [self.convs[0], self.norms[0], self.convs[1], self.norms[1]]


class DilatedConv(Candidate):
    """ReLU, dilated depthwise conv, strided pointwise conv, BN (`dil_conv_*`)."""

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(filters, **kwargs)
        self.depthwise = StridedConv(filters, kernel_size, kind="depthwise", dilation_rate=2, name="depthwise")
        self.pointwise = StridedConv(filters, 1, name="pointwise")
        self.bn = _batch_norm("bn")

    def build(self, input_shape):
        self.depthwise.build(input_shape)
        self.pointwise.build(input_shape)
        self.bn.build(_with_channels(input_shape, self.filters))

    def call(self, x, strides=1, training=None):
        x = self.pointwise(self.depthwise(ops.relu(x)), strides=strides)
        return self.bn(x, training=training)

    def parts(self, strides):
        return [self.depthwise, self.pointwise, self.bn]


class FactorizedConv(Candidate):
    """ReLU, 1xk conv, kx1 conv, BN (`conv_1xk_kx1`, images only)."""

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(filters, **kwargs)
        self.row = StridedConv(filters, (1, kernel_size), name="row")
        self.column = StridedConv(filters, (kernel_size, 1), name="column")
        self.bn = _batch_norm("bn")

    def build(self, input_shape):
        self.row.build(input_shape)
        self.column.build(_with_channels(input_shape, self.filters))
        self.bn.build(_with_channels(input_shape, self.filters))

    def call(self, x, strides=1, training=None):
        x = self.row(ops.relu(x), strides=(1, strides))
        return self.bn(self.column(x, strides=(strides, 1)), training=training)

    def parts(self, strides):
        return [self.row, self.column, self.bn]


class Pool(Candidate):
    """Max or average pooling, 'same' padding (`max_pool_*`, `avg_pool_*`); no weights."""

    def __init__(self, filters, kind, pool_size, **kwargs):
        super().__init__(filters, **kwargs)
        self.kind = kind
        self.pool_size = pool_size

    def call(self, x, strides=1, training=None):
        pool = ops.max_pool if self.kind == "max" else ops.average_pool
        return pool(x, pool_size=self.pool_size, strides=strides, padding="same")


class Identity(Candidate):
    """The input itself at stride 1; a FactorizedReduce at stride 2 (`identity`)."""

    def __init__(self, filters, **kwargs):
        super().__init__(filters, **kwargs)
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

    def parts(self, strides):
        return [] if strides == 1 else [self.reduce]


class BidirectionalGRU(Candidate):
    """A bidirectional GRU (filters / 2 units each way), BN, then subsampling (`bigru`)."""

    def __init__(self, filters, **kwargs):
        super().__init__(filters, **kwargs)
        if self.filters % 2:
            raise ValueError(f"bigru needs an even number of filters, got {filters}.")
        self.rnn = layers.Bidirectional(layers.GRU(self.filters // 2, return_sequences=True), name="bigru")
        self.bn = _batch_norm("bn")

    def build(self, input_shape):
        self.rnn.build(input_shape)
        self.bn.build(_with_channels(input_shape, self.filters))

    def call(self, x, strides=1, training=None):
        return _subsample(self.bn(self.rnn(x, training=training), training=training), strides)

    def parts(self, strides):
        return [self.rnn, self.bn]


class SelfAttention(Candidate):
    """Multi-head self-attention, residual, layer norm, then subsampling (`self_attention`)."""

    def __init__(self, filters, **kwargs):
        super().__init__(filters, **kwargs)
        heads = attention_heads(self.filters)
        self.attention = layers.MultiHeadAttention(num_heads=heads, key_dim=self.filters // heads, name="mha")
        self.norm = layers.LayerNormalization(name="ln")

    def build(self, input_shape):
        self.attention.build(input_shape, input_shape)
        self.norm.build(input_shape)

    def call(self, x, strides=1, training=None):
        x = self.norm(x + self.attention(x, x, training=training), training=training)
        return _subsample(x, strides)

    def parts(self, strides):
        return [self.attention, self.norm]


# Registry name -> candidate class and fixed arguments; read-only.
CANDIDATES = types.MappingProxyType({
    "identity": Identity,
    "conv_1x3_3x1": functools.partial(FactorizedConv, kernel_size=3),
    "conv_1x7_7x1": functools.partial(FactorizedConv, kernel_size=7),
    "dil_conv_3x3": functools.partial(DilatedConv, kernel_size=3),
    "avg_pool_3x3": functools.partial(Pool, kind="avg", pool_size=3),
    "max_pool_3x3": functools.partial(Pool, kind="max", pool_size=3),
    "max_pool_5x5": functools.partial(Pool, kind="max", pool_size=5),
    "max_pool_7x7": functools.partial(Pool, kind="max", pool_size=7),
    "conv_1x1": functools.partial(ReluConvBN, kernel_size=1),
    "conv_3x3": functools.partial(ReluConvBN, kernel_size=3),
    "sep_conv_3x3": functools.partial(SeparableConvs, kernel_size=3),
    "sep_conv_5x5": functools.partial(SeparableConvs, kernel_size=5),
    "sep_conv_7x7": functools.partial(SeparableConvs, kernel_size=7),
    "conv_3": functools.partial(ReluConvBN, kernel_size=3),
    "conv_5": functools.partial(ReluConvBN, kernel_size=5),
    "conv_7": functools.partial(ReluConvBN, kernel_size=7),
    "sep_conv_3": functools.partial(SeparableConvs, kernel_size=3),
    "sep_conv_5": functools.partial(SeparableConvs, kernel_size=5),
    "sep_conv_7": functools.partial(SeparableConvs, kernel_size=7),
    "dil_conv_3": functools.partial(DilatedConv, kernel_size=3),
    "dil_conv_5": functools.partial(DilatedConv, kernel_size=5),
    "dil_conv_7": functools.partial(DilatedConv, kernel_size=7),
    "max_pool_3": functools.partial(Pool, kind="max", pool_size=3),
    "avg_pool_3": functools.partial(Pool, kind="avg", pool_size=3),
    "bigru": BidirectionalGRU,
    "self_attention": SelfAttention,
})


def make_candidate(op_name, *, filters, reduces, name):
    """A fresh candidate layer for registered operation `op_name`.

    Raises:
        ValueError: if the operation has no supernet form (a registry op added without one).
    """
    if op_name not in CANDIDATES:
        raise ValueError(f"Operation {op_name!r} has no supernet candidate; add one to "
                         f"autonas.oneshot.candidates.CANDIDATES (known: {sorted(CANDIDATES)}).")
    candidate = CANDIDATES[op_name](filters, reduces=reduces, name=name)
    candidate.op_name = op_name
    return candidate
