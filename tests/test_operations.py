import keras
import numpy as np
import pytest
import tensorflow as tf

import autonas  # noqa: F401  (registers the custom layers)
from autonas.space.cell_builder import build_cell
from autonas.space.genotype import Block, Cell
from autonas.space.operations import OPERATIONS, make_operation, operations_for_rank

NASNET_OPERATIONS = ["identity", "conv_1x3_3x1", "conv_1x7_7x1", "dil_conv_3x3", "avg_pool_3x3", "max_pool_3x3",
                     "max_pool_5x5", "max_pool_7x7", "conv_1x1", "conv_3x3", "sep_conv_3x3", "sep_conv_5x5",
                     "sep_conv_7x7"]


def test_registry_holds_the_nasnet_operation_list():
    assert set(NASNET_OPERATIONS) <= set(operations_for_rank(2))


def _cell_model(op, *, shape, reduction):
    """One cell whose single block applies `op` to both cell inputs."""
    older = keras.Input(shape)
    newer = keras.Input(shape)
    cell = Cell(blocks=(Block(0, op, 1, op),), concat=(0, 2))
    out = build_cell(older, newer, cell, filters=6, reduction=reduction, older_is_larger=False, name="cell")
    return keras.Model([older, newer], out)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("reduction", [False, True], ids=["normal", "reduce"])
@pytest.mark.parametrize("op", NASNET_OPERATIONS)
def test_every_image_operation_builds_and_runs(op, reduction, channels):
    model = _cell_model(op, shape=(7, 7, channels), reduction=reduction)
    x = np.random.default_rng(0).normal(size=(2, 7, 7, channels)).astype("float32")
    out = model([x, x]).numpy()
    side = 4 if reduction else 7
    assert out.shape == (2, side, side, 12)  # two concatenated states of 6 filters
    assert np.all(np.isfinite(out))
    if OPERATIONS[op].has_weights:
        assert any(layer.name.startswith("cell_b0a") and layer.weights for layer in model.layers)


@pytest.mark.parametrize("reduction", [False, True], ids=["normal", "reduce"])
@pytest.mark.parametrize("op", operations_for_rank(1))
def test_every_sequence_operation_builds_and_runs(op, reduction):
    model = _cell_model(op, shape=(9, 5), reduction=reduction)
    x = np.random.default_rng(0).normal(size=(2, 9, 5)).astype("float32")
    out = model([x, x]).numpy()
    assert out.shape == (2, 5 if reduction else 9, 12)
    assert np.all(np.isfinite(out))


def _rank_shape(op):
    return (6, 6, 4) if 2 in OPERATIONS[op].ranks else (9, 4)


@pytest.mark.parametrize("op", list(OPERATIONS))
def test_operation_layers_round_trip_through_keras_file(op, tmp_path):
    """Every operation's layer, at both strides, reloads with `import autonas` alone."""
    inputs = keras.Input(_rank_shape(op))
    layer = make_operation(op, filters=4, reduces=True, name="edge")
    model = keras.Model(inputs, [layer(inputs, strides=1), layer(inputs, strides=2)])
    x = np.random.default_rng(0).normal(size=(2, *_rank_shape(op))).astype("float32")
    path = tmp_path / "op.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    for got, expected in zip(reloaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_allclose(got, expected, atol=1e-6)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def _batch_norms(layer):
    """The BatchNormalization layers inside `layer`, found through its attributes."""
    found = []
    for value in vars(layer).values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, keras.layers.BatchNormalization):
                found.append(item)
            elif isinstance(item, keras.layers.Layer):
                found.extend(_batch_norms(item))
    return found


@pytest.mark.parametrize("op", ["sep_conv_3x3", "identity", "conv_3"])
def test_operation_layers_synchronise_batch_norm_under_a_strategy(op):
    """Replicas of a child share batch-norm statistics (see `batch_norm`); the supernet is built outside."""
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        norms = _batch_norms(make_operation(op, filters=4, reduces=True, name="edge"))
    assert norms and all(norm.synchronized for norm in norms)
    assert not any(norm.synchronized for norm in _batch_norms(make_operation(op, filters=4, reduces=True, name="edge")))
