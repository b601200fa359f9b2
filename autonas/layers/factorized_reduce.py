"""Halve the spatial size without losing every other pixel."""
import keras
from keras import layers, ops

from autonas.layers.batch_norm import batch_norm

_CONV = {1: layers.Conv1D, 2: layers.Conv2D}


@keras.saving.register_keras_serializable(package="autonas")
class FactorizedReduce(layers.Layer):
    """ReLU, then two stride-2 1x1 convolutions, one shifted by a pixel, concatenated, then BN.

    A plain stride-2 1x1 convolution reads only even positions; the shifted half reads the odd
    ones, so the reduced map still sees every input position (NASNet / DARTS). Used where a cell
    input or an identity edge must be downsampled to match a stride-2 neighbour. The output size
    equals that of a stride-2 'same' convolution: ceil(size / 2) along each spatial axis.

    Args:
        filters: number of output channels.
        batchnorm_momentum: momentum of the closing BatchNormalization.

    Example:
        >>> x = keras.random.normal((2, 7, 7, 8))
        >>> tuple(FactorizedReduce(16)(x).shape)
        (2, 4, 4, 16)
    """

    def __init__(self, filters, batchnorm_momentum=0.9, **kwargs):
        super().__init__(**kwargs)
        if int(filters) < 2:
            raise ValueError(f"FactorizedReduce needs at least 2 filters, got {filters}.")
        self.filters = int(filters)
        self.batchnorm_momentum = float(batchnorm_momentum)
        self.batch_norm = batch_norm("bn", self.batchnorm_momentum)
        self.conv_even = None
        self.conv_odd = None

    def build(self, input_shape):
        rank = len(input_shape) - 2
        if rank not in _CONV:
            raise ValueError(f"FactorizedReduce takes 1-D or 2-D feature maps, got shape {input_shape}.")
        half = self.filters // 2
        self.conv_even = _CONV[rank](half, 1, strides=2, use_bias=False, name="conv_even")
        self.conv_odd = _CONV[rank](self.filters - half, 1, strides=2, use_bias=False, name="conv_odd")
        self.conv_even.build(input_shape)
        self.conv_odd.build(input_shape)
        out_shape = list(self.compute_output_shape(input_shape))
        self.batch_norm.build(tuple(out_shape))

    def call(self, inputs, training=None):
        x = ops.relu(inputs)
        rank = len(x.shape) - 2
        # Shift by one position: pad the far end, drop the first row/column.
        padded = ops.pad(x, [[0, 0]] + [[0, 1]] * rank + [[0, 0]])
        shifted = padded[(slice(None),) + (slice(1, None),) * rank]
        out = ops.concatenate([self.conv_even(x), self.conv_odd(shifted)], axis=-1)
        return self.batch_norm(out, training=training)

    def compute_output_shape(self, input_shape):
        spatial = [None if s is None else (s + 1) // 2 for s in input_shape[1:-1]]
        return (input_shape[0], *spatial, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "batchnorm_momentum": self.batchnorm_momentum})
        return config
