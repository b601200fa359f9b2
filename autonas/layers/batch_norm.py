"""Batch normalisation for cell networks: one fused kernel per call, synchronised replicas
under a distribution strategy."""
import keras
import tensorflow as tf
from keras import layers


@keras.saving.register_keras_serializable(package="autonas")
class FusedBatchNorm(layers.Layer):
    """Batch normalisation over the last axis, computed by TensorFlow's fused kernel.

    Keras 3's `BatchNormalization` computes the batch moments and the normalisation as separate
    ops, forward and backward; a cell network has one batch norm per convolution, and on a CPU
    the fused kernel cut a default proxy trial on Fashion-MNIST and CIFAR-10 by a sixth (steady
    steps 1.2x as fast, a quarter less tracing; docs/results.md, "Fused batch norm"). The
    weights are Keras's (`gamma`, `beta`, `moving_mean`, `moving_variance`, the same shapes),
    so parameter counts do not change. The moving variance follows the kernel's unbiased batch
    variance. Takes 1-D (batch, length, channels) and 2-D (batch, height, width, channels) maps.

    Args:
        momentum: weight of the old moving statistics in each update.
        epsilon: added to the variance (at least 1.001e-5, the kernel's floor).

    Example:
        >>> x = keras.random.normal((4, 6, 6, 3))
        >>> y = FusedBatchNorm()(x, training=True)
        >>> bool(abs(float(keras.ops.mean(y))) < 1e-5)
        True
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.momentum = float(momentum)
        self.epsilon = max(float(epsilon), 1.001e-5)

    def build(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise ValueError(f"FusedBatchNorm takes 1-D or 2-D feature maps, got shape {input_shape}.")
        channels = (input_shape[-1],)
        self.gamma = self.add_weight(name="gamma", shape=channels, initializer="ones")
        self.beta = self.add_weight(name="beta", shape=channels, initializer="zeros")
        self.moving_mean = self.add_weight(name="moving_mean", shape=channels, initializer="zeros", trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=channels, initializer="ones",
                                               trainable=False)

    def call(self, x, training=None):
        sequence = len(x.shape) == 3
        if sequence:  # the kernel takes 4-D maps: (batch, 1, length, channels)
            x = tf.expand_dims(x, 1)
        # The kernel wants float32 parameters, also for float16 maps (mixed precision).
        gamma, beta = (tf.cast(weight, "float32") for weight in (self.gamma, self.beta))
        if training and self.trainable:
            y, mean, variance = tf.compat.v1.nn.fused_batch_norm(x, gamma, beta, epsilon=self.epsilon,
                                                                 is_training=True)
            for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
                moving.assign(moving * self.momentum + batch * (1.0 - self.momentum))
        else:
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(x, gamma, beta, mean=tf.cast(self.moving_mean, "float32"),
                                                       variance=tf.cast(self.moving_variance, "float32"),
                                                       epsilon=self.epsilon, is_training=False)
        return tf.squeeze(y, 1) if sequence else y

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}


def batch_norm(name, momentum):
    """A batch norm layer for a cell network: `FusedBatchNorm`, or Keras's synchronised
    `BatchNormalization` when built under a `tf.distribute` strategy (otherwise each replica
    keeps its own moving statistics, and replicas other than the first score, predict and
    export with different ones)."""
    if tf.distribute.has_strategy():
        return layers.BatchNormalization(momentum=momentum, synchronized=True, name=name)
    return FusedBatchNorm(momentum=momentum, name=name)
