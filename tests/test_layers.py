import keras
import numpy as np
import pytest

import autonas  # noqa: F401  (registers the custom layers)
from autonas.layers import FactorizedReduce, StridedConv


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
