"""FLOPs and latency of a model's inference function (`autonas.engine.costs`)."""
import math

import keras
import numpy as np
import pytest

from autonas.data import images as image_data
from autonas.data.text import spec_from_texts
from autonas.engine.costs import count_flops, latency_ms
from autonas.space.network import NetworkSize, build_classifier
from autonas.space.published import PUBLISHED_CELLS


def test_flops_of_layers_with_known_counts():
    dense = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])
    assert count_flops(dense) == 2 * 784 * 10 + 10
    conv = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, padding="same", use_bias=False)])
    assert count_flops(conv) == 2 * 8 * 8 * 3 * 3 * 3 * 4


def _image_network(filters):
    spec = image_data.spec_from_array(np.zeros((2, 16, 16, 3), dtype="uint8"))
    inputs, features = spec.build_inputs()
    return build_classifier(PUBLISHED_CELLS["darts_v2"], inputs=inputs, features=features, num_classes=10,
                            size=NetworkSize(filters=filters))


def test_a_cell_network_costs_more_with_more_filters():
    narrow, wide = count_flops(_image_network(8)), count_flops(_image_network(16))
    assert narrow > 0
    assert 2.5 < wide / narrow < 4.5  # convolutions grow with filters squared, the rest linearly


def test_a_text_model_is_counted_from_its_token_ids_and_timed_on_strings():
    texts = np.array(["what is a cell", "how many trials ran", "who wrote the search"] * 4, dtype=object)
    spec = spec_from_texts(texts, max_vocabulary=50, sequence_length=8, embedding_dim=4)
    inputs, features = spec.build_inputs()
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling1D()(features)))
    # average over 8 positions of 4 channels, then a 4 x 3 product and 3 biases
    assert count_flops(model) >= 2 * 4 * 3 + 3
    assert 0 < latency_ms(model, texts[:3], batch_size=5, repeats=3) < math.inf


@pytest.mark.parametrize("batch_size", [1, 7])
def test_latency_is_a_positive_median(batch_size):
    model = _image_network(8)
    samples = np.random.default_rng(0).integers(0, 255, (3, 16, 16, 3)).astype("uint8")
    assert 0 < latency_ms(model, samples, batch_size=batch_size, repeats=3, warmup=1) < math.inf
