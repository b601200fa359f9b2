"""Pooling over positions by a learned softmax-weighted mean."""
import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="autonas")
class AttentionPooling(layers.Layer):
    """Global pooling that weights each position by a learned score: `softmax(x w) . x`.

    Between average pooling (every position counts the same) and max pooling (each channel from
    one position), a network can learn which positions of a text carry its class.

    Example:
        >>> pool = AttentionPooling()
        >>> tuple(pool(keras.random.normal((2, 7, 5))).shape)
        (2, 5)
    """

    def build(self, input_shape):
        self.score = self.add_weight(name="score", shape=(int(input_shape[-1]), 1), initializer="zeros")

    def call(self, inputs):
        positions = ops.reshape(inputs, (ops.shape(inputs)[0], -1, ops.shape(inputs)[-1]))
        weights = ops.softmax(ops.matmul(positions, ops.cast(self.score, positions.dtype)), axis=1)
        return ops.sum(weights * positions, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])
