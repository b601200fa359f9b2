"""First-order DARTS on the supernet: the relaxation computes children exactly at one-hot weights,
the steps are traced once and do what they claim, discretisation and the collapse cap pick what
they should, and a search is reproducible and stays within its epochs and deadline."""
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import autonas  # noqa: F401  (registers the custom layers)
from autonas.engine.budget import Deadline
from autonas.oneshot import ArchitectureEncoding, DartsSearch, Supernet
from autonas.oneshot.darts.architecture import ArchitectureParameters, choose_inputs, discretize, one_hot_weights
from autonas.oneshot.darts.steps import DartsSteps, architecture_optimizer
from autonas.oneshot.parameter_free import parameter_free_share
from autonas.oneshot.supernet.supercell import expected_unused, unused_blocks
from autonas.space import CellHyperModel, CellSearchSpace, NetworkSize
from supernet_inputs import pixel_inputs

OPERATIONS = ["conv_3x3", "max_pool_3x3", "identity"]
SIZE = NetworkSize(filters=4, reductions=1, dropout=0.0)  # normal, reduce, normal: quick to trace
ONE_CELL = NetworkSize(filters=4, reductions=0, dropout=0.0)  # for whole searches: quicker still
VOCABULARY = ["the", "cat", "sat", "on", "mat", "dog", "ran", "far"]
EPOCH_KEYS = {"epoch", "steps", "train_loss", "valid_loss", "valid_accuracy", "seconds", "genotype",
              "parameter_free_share", "parameter_free_share_uncapped", "parameter_free_weight"}


def text_inputs():
    inputs = keras.Input((), dtype="string", name="text")
    tokens = layers.TextVectorization(vocabulary=VOCABULARY, output_sequence_length=8, name="tokenize")(inputs)
    return inputs, layers.Embedding(len(VOCABULARY) + 2, 4, name="embed")(tokens)


def image_space(num_blocks=2, reduction_cell=True):
    return CellSearchSpace(OPERATIONS, num_blocks=num_blocks, rank=2, reduction_cell=reduction_cell)


@pytest.fixture(scope="module")
def shared():
    """Supernets for the module (their traced edge functions are reused), with their first weights:
    one with a reduction cell, and a one-cell one for whole searches."""
    supernets = {"reducing": Supernet(image_space(), inputs_builder=pixel_inputs, num_classes=2, size=SIZE),
                 "one_cell": Supernet(image_space(reduction_cell=False), inputs_builder=pixel_inputs,
                                      num_classes=2, size=ONE_CELL)}
    return {name: (supernet, supernet.get_weights()) for name, supernet in supernets.items()}


@pytest.fixture
def supernet(shared):
    """The supernet with a reduction cell, its first weights restored."""
    supernet, initial = shared["reducing"]
    supernet.set_weights(initial)
    return supernet


@pytest.fixture
def small(shared):
    """The one-cell supernet, its first weights restored."""
    supernet, initial = shared["one_cell"]
    supernet.set_weights(initial)
    return supernet


def toy_images(rng, count):
    """Two separable classes: bright left half or bright right half, with noise."""
    labels = rng.integers(0, 2, size=count)
    images = rng.integers(0, 60, size=(count, 8, 8))
    for image, label in zip(images, labels):
        image[:, 4 * label:4 * label + 4] += 180
    return images.astype("uint8"), labels.astype("int32")


def batches(x, y, batch_size):
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)


def randomize(supernet, rng):
    """Random float weights and batch-norm statistics, so equal outputs mean equal functions."""
    for weight in supernet.weights:
        if "float" in str(weight.dtype):
            positive = "variance" in weight.path or weight.path.endswith("state")  # edge states hold variances
            scale = 0.05 if weight.path.startswith("probabilities") else 0.5  # keep the softmax unsaturated
            weight.assign(rng.uniform(0.5, 1.5, weight.shape) if positive else rng.normal(0.0, scale, weight.shape))


def new_steps(supernet, seed=0, arch_learning_rate=3e-4):
    parameters = ArchitectureParameters(supernet.space, np.random.default_rng(seed))
    return DartsSteps(supernet, parameters, optimizer=keras.optimizers.SGD(0.05),
                      arch_optimizer=architecture_optimizer(arch_learning_rate), arch_weight_decay=1e-3)


