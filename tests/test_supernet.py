"""The one-shot supernet: it computes exactly the children it holds, trains only the chosen
operations, and never retraces when the architecture changes."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import autonas  # noqa: F401  (registers the custom layers)
from autonas.oneshot import ArchitectureEncoding, Supernet, SupernetTrainer
from autonas.oneshot.supernet.supercell import unused_blocks
from autonas.testing.supernet import candidate_weights as edge_candidate_weights
from autonas.testing.supernet import load_child_weights, mix, one_hot_mix_weights, predict
from autonas.space import IMAGE_OPERATIONS, Block, Cell, CellSearchSpace, Genotype, NetworkSize, build_classifier
from autonas.space.operations import operations_for_rank
from supernet_inputs import pixel_inputs, pixel_inputs_20

TOLERANCE = 1e-5
VOCABULARY = ["the", "cat", "sat", "on", "mat", "dog", "ran", "far", "a", "big", "red", "ball"]
SEQUENCE_OPERATIONS = ["conv_3", "sep_conv_5", "dil_conv_3", "max_pool_3", "avg_pool_3", "identity", "bigru",
                       "self_attention"]
TINY_OPERATIONS = ["conv_3", "max_pool_3", "identity"]


def text_inputs():
    inputs = keras.Input((), dtype="string", name="text")
    tokens = layers.TextVectorization(vocabulary=VOCABULARY, output_sequence_length=16, name="tokenize")(inputs)
    return inputs, layers.Embedding(len(VOCABULARY) + 2, 8, name="embed")(tokens)


def long_sequence_inputs():
    inputs = keras.Input((64, 3), name="sequence")
    return inputs, inputs


def short_sequence_inputs():
    inputs = keras.Input((16, 4), name="sequence")
    return inputs, inputs


def random_texts(rng, count):
    return tf.constant([" ".join(rng.choice(VOCABULARY, size=rng.integers(3, 20))) for _ in range(count)])


def randomize(model, rng):
    """Give every float weight a random value, so equal outputs mean equal functions."""
    for weight in model.weights:
        if "float" not in str(weight.dtype):
            continue
        if "variance" in weight.path:
            value = rng.uniform(0.5, 1.5, weight.shape)
        else:
            value = rng.normal(0.0, 0.1 if weight.path.startswith("probabilities") else 0.4, weight.shape)
        weight.assign(value.astype("float32"))


def covering_architectures(encoding, rng, count):
    """Random architectures whose operation entries, together, name every operation."""
    op_entries = [i for i, name in enumerate(encoding.names) if "_op_" in name]
    num_ops = len(encoding.space.operations)
    for trial in range(count):
        vector = encoding.sample(rng)
        for position, entry in enumerate(op_entries):
            vector[entry] = (trial * len(op_entries) + position) % num_ops
        yield vector


def build_child(genotype, inputs_builder, size, rng):
    inputs, features = inputs_builder()
    child = build_classifier(genotype, inputs=inputs, features=features, num_classes=3, size=size)
    randomize(child, rng)
    return child


def assert_close(actual, expected, what):
    assert np.std(expected) > 1e-3, "random weights saturated the softmax; the comparison would be vacuous"
    assert np.abs(np.asarray(actual) - np.asarray(expected)).max() <= TOLERANCE, what


def assert_computes_children(space, inputs_builder, size, x, seed, count=3, compiled=False):
    """Load random children into a supernet; eager (and compiled) inference must match them."""
    supernet = Supernet(space, inputs_builder=inputs_builder, num_classes=3, size=size)
    trainer = SupernetTrainer(supernet) if compiled else None
    rng = np.random.default_rng(seed)
    for vector in covering_architectures(supernet.encoding, rng, count):
        genotype = ArchitectureEncoding(space).decode(vector)
        child = build_child(genotype, inputs_builder, size, rng)
        architecture = load_child_weights(supernet, child, genotype)
        np.testing.assert_array_equal(architecture, vector)
        expected = child.predict(x, verbose=0)
        assert_close(supernet(x, architecture, training=False), expected, f"eager: {genotype}")
        if compiled:
            assert_close(predict(trainer, x, architecture), expected, f"compiled: {genotype}")
    return supernet


def test_supernet_computes_image_children_with_reduction_cells():
    space = CellSearchSpace(IMAGE_OPERATIONS, num_blocks=2, rank=2)
    x = np.random.default_rng(0).integers(0, 256, size=(6, 8, 8)).astype("uint8")
    supernet = assert_computes_children(space, pixel_inputs, NetworkSize(filters=4), x, seed=1)
    assert [p.cell_type for p in supernet.placements] == ["normal", "reduce", "normal", "reduce", "normal"]


def test_supernet_computes_children_behind_a_downsampling_stem():
    space = CellSearchSpace(["conv_3x3", "sep_conv_3x3", "max_pool_3x3", "identity"], num_blocks=2, rank=2)
    x = np.random.default_rng(6).integers(0, 256, size=(4, 20, 20)).astype("uint8")
    supernet = assert_computes_children(space, pixel_inputs_20, NetworkSize(filters=4), x, seed=7, compiled=True)
    assert [layer.name for layer in supernet.stem][:3] == ["stem_down0_conv", "stem_down0_bn", "stem_down0_relu"]


def test_supernet_computes_text_children_without_reduction_cell():
    space = CellSearchSpace(operations_for_rank(1), num_blocks=2, rank=1, reduction_cell=False)
    x = random_texts(np.random.default_rng(2), 6)
    supernet = assert_computes_children(space, text_inputs, NetworkSize(filters=8), x, seed=3, count=4,
                                        compiled=True)
    assert [p.cell_type for p in supernet.placements] == ["normal"]


def test_supernet_computes_sequence_children_with_a_reduction_cell():
    space = CellSearchSpace(SEQUENCE_OPERATIONS, num_blocks=2, rank=1, reduction_cell=True)
    x = np.random.default_rng(4).normal(size=(5, 64, 3)).astype("float32")
    supernet = assert_computes_children(space, long_sequence_inputs, NetworkSize(filters=8), x, seed=5,
                                        compiled=True)
    assert [p.cell_type for p in supernet.placements] == ["normal", "reduce", "normal"]


def test_compiled_training_forward_matches_the_child_and_updates_the_same_statistics():
    space = CellSearchSpace(["conv_3", "identity", "bigru", "self_attention", "avg_pool_3"], num_blocks=2, rank=1,
                            reduction_cell=True)
    size = NetworkSize(filters=8, dropout=0.0)
    supernet = Supernet(space, inputs_builder=long_sequence_inputs, num_classes=3, size=size)

    @tf.function
    def forward(x, architecture):
        return supernet(x, architecture, training=True)

    rng = np.random.default_rng(12)
    x = rng.normal(size=(5, 64, 3)).astype("float32")
    for vector in covering_architectures(supernet.encoding, rng, 2):
        genotype = ArchitectureEncoding(space).decode(vector)
        child = build_child(genotype, long_sequence_inputs, size, rng)
        architecture = load_child_weights(supernet, child, genotype)
        assert_close(forward(x, architecture), child(x, training=True), f"training: {genotype}")
        # Both batch-norm updates ran once; inference now reads the updated moving statistics.
        assert_close(supernet(x, architecture), child.predict(x, verbose=0), f"updated statistics: {genotype}")
    assert forward.experimental_get_tracing_count() == 1


@pytest.fixture(scope="module")
def tiny():
    """A one-cell 1-D supernet, small enough to trace a train step in seconds."""
    space = CellSearchSpace(TINY_OPERATIONS, num_blocks=2, rank=1, reduction_cell=False)
    supernet = Supernet(space, inputs_builder=short_sequence_inputs, num_classes=3, size=NetworkSize(filters=4))
    rng = np.random.default_rng(6)
    x = rng.normal(size=(8, 16, 4)).astype("float32")
    y = rng.integers(0, 3, size=8)
    return supernet, x, y


def distinct_architectures(encoding, rng, count):
    seen = {}
    while len(seen) < count:
        vector = encoding.sample(rng)
        seen.setdefault(tuple(vector), vector)
    return list(seen.values())


def test_sampling_new_architectures_never_retraces(tiny):
    supernet, x, y = tiny
    trainer = SupernetTrainer(supernet, learning_rate=0.01)
    for architecture in distinct_architectures(supernet.encoding, np.random.default_rng(7), 20):
        assert np.isfinite(trainer.train_step(x, y, architecture))
        for batch_statistics in (True, False):
            batches = [(x[:4], y[:4]), (x[4:], y[4:])]
            assert 0.0 <= trainer.score(architecture, batches, batch_statistics=batch_statistics) <= 1.0
    assert trainer.tracing_counts == {"train": 1, "predict": 1, "score": 1}


def test_scoring_with_batch_statistics_leaves_the_moving_statistics_alone(tiny):
    supernet, x, y = tiny
    trainer = SupernetTrainer(supernet, learning_rate=0.01)
    architecture = supernet.encoding.sample(np.random.default_rng(11))
    trainer.train_step(x, y, architecture)
    before = [v.numpy().copy() for v in supernet.non_trainable_variables]
    expected = supernet(x, architecture, batch_statistics=True).numpy()
    for variable, value in zip(supernet.non_trainable_variables, before):
        variable.assign(value)
    accuracy = trainer.score(architecture, [(x, y)])
    assert all(np.array_equal(v.numpy(), b) for v, b in zip(supernet.non_trainable_variables, before))
    assert accuracy == np.mean(np.argmax(expected, axis=-1) == np.reshape(y, (-1,)))
    # Batch statistics differ from the moving ones right after one step: the modes are not the same.
    assert not np.allclose(expected, supernet(x, architecture, training=False).numpy(), atol=1e-4)


def test_compiled_inference_equals_the_eager_forward_pass(tiny):
    supernet, x, _ = tiny
    trainer = SupernetTrainer(supernet)
    for architecture in distinct_architectures(supernet.encoding, np.random.default_rng(8), 3):
        np.testing.assert_allclose(predict(trainer, x, architecture, batch_size=5),
                                   supernet(x, architecture).numpy(), atol=1e-6)


def used_candidates(supernet, architecture):
    """`{(cell, block, slot): op}` of the operations an architecture runs, with weights in use."""
    genotype = supernet.encoding.decode(architecture)
    used = {}
    for placement, cell in zip(supernet.placements, supernet.cells):
        for block, (spec, edges) in enumerate(zip(getattr(genotype, placement.cell_type).blocks, cell.edges)):
            for slot, ((state, op), edge) in enumerate(zip(spec.pairs(), edges)):
                used[placement.name, block, slot] = (op, edge.input_strides[state])
    return used


def candidate_weights(supernet):
    return {(p.name, block, slot, op): edge_candidate_weights(edge, op)
            for p, cell in zip(supernet.placements, supernet.cells)
            for block, edges in enumerate(cell.edges) for slot, edge in enumerate(edges) for op in edge.operations}


def test_a_train_step_changes_only_the_chosen_operations(tiny):
    supernet, x, y = tiny
    trainer = SupernetTrainer(supernet)  # fresh momentum: only nonzero gradients move weights
    architecture = np.array([1, 0, 0, 0, 2, 0, 1, 2], dtype=np.int32)  # conv_3 on b0a and b1a
    before = candidate_weights(supernet)
    trainer.train_step(x, y, architecture)
    after = candidate_weights(supernet)
    used = used_candidates(supernet, architecture)
    assert {key: op for key, (op, _) in used.items()} == {
        ("stage0_normal0", 0, 0): "conv_3", ("stage0_normal0", 0, 1): "conv_3",
        ("stage0_normal0", 1, 0): "conv_3", ("stage0_normal0", 1, 1): "identity"}
    changed = {key for key in before if any(not np.array_equal(before[key][name], after[key][name])
                                            for name in before[key])}
    assert changed == {key + (op,) for key, (op, _) in used.items() if op == "conv_3"}
    for key in changed:  # both the kernel (gradient) and the moving mean (batch norm ran) moved
        assert all(not np.array_equal(before[key][name], after[key][name]) for name in before[key]
                   if "kernel" in name or "moving_mean" in name)


def test_unchosen_operations_get_zero_gradients(tiny):
    supernet, x, y = tiny
    architecture = np.array([0, 0, 1, 1, 2, 2, 0, 0], dtype=np.int32)
    edges = supernet.cells[0].edges
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(y, supernet(x, architecture, training=True))
    kernels = [edge.kernel for pair in edges for edge in pair]
    gradients = tape.gradient(loss, kernels)
    chosen = {(0, 0): "conv_3", (0, 1): "max_pool_3", (1, 0): "identity", (1, 1): "conv_3"}
    for (block, slot), op in chosen.items():
        edge = edges[block][slot]
        gradient = np.zeros(edge.kernel.shape) if gradients[2 * block + slot] is None \
            else gradients[2 * block + slot].numpy()
        flat, slot_of_kernel = next(iter(edge.candidate_slots("conv_3").values()))
        conv_part = gradient[slot_of_kernel.start:slot_of_kernel.stop]
        assert np.any(conv_part != 0) == (op == "conv_3"), (block, slot, op)


def test_shared_weights_persist_across_steps(tiny):
    supernet, x, y = tiny
    trainer = SupernetTrainer(supernet, optimizer=keras.optimizers.SGD(learning_rate=0.1))
    variables = [id(v) for v in supernet.weights]
    first = np.array([1, 0, 0, 0, 2, 0, 1, 0], dtype=np.int32)  # conv_3 everywhere
    second = np.array([1, 1, 0, 2, 2, 1, 1, 2], dtype=np.int32)  # no conv_3 at all
    initial = candidate_weights(supernet)
    trainer.train_step(x, y, first)
    trained = candidate_weights(supernet)
    trainer.train_step(x, y, second)
    kept = candidate_weights(supernet)
    for key in trained:
        if key[-1] == "conv_3":
            assert any(not np.array_equal(initial[key][n], trained[key][n]) for n in trained[key])
            for name in trained[key]:
                np.testing.assert_array_equal(kept[key][name], trained[key][name])
    assert [id(v) for v in supernet.weights] == variables


def test_mixing_with_one_hot_weights_selects_the_architecture(tiny):
    supernet, x, _ = tiny
    for architecture in distinct_architectures(supernet.encoding, np.random.default_rng(9), 3):
        edge_weights, block_weights = one_hot_mix_weights(supernet, architecture)
        np.testing.assert_allclose(mix(supernet, x, edge_weights, block_weights).numpy(),
                                   supernet(x, architecture).numpy(), atol=1e-6)


def test_unused_block_mask_matches_the_cell_concat():
    space = CellSearchSpace(TINY_OPERATIONS, num_blocks=4, rank=1, reduction_cell=False)
    encoding = ArchitectureEncoding(space)
    rng = np.random.default_rng(10)
    for _ in range(20):
        vector = encoding.sample(rng)
        concat = encoding.decode(vector).normal.concat
        mask = unused_blocks(vector[encoding.cell_slice("normal")], 4).numpy()
        assert [2 + b for b in np.flatnonzero(mask)] == list(concat)


def test_vectors_follow_the_space_declaration_order():
    space = CellSearchSpace(["conv_3x3", "max_pool_3x3", "identity"], num_blocks=2)
    genotype = Genotype(normal=Cell.from_blocks([Block(1, "identity", 0, "conv_3x3"),
                                                 Block(2, "max_pool_3x3", 0, "identity")]),
                        reduce=Cell.from_blocks([Block(0, "conv_3x3", 1, "conv_3x3"),
                                                 Block(1, "identity", 2, "max_pool_3x3")]))
    vector = ArchitectureEncoding(space).encode(genotype)
    values = space.values(genotype)
    names = [hp.name for hp in space.hyperparameters().space]
    assert names == list(ArchitectureEncoding(space).names)
    decoded = [values[name] if "_input_" in name else space.operations.index(values[name]) for name in names]
    assert vector.tolist() == decoded
    assert ArchitectureEncoding(space).decode(vector) == genotype
    rng = np.random.default_rng(11)
    encoding = ArchitectureEncoding(space)
    for _ in range(10):
        vector = encoding.sample(rng)
        np.testing.assert_array_equal(encoding.encode(encoding.decode(vector)), vector)


@pytest.mark.parametrize("vector, message", [
    ([1, 0, 0, 0, 2, 0, 1], "1-D vector of 8 integers"),
    ([[1, 0, 0, 0, 2, 0, 1, 0]], "1-D vector of 8 integers"),
    ([2, 0, 0, 0, 2, 0, 1, 0], r"entry 0 \(normal_b0_input_a\) is 2, but it must be in 0..1"),
    ([1, 0, 0, 0, 2, 3, 1, 0], r"entry 5 \(normal_b1_op_a\) is 3, but it must be in 0..2"),
    ([1, 0, 0, -1, 2, 0, 1, 0], "must be in 0..2"),
    ([1.0, 0, 0, 0, 2, 0, 1, 0], "integer indices"),
])
def test_bad_architecture_vectors_raise_value_errors(tiny, vector, message):
    supernet, x, y = tiny
    with pytest.raises(ValueError, match=message):
        ArchitectureEncoding(supernet.space).decode(vector)
    with pytest.raises(ValueError, match=message):
        supernet(x, np.array(vector))
    with pytest.raises(ValueError, match=message):
        SupernetTrainer(supernet).train_step(x, y, np.array(vector))


def test_a_genotype_outside_the_space_is_rejected():
    space = CellSearchSpace(TINY_OPERATIONS, num_blocks=1, rank=1, reduction_cell=False)
    genotype = Genotype(normal=Cell.from_blocks([Block(0, "bigru", 1, "conv_3")]))
    with pytest.raises(ValueError, match="not in this space"):
        ArchitectureEncoding(space).encode(genotype)


def test_a_network_needing_reduction_cells_needs_a_space_with_one():
    space = CellSearchSpace(TINY_OPERATIONS, num_blocks=1, rank=1, reduction_cell=False)
    with pytest.raises(ValueError, match="searches no reduction cell"):
        Supernet(space, inputs_builder=long_sequence_inputs, num_classes=3, size=NetworkSize(filters=4))
