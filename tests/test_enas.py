"""ENAS on the supernet: the alternating loop, derivation, reproducibility and controller state."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import autonas  # noqa: F401  (registers the custom layers)
from autonas.engine.budget import Deadline
from autonas.oneshot import ArchitectureEncoding, EnasSearch, Supernet
from autonas.oneshot.enas.derivation import cap_normal_cell, operation_frequencies
from autonas.oneshot.enas.search import MIN_DERIVED
from autonas.oneshot.parameter_free import parameter_free_share
from autonas.oneshot.supernet.memory import check_fits, estimate_training_bytes
from autonas.space import CellSearchSpace, NetworkSize, build_classifier
from supernet_inputs import pixel_inputs

OPERATIONS = ["conv_3x3", "max_pool_3x3", "identity"]


def toy_data(seed=0, count=96):
    """Three classes told apart by where a bright square sits: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, count)
    x = rng.integers(0, 60, (count, 8, 8)).astype("uint8")
    for image, label in zip(x, y):
        image[2 * label:2 * label + 3, 2:6] = 255
    return x, y.astype("int32")


def batches(x, y, batch_size=32):
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)


def make_search(seed=0, **options):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)  # the same initial shared weights in every test
    space = CellSearchSpace(OPERATIONS, num_blocks=2, reduction_cell=True)
    supernet = Supernet(space, inputs_builder=pixel_inputs, num_classes=3, size=NetworkSize(filters=4))
    settings = {"controller_steps": 2, "controller_batch": 2, "num_derived": 3, **options}
    return EnasSearch(supernet, seed=seed, **settings)


def run(search, epochs=2, deadline=None, on_epoch=None):
    x, y = toy_data()
    x_val, y_val = toy_data(seed=1, count=64)
    return search.search(batches(x, y), batches(x_val, y_val), max_epochs=epochs, deadline=deadline,
                         on_epoch=on_epoch)


@pytest.fixture(scope="module")
def searched():
    """One two-epoch search, shared by the tests that only inspect it."""
    search = make_search(seed=3)
    initial_controller = search.controller.get_state()
    seen = []
    result = run(search, epochs=2, on_epoch=seen.append)
    return search, result, seen, initial_controller


def test_search_reports_progress_and_derives_buildable_architectures_best_first(searched):
    search, result, seen, _ = searched
    assert result.method == "enas" and result.epochs == 2 and len(result.history) == 2 and seen == result.history
    for stats in result.history:
        assert 0.0 <= stats["mean_reward"] <= 1.0
        assert stats["controller_entropy"] > 0.0
        assert np.isfinite(stats["train_loss"])
        assert "normal" in stats["most_likely"]
        assert 0.0 <= stats["parameter_free_share"] <= 1.0
    scores = [d.score for d in result.derived]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    assert 2 <= len(result.derived) <= 4  # distinct: 3 sampled + the most likely one
    assert {d.origin for d in result.derived} <= {"sampled", "most likely"}
    assert "most likely" in {d.origin for d in result.derived}
    inputs, features = pixel_inputs()
    child = build_classifier(result.best.genotype, inputs=inputs, features=features, num_classes=3,
                             size=NetworkSize(filters=4))
    assert child.count_params() > 0
    assert result.peak_memory_mb > 0
    # Sampling a new child for every batch and every reward never retraced the compiled steps.
    assert search.trainer.tracing_counts == {"train": 1, "predict": 0, "score": 1}


def test_controller_learns_from_shared_weight_rewards(searched):
    search, result, _, initial = searched
    assert search.controller.get_state()["theta"] != initial["theta"]
    assert search.controller.get_state()["adam_t"] == 4  # one update per controller step, 2 per epoch
    assert max(stats["mean_reward"] for stats in result.history) > 0.0


def test_controller_state_survives_save_and_restore(searched):
    search = searched[0]
    state = json.loads(json.dumps(search.get_state()))
    expected = [s.decisions for s in search.controller.sample_batch(5)]
    search.set_state(state)  # rewind the RNG too
    restored = make_search(seed=99)
    restored.set_state(state)
    assert [s.decisions for s in restored.controller.sample_batch(5)] == expected
    assert restored.most_likely().tolist() == search.most_likely().tolist()
    with pytest.raises(ValueError, match="different configuration"):
        make_search(seed=3, controller_options={"learning_rate": 0.5}).set_state(state)


@pytest.mark.endtoend
def test_same_seed_same_architectures():
    first = run(make_search(seed=5), epochs=1)
    second = run(make_search(seed=5), epochs=1)
    assert [str(d.genotype) for d in first.derived] == [str(d.genotype) for d in second.derived]
    assert [d.score for d in first.derived] == [d.score for d in second.derived]
    # Another seed proposes other children from the start (no search needed to tell).
    proposals = [[sample.decisions for sample in make_search(seed=s).controller.sample_batch(4)] for s in (5, 6)]
    assert proposals[0] != proposals[1]


def test_deadline_stops_after_the_second_epoch():
    # The first epoch's pace includes tracing, so the plan is revised from the second on.
    result = run(make_search(), epochs=50, deadline=Deadline(0.0))
    assert result.epochs == 2
    # Past the deadline, only the first candidates are scored (the retraining needs the time).
    assert len(result.derived) == MIN_DERIVED


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="controller_steps"):
        make_search(controller_steps=0)


def test_memory_estimate_grows_with_batch_and_mixture_and_refuses_what_cannot_fit():
    search = make_search()
    supernet = search.supernet
    sampled = estimate_training_bytes(supernet, 32, mixture=False)
    assert estimate_training_bytes(supernet, 64, mixture=False) > sampled
    assert estimate_training_bytes(supernet, 32, mixture=True) > 2 * sampled  # 3 operations per edge, not 1
    assert check_fits(supernet, 32, mixture=False, method="enas") == sampled
    with pytest.raises(MemoryError, match="batch_size"):
        check_fits(supernet, 10**9, mixture=True, method="darts")


def test_derived_normal_cells_are_capped_in_parameter_free_operations():
    # 2 blocks: 4 normal-cell slots. Uncapped, a controller that prefers pooling and identity
    # derives cells of mostly those; capped at 1, each derived cell keeps at most one.
    space = CellSearchSpace(OPERATIONS, num_blocks=2, reduction_cell=True)
    encoding = ArchitectureEncoding(space)
    rng = np.random.default_rng(0)
    pool = np.stack([encoding.sample(rng) for _ in range(200)])
    normal_ops = [1, 3, 5, 7]
    pool[:150, normal_ops] = rng.integers(1, 3, (150, 4))  # 3/4 of the samples all parameter-free
    frequencies = operation_frequencies(encoding, pool)
    assert frequencies.shape == (4, 3) and np.allclose(frequencies.sum(axis=1), 1.0)
    capped = cap_normal_cell(encoding, pool, frequencies, 1)
    shares = [parameter_free_share(encoding.decode(vector), ["normal"]) for vector in capped]
    assert max(shares) == 0.25
    assert max(parameter_free_share(encoding.decode(vector), ["normal"]) for vector in pool) == 1.0
    # Only the normal cell's operations change, and only to the operation with weights.
    changed = capped != pool
    assert not changed[:, [c for c in range(len(encoding)) if c not in normal_ops]].any()
    assert (capped[changed] == 0).all()
    assert (cap_normal_cell(encoding, pool, frequencies, None) == pool).all()


def test_search_derives_within_its_cap():
    search = make_search(seed=5, max_parameter_free=0, num_derived=4)
    result = run(search, epochs=1)
    assert all(parameter_free_share(d.genotype, ["normal"]) == 0.0 for d in result.derived)