def test_one_hot_relaxation_computes_the_child_and_updates_its_statistics(supernet):
    rng = np.random.default_rng(0)
    randomize(supernet, rng)
    weights = supernet.get_weights()
    x = rng.integers(0, 256, size=(6, 8, 8)).astype("uint8")
    steps = new_steps(supernet)
    for _ in range(3):
        architecture = supernet.encoding.sample(rng)
        input_weights, op_weights = one_hot_weights(supernet.space, architecture)
        expected = supernet(x, architecture).numpy()
        assert expected.min() > 0.02, "saturated outputs would make the comparison vacuous"
        np.testing.assert_allclose(supernet.relax(x, input_weights, op_weights).numpy(), expected, atol=1e-5)
        # Compiled scoring uses batch statistics and leaves the moving ones as they were.
        scored = steps.predict(x, input_weights, op_weights)
        for before, after in zip(weights, supernet.get_weights()):
            np.testing.assert_array_equal(before, after)
        np.testing.assert_allclose(scored, supernet(x, architecture, batch_statistics=True).numpy(), atol=1e-5)
        # Training mode: same output, and the chosen operations' moving statistics move alike.
        supernet.set_weights(weights)
        relaxed = supernet.relax(x, input_weights, op_weights, training=True).numpy()
        relaxed_after = supernet(x, architecture).numpy()
        supernet.set_weights(weights)
        np.testing.assert_allclose(relaxed, supernet(x, architecture, training=True).numpy(), atol=1e-5)
        np.testing.assert_allclose(relaxed_after, supernet(x, architecture).numpy(), atol=1e-5)
        assert relaxed_after.min() > 0.02 and np.abs(relaxed_after - expected).max() > 1e-3  # statistics moved
        supernet.set_weights(weights)


def test_expected_unused_blocks_are_the_child_mask_at_one_hot_weights():
    space = image_space(num_blocks=4)
    encoding = ArchitectureEncoding(space)
    rng = np.random.default_rng(1)
    for _ in range(10):
        vector = encoding.sample(rng)
        input_weights, _ = one_hot_weights(space, vector)
        for cell_type in space.cell_types:
            np.testing.assert_array_equal(expected_unused(input_weights[cell_type], 4).numpy(),
                                          unused_blocks(vector[encoding.cell_slice(cell_type)], 4).numpy())


def test_architecture_steps_change_only_the_logits_and_lower_the_validation_loss(supernet):
    rng = np.random.default_rng(2)
    x, y = toy_images(rng, 32)
    steps = new_steps(supernet, arch_learning_rate=0.05)
    logits = steps.parameters.get_values()
    weights = [w.numpy() for w in supernet.trainable_weights]
    losses = [steps.architecture_step(x, y) for _ in range(15)]
    assert losses[-1] < 0.9 * losses[0]
    changed = steps.parameters.get_values()
    for kind in ("input", "op"):
        for cell_type in supernet.space.cell_types:
            assert np.abs(changed[kind][cell_type] - logits[kind][cell_type]).max() > 0.1
    for before, after in zip(weights, supernet.trainable_weights):
        np.testing.assert_array_equal(before, after.numpy())


def test_weight_steps_train_the_supernet_and_every_step_is_traced_once(supernet):
    rng = np.random.default_rng(3)
    x, y = toy_images(rng, 40)
    steps = new_steps(supernet)
    logits = steps.parameters.get_values()
    losses = [steps.weight_step(x[:32], y[:32]) for _ in range(10)]
    assert losses[-1] < 0.7 * losses[0]
    for size in (32, 8):  # a short last batch must not retrace either
        steps.architecture_step(x[:size], y[:size])
        steps.weight_step(x[:size], y[:size])
    for seed in range(3):
        steps.predict(x[:5], *one_hot_weights(supernet.space, supernet.encoding.sample(np.random.default_rng(seed))))
    assert steps.tracing_counts == {"architecture": 1, "weights": 1, "predict": 1}
    assert steps.parameters.get_values()["op"]["normal"].tolist() != logits["op"]["normal"].tolist()


def probabilities(shape, rng):
    values = rng.uniform(0.0, 1.0, shape)
    return values / values.sum(axis=-1, keepdims=True)


