import keras
import numpy as np
import pytest

import autonas  # noqa: F401  (registers the custom layers)
from autonas.space import PUBLISHED_CELLS, NetworkSize, build_classifier
from autonas.space.network import default_reductions, stem_downsamplings


@pytest.mark.parametrize("spatial, expected", [((8, 8), 2), ((32, 32), 2), ((4, 4), 1), ((2, 7), 0), ((28, 5), 1)])
def test_reductions_keep_every_side_at_least_two_long(spatial, expected):
    assert default_reductions(spatial) == expected


@pytest.mark.parametrize("length, expected", [(8, 0), (16, 0), (32, 0), (63, 0), (64, 1), (127, 1), (128, 2),
                                              (256, 2)])
def test_sequences_keep_at_least_32_positions(length, expected):
    assert default_reductions((length,)) == expected


@pytest.mark.parametrize("name", sorted(PUBLISHED_CELLS))
def test_published_cells_build_and_predict(name):
    inputs = keras.Input((8, 8, 3))
    model = build_classifier(PUBLISHED_CELLS[name], inputs=inputs, features=inputs, num_classes=5,
                             size=NetworkSize(filters=8))
    probabilities = model.predict(np.random.default_rng(0).normal(size=(4, 8, 8, 3)), verbose=0)
    assert probabilities.shape == (4, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_reduction_cells_double_filters_and_halve_space():
    inputs = keras.Input((8, 8, 1))
    model = build_classifier(PUBLISHED_CELLS["enas"], inputs=inputs, features=inputs, num_classes=3,
                             size=NetworkSize(filters=4, normal_cells=1))
    # ENAS's reduction cell concatenates 3 states; filters double per reduction: 4 -> 8 -> 16.
    assert model.get_layer("reduce1_concat").output.shape == (None, 4, 4, 3 * 8)
    assert model.get_layer("reduce2_concat").output.shape == (None, 2, 2, 3 * 16)


def test_larger_size_has_more_parameters():
    def params(size):
        inputs = keras.Input((8, 8, 1))
        return build_classifier(PUBLISHED_CELLS["darts_v2"], inputs=inputs, features=inputs, num_classes=3,
                                size=size).count_params()

    assert params(NetworkSize(filters=16, normal_cells=2)) > params(NetworkSize(filters=8, normal_cells=1))


def test_published_cell_model_round_trips_through_keras_file(tmp_path):
    inputs = keras.Input((8, 8, 1))
    model = build_classifier(PUBLISHED_CELLS["nasnet_a"], inputs=inputs, features=inputs, num_classes=4,
                             size=NetworkSize(filters=4))
    path = tmp_path / "nasnet.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    x = np.random.default_rng(1).normal(size=(3, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("kwargs", [dict(filters=1), dict(normal_cells=0), dict(reductions=-1), dict(dropout=1.0)])
def test_invalid_sizes_are_rejected(kwargs):
    with pytest.raises(ValueError):
        NetworkSize(**kwargs)


def test_a_genotype_without_reduction_cell_builds_only_without_reductions():
    genotype = autonas.Genotype(normal=autonas.Cell.from_blocks([autonas.Block(0, "conv_3", 1, "identity")]))
    short = keras.Input((16, 8))  # 16 positions: no reductions by default
    model = build_classifier(genotype, inputs=short, features=short, num_classes=3, size=NetworkSize(filters=4))
    assert not [layer for layer in model.layers if layer.name.startswith("reduce")]
    long = keras.Input((128, 8))  # 128 positions: two reductions
    with pytest.raises(ValueError, match="no reduction cell"):
        build_classifier(genotype, inputs=long, features=long, num_classes=3, size=NetworkSize(filters=4))


@pytest.mark.parametrize("spatial, expected", [((8, 8), 0), ((16, 16), 0), ((17, 40), 1), ((28, 28), 1),
                                               ((32, 32), 1), ((64, 48), 2), ((224, 224), 4), ((300,), 0)])
def test_stem_downsamples_images_to_at_most_16_pixels_a_side(spatial, expected):
    assert stem_downsamplings(spatial) == expected
    assert stem_downsamplings(spatial, NetworkSize(stem_downsamplings=3)) == 3


def test_downsampling_stem_halves_each_side_before_the_cells():
    inputs = keras.Input((28, 28, 1))
    model = build_classifier(PUBLISHED_CELLS["darts_v2"], inputs=inputs, features=inputs, num_classes=3,
                             size=NetworkSize(filters=4))
    assert model.get_layer("stem_bn").output.shape == (None, 14, 14, 8)
    # then two reductions, as on 14x14 images: 14 -> 7 -> 4
    assert model.get_layer("reduce2_concat").output.shape[1:3] == (4, 4)
    at_full_size = build_classifier(PUBLISHED_CELLS["darts_v2"], inputs=inputs, features=inputs, num_classes=3,
                                    size=NetworkSize(filters=4, stem_downsamplings=0))
    assert at_full_size.get_layer("stem_bn").output.shape == (None, 28, 28, 8)
