import keras
import numpy as np
import pytest
import tensorflow as tf

import autonas  # noqa: F401  (registers the custom layers)
from autonas.layers import FactorizedReduce, FusedBatchNorm, StridedConv
from autonas.layers.batch_norm import batch_norm


@pytest.mark.parametrize("shape, expected", [((7, 7, 4), (4, 4, 6)), ((8, 8, 3), (4, 4, 6)), ((9, 5), (5, 6))])
def test_output_matches_a_stride_two_same_convolution(shape, expected):
    out = FactorizedReduce(6)(np.ones((2, *shape), "float32"))
    assert tuple(out.shape[1:]) == expected


def test_get_config_round_trip():
    layer = FactorizedReduce(10, batchnorm_momentum=0.8, name="fr")
    clone = FactorizedReduce.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_shifted_half_reads_odd_positions():
    """A single non-zero odd pixel must reach the output through the shifted convolution."""
    layer = FactorizedReduce(2)
    x = np.zeros((1, 4, 4, 1), "float32")
    layer(x)
    x[0, 1, 1, 0] = 1.0
    layer.conv_even.kernel.assign(np.ones_like(layer.conv_even.kernel.numpy()))
    layer.conv_odd.kernel.assign(np.ones_like(layer.conv_odd.kernel.numpy()))
    even_only = layer.conv_even(x).numpy()
    assert not even_only.any()  # a plain stride-2 1x1 conv never sees (1, 1)
    assert layer(x, training=False).numpy()[0, 0, 0, 1] != layer(np.zeros_like(x), training=False).numpy()[0, 0, 0, 1]


def test_keras_file_round_trip_without_custom_objects(tmp_path):
    inputs = keras.Input((6, 6, 3))
    model = keras.Model(inputs, FactorizedReduce(8)(inputs))
    x = np.random.default_rng(0).normal(size=(3, 6, 6, 3)).astype("float32")
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("kind, kernel_size, weights", [("conv", 3, ["kernel"]), ("depthwise", (3, 1), ["kernel"]),
                                                        ("separable", 5, ["depthwise_kernel", "pointwise_kernel"])])
def test_strided_conv_takes_the_stride_per_call_and_round_trips(kind, kernel_size, weights, tmp_path):
    layer = StridedConv(6, kernel_size, kind=kind, name="conv")
    inputs = keras.Input((7, 7, 6))
    model = keras.Model(inputs, [layer(inputs), layer(inputs, strides=2)])
    assert [tuple(out.shape) for out in model.outputs] == [(None, 7, 7, 6), (None, 4, 4, 6)]
    assert [v.path.split("/")[-1] for v in layer.weights] == weights
    assert StridedConv.from_config(layer.get_config()).get_config() == layer.get_config()
    x = np.random.default_rng(0).normal(size=(2, 7, 7, 6)).astype("float32")
    path = tmp_path / "model.keras"
    model.save(path)
    for got, expected in zip(keras.saving.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("shape", [(5, 6, 4), (9, 4)])
def test_fused_batch_norm_computes_what_keras_batch_normalization_does(shape, tmp_path):
    """Same normalisation in training and inference, same weights; the moving variance follows the
    unbiased batch variance (Keras's the biased one); 1-D maps too; a .keras file round-trips."""
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(8, *shape)).astype("float32")
    fused, reference = FusedBatchNorm(momentum=0.5), keras.layers.BatchNormalization(momentum=0.5)
    np.testing.assert_allclose(fused(x, training=True), reference(x, training=True), atol=1e-4)
    assert [v.path.split("/")[-1] for v in fused.weights] == [v.path.split("/")[-1] for v in reference.weights]
    count = x.size // shape[-1]
    np.testing.assert_allclose(fused.moving_mean, reference.moving_mean, atol=1e-5)
    np.testing.assert_allclose(fused.moving_variance,
                               0.5 + 0.5 * x.reshape(-1, shape[-1]).var(axis=0) * count / (count - 1), rtol=1e-4)
    fused.moving_variance.assign(reference.moving_variance)
    np.testing.assert_allclose(fused(x, training=False), reference(x, training=False), atol=1e-4)
    inputs = keras.Input(shape)
    model = keras.Model(inputs, FusedBatchNorm(name="bn")(inputs))
    model.save(tmp_path / "model.keras")
    np.testing.assert_allclose(keras.saving.load_model(tmp_path / "model.keras").predict(x, verbose=0),
                               model.predict(x, verbose=0), atol=1e-6)


def test_cell_networks_fuse_their_batch_norm_and_synchronise_it_under_a_strategy():
    assert isinstance(batch_norm("bn", 0.9), FusedBatchNorm)
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        layer = batch_norm("bn", 0.9)
    assert type(layer) is keras.layers.BatchNormalization and layer.synchronized