def test_discretize_picks_the_argmax_and_distinct_inputs():
    space = image_space(num_blocks=3)
    rng = np.random.default_rng(4)
    input_probabilities, op_probabilities = {}, {}
    for cell_type in space.cell_types:
        inputs = np.zeros((3, 2, 4))
        inputs[:, :, :] = 0.01
        inputs[0, :, :2] = [[0.9, 0.1], [0.2, 0.8]]        # distinct argmaxes: 0 and 1
        inputs[1, :, :3] = [[0.1, 0.2, 0.7], [0.1, 0.3, 0.6]]  # both prefer 2; b's runner-up (1) is likelier
        inputs[2, :, :4] = [[0.1, 0.1, 0.1, 0.7], [0.7, 0.1, 0.1, 0.1]]
        input_probabilities[cell_type] = inputs
        op_probabilities[cell_type] = probabilities((3, 2, 3), rng)
    vector = discretize(space, input_probabilities, op_probabilities)
    genotype = ArchitectureEncoding(space).decode(vector)
    for cell_type, cell in genotype.cells.items():
        assert [(b.input_a, b.input_b) for b in cell.blocks] == [(0, 1), (2, 1), (3, 0)]
        assert [space.operations.index(op) for op in cell.operations] == \
            np.argmax(op_probabilities[cell_type], axis=-1).reshape(-1).tolist()
    assert choose_inputs(input_probabilities["normal"]).tolist() == [[0, 1], [2, 1], [3, 0]]
    model = CellHyperModel(space, inputs_builder=pixel_inputs, num_classes=2, size=SIZE).build_genotype(genotype)
    assert model.output_shape == (None, 2)


def test_the_cap_keeps_the_most_confident_parameter_free_operations():
    """Logits that favour identity and pooling: the cap leaves the most confident of them."""
    space = image_space(num_blocks=2)
    ops = {cell_type: np.array([[[0.1, 0.3, 0.6], [0.2, 0.7, 0.1]],   # identity 0.6, max_pool 0.7
                                [[0.3, 0.1, 0.6], [0.25, 0.05, 0.7]]])  # identity 0.6 over conv 0.3; 0.7 / 0.25
           for cell_type in space.cell_types}
    parameters = ArchitectureParameters(space, np.random.default_rng(0))
    parameters.set_values({"input": {cell_type: np.zeros((2, 2, 3), "float32") for cell_type in space.cell_types},
                           "op": {cell_type: np.log(value).astype("float32") for cell_type, value in ops.items()}})
    inputs, probabilities = parameters.probabilities()  # logits favouring identity and pooling
    np.testing.assert_allclose(probabilities["normal"], ops["normal"], rtol=1e-5)
    np.testing.assert_allclose(inputs["normal"][0], [[0.5, 0.5, 0.0]] * 2)  # block 0 cannot read state 2
    encoding = ArchitectureEncoding(space)
    plain = encoding.decode(discretize(space, inputs, probabilities))
    assert plain.normal.operations == ("identity", "max_pool_3x3", "identity", "identity")
    capped = encoding.decode(discretize(space, inputs, probabilities, max_parameter_free=1))
    # Log-ratios to the best conv: 0.6/0.1, 0.7/0.2, 0.6/0.3, 0.7/0.25: only the first keeps its op.
    assert capped.normal.operations == ("identity", "conv_3x3", "conv_3x3", "conv_3x3")
    assert capped.reduce.operations == plain.reduce.operations  # the cap is for the normal cell
    assert parameter_free_share(capped, ["normal"]) == 0.25
    none = encoding.decode(discretize(space, inputs, probabilities, max_parameter_free=0))
    assert none.normal.operations == ("conv_3x3",) * 4


@pytest.fixture(scope="module")
def toy_data():
    rng = np.random.default_rng(5)
    x, y = toy_images(rng, 96)
    return batches(x[:64], y[:64], 16), batches(x[64:], y[64:], 16)


def test_search_returns_a_scored_buildable_architecture_within_max_epochs(small, toy_data):
    train, validation = toy_data
    supernet = small
    records = []
    search = DartsSearch(supernet, learning_rate=0.05, arch_learning_rate=0.01, max_parameter_free=0, seed=0)
    result = search.search(train, validation, deadline=Deadline(None), max_epochs=2, on_epoch=records.append)
    assert result.method == "darts" and result.epochs == 2 and len(result.history) == 2
    assert [record["epoch"] for record in records] == [1, 2] and EPOCH_KEYS <= set(records[0])
    assert all(record["steps"] == 4 for record in records)
    best = result.best
    assert best.origin == "argmax" and best.genotype.normal.operations == ("conv_3x3",) * 4
    assert records[-1]["genotype"] == str(best.genotype)
    assert records[-1]["parameter_free_share"] == parameter_free_share(best.genotype)
    vector = supernet.encoding.encode(best.genotype)
    weights, correct = supernet.get_weights(), 0
    for x, y in validation.as_numpy_iterator():  # batch statistics: the same batches as the search
        probabilities = search.steps_.predict(x, *one_hot_weights(supernet.space, vector))
        correct += np.sum(np.argmax(probabilities, axis=-1) == y)
        expected = supernet(x, vector, batch_statistics=True).numpy()  # the child, scored as ENAS scores
        supernet.set_weights(weights)
        np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    assert best.score == correct / 32
    assert result.seconds > 0 and result.peak_memory_mb > 0
    assert search.tracing_counts == {"architecture": 1, "weights": 1, "predict": 1}
    CellHyperModel(supernet.space, inputs_builder=pixel_inputs, num_classes=2, size=ONE_CELL).build_genotype(
        best.genotype)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_search_stops_mid_epoch_at_the_deadline(small):
    clock = FakeClock()
    rng = np.random.default_rng(6)
    x, y = toy_images(rng, 80)

    class Train:  # the clock passes the deadline while the third batch is fetched (no prefetching)
        def __iter__(self):
            for index in range(4):
                if index == 2:
                    clock.now = 100.0
                yield x[16 * index:16 * index + 16], y[16 * index:16 * index + 16]

    result = DartsSearch(small, seed=0).search(Train(), batches(x[64:], y[64:], 16),
                                                          deadline=Deadline(50.0, clock=clock), max_epochs=5)
    assert result.epochs == 1 and result.history[0]["steps"] == 2 and result.history[0]["stopped"]


