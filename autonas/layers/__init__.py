"""Custom Keras layers. Each is registered under the "autonas" package, so a saved `.keras`
model reloads with `keras.saving.load_model` after `import autonas`, no custom_objects needed."""
from autonas.layers.attention_pooling import AttentionPooling
from autonas.layers.batch_norm import FusedBatchNorm
from autonas.layers.factorized_reduce import FactorizedReduce
from autonas.layers.strided_conv import StridedConv

__all__ = ["AttentionPooling", "FactorizedReduce", "FusedBatchNorm", "StridedConv"]
