"""A bias-free convolution whose stride is chosen at call time."""
import keras
from keras import layers, ops

KINDS = ("conv", "depthwise", "separable")


@keras.saving.register_keras_serializable(package="autonas")
class StridedConv(layers.Layer):
    """A bias-free 'same' convolution whose stride is a call argument, not a constructor one.

    A supernet edge in a reduction cell applies one operation with stride 2 to a cell input and
    with stride 1 to a block output; kernel shapes do not depend on the stride, so one set of
    weights serves both calls. Its weights have the names, shapes and initialiser of the Keras
    layer of the same kind with `use_bias=False` (`Conv1D`/`Conv2D`, `DepthwiseConv1D`/
    `DepthwiseConv2D`, `SeparableConv1D`/`SeparableConv2D` with depth multiplier 1), so a
    network built from it has the parameters that layer would give.

    Args:
        filters: output channels (ignored by "depthwise", which keeps the input channels).
        kernel_size: an int, or a tuple with one entry per spatial axis.
        kind: "conv", "depthwise" or "separable" (depthwise, then pointwise).
        dilation_rate: the dilation of the (depthwise) kernel; Keras rejects it together with
            a stride above 1.

    Example:
        >>> conv = StridedConv(6, 3)
        >>> x = keras.random.normal((1, 8, 8, 4))
        >>> tuple(conv(x).shape), tuple(conv(x, strides=2).shape)
        ((1, 8, 8, 6), (1, 4, 4, 6))
    """

    def __init__(self, filters, kernel_size, *, kind="conv", dilation_rate=1, **kwargs):
        super().__init__(**kwargs)
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}.")
        self.filters = int(filters)
        self.kernel_size = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else int(kernel_size)
        self.kind = kind
        self.dilation_rate = int(dilation_rate)

    def build(self, input_shape):
        rank = len(input_shape) - 2
        size = self.kernel_size if isinstance(self.kernel_size, tuple) else (self.kernel_size,) * rank
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

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "kernel_size": self.kernel_size, "kind": self.kind,
                       "dilation_rate": self.dilation_rate})
        return config