def test_search_starts_no_epoch_the_deadline_cannot_fit(small, toy_data):
    train, validation = toy_data
    clock = FakeClock()

    def advance(record):
        clock.now += 60.0

    result = DartsSearch(small, seed=0).search(
        train, validation, deadline=Deadline(100.0, clock=clock), max_epochs=5, on_epoch=advance)
    assert result.epochs == 2 and not any(record["stopped"] for record in result.history)


def test_a_seed_reproduces_the_search(small, toy_data):
    train, validation = toy_data
    initial = small.get_weights()
    results = []
    for seed in (7, 7, 8):
        small.set_weights(initial)
        search = DartsSearch(small, arch_learning_rate=0.01, seed=seed)
        result = search.search(train, validation, max_epochs=2)
        results.append((result, search.parameters_.get_values()))
    (same, same_logits), (again, again_logits), (other, other_logits) = results
    # The architectures are the seed's exactly: each epoch's and the derived one.
    assert [r["genotype"] for r in same.history] == [r["genotype"] for r in again.history]
    assert same.best.genotype == again.best.genotype and same.best.score == again.best.score
    # The numbers agree to float32 rounding, not bit for bit: with 2 threads and the graph
    # optimizer off, TensorFlow's CPU kernels varied in the last bit (3 distinct loss sets in 8
    # runs; 1 in 10 with one intra- or inter-op thread, 1 in 8 with op determinism enabled).
    # A different seed moves them by far more than the tolerance.
    for key in ("train_loss", "valid_loss"):
        np.testing.assert_allclose([r[key] for r in same.history], [r[key] for r in again.history], rtol=1e-6)
    for kind, cell_type in itertools.product(("input", "op"), ("normal",)):
        np.testing.assert_allclose(same_logits[kind][cell_type], again_logits[kind][cell_type], rtol=1e-5, atol=1e-7)
    assert not np.allclose(same_logits["op"]["normal"], other_logits["op"]["normal"], rtol=1e-3)


def test_a_text_supernet_searches_and_derives_a_buildable_genotype():
    space = CellSearchSpace(["conv_3", "max_pool_3", "identity"], num_blocks=2, rank=1, reduction_cell=False)
    supernet = Supernet(space, inputs_builder=text_inputs, num_classes=2, size=NetworkSize(filters=4, dropout=0.0))
    rng = np.random.default_rng(9)
    texts = [" ".join(rng.choice(VOCABULARY, size=rng.integers(2, 8))) for _ in range(48)]
    labels = np.array(["cat" in text for text in texts], "int32")
    data = tf.data.Dataset.from_tensor_slices((texts, labels)).batch(16)
    search = DartsSearch(supernet, seed=0)
    result = search.search(data, data, max_epochs=1)
    genotype = result.best.genotype
    assert genotype.reduce is None and result.history[0]["steps"] == 3
    x = tf.constant(texts[:6])
    vector = supernet.encoding.encode(genotype)
    np.testing.assert_allclose(search.steps_.predict(x, *one_hot_weights(space, vector)),
                               supernet(x, vector, batch_statistics=True).numpy(), atol=1e-5)
    model = CellHyperModel(space, inputs_builder=text_inputs, num_classes=2, size=supernet.size).build_genotype(
        genotype)
    assert model.predict(x, verbose=0).shape == (6, 2)
