"""The retraining of a one-shot search measures its own pace (autonas.engine.pace), and picks
the size to retrain from it."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from autonas import ImageSearchClassifier
from autonas.engine.budget import Deadline
from autonas.engine.pace import epochs_that_fit, probe_epoch_seconds, steps_per_epoch
from autonas.space.network import NetworkSize
from autonas.engine import retrain


def _model_and_batches(count=320, batch_size=32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(count, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model, tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)


def test_the_probe_trains_the_model_and_times_an_epoch():
    model, batches = _model_and_batches()
    before = [w.copy() for w in model.get_weights()]
    seconds = probe_epoch_seconds(model, batches, steps=10)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # real steps, kept
    assert 0 < seconds < math.inf
    # An epoch of many more batches takes proportionally longer at the same pace.
    assert probe_epoch_seconds(model, batches, steps=10_000) > 100 * seconds


def test_epochs_that_fit_counts_whole_epochs_and_no_limit_is_infinite():
    assert epochs_that_fit(30.0, 100.0) == 3
    assert epochs_that_fit(30.0, 0.0) == 0 and epochs_that_fit(30.0, -5.0) == 0
    assert epochs_that_fit(30.0, None) == math.inf


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class FakeHyperModel:
    """Builds a stand-in model per size; only `pick_one_shot_size`'s choices are under test."""
    size = NetworkSize(filters=8, normal_cells=1)

    def build_genotype(self, genotype, *, size):
        return ("model", size)


FINAL = NetworkSize(filters=16, normal_cells=2)


@pytest.fixture
def pick(monkeypatch):
    """`pick_one_shot_size` with probes that cost 50 s of a fake clock each and report `paces`."""
    def run(paces, seconds_left, final=FINAL, epochs=3, final_epochs=10):
        clock, probed = FakeClock(), []

        def probe(model, batches, steps):
            probed.append(model[1])
            clock.now += 50.0
            return paces[model[1]]

        monkeypatch.setattr(retrain, "probe_epoch_seconds", probe)
        batches = tf.data.Dataset.range(10).batch(1)
        train = retrain.RetrainRun(None, FakeHyperModel(), batches, deadline=Deadline(seconds_left, clock=clock),
                                   strategy=tf.distribute.get_strategy(), say=print, verbose=0)
        size, model, epochs = retrain.pick_one_shot_size(train, list(dict.fromkeys([final, FakeHyperModel.size])),
                                                         10, batch_size=32, wanted=final_epochs,
                                                         needed=lambda size: retrain.least_epochs(
                                                             size, FakeHyperModel.size, final_epochs, epochs))
        return size, model, epochs, probed
    return run


def test_a_final_size_that_fits_is_trained_after_both_probes(pick):
    size, model, epochs, probed = pick({FakeHyperModel.size: 10.0, FINAL: 20.0}, seconds_left=400)
    assert probed == [FakeHyperModel.size, FINAL] and size == FINAL and model == ("model", FINAL)
    assert epochs == 10  # (400 - 100) // 20 = 15, capped at final_epochs


def test_a_larger_final_size_needs_a_full_plan_else_the_search_size_trains_longer(pick):
    # 300 s after both probes fit 15 final-size epochs, short of the 30 a fit without a time
    # limit plans: the search size trains 30 instead.
    size, _, epochs, probed = pick({FakeHyperModel.size: 10.0, FINAL: 20.0}, seconds_left=400, final_epochs=300)
    assert probed == [FakeHyperModel.size, FINAL] and size == FakeHyperModel.size and epochs == 30
    size, _, epochs, _ = pick({FakeHyperModel.size: 10.0, FINAL: 20.0}, seconds_left=800, final_epochs=300)
    assert size == FINAL and epochs == 35


def test_least_epochs_asks_a_full_plan_of_larger_sizes_only():
    search = FakeHyperModel.size
    assert retrain.least_epochs(FINAL, search, final_epochs=300, trial_epochs=2) == retrain.DEFAULT_FINAL_EPOCHS
    assert retrain.least_epochs(FINAL, search, final_epochs=5, trial_epochs=2) == 5  # the user's cap wins
    assert retrain.least_epochs(search, search, final_epochs=300, trial_epochs=2) == 2
    assert retrain.least_epochs(NetworkSize(filters=4, normal_cells=3), search, final_epochs=300, trial_epochs=2) == 2


def test_when_even_the_search_size_falls_short_the_larger_final_size_is_not_probed(pick):
    size, model, epochs, probed = pick({FakeHyperModel.size: 40.0, FINAL: 80.0}, seconds_left=150)
    assert probed == [FakeHyperModel.size]  # 100 s left fit 2 < 3 epochs even at the search size
    assert size == FakeHyperModel.size and model == ("model", FakeHyperModel.size) and epochs == 2


def test_a_final_size_that_falls_short_leaves_the_probed_search_model_the_time_after_its_probe(pick):
    size, model, epochs, probed = pick({FakeHyperModel.size: 20.0, FINAL: 90.0}, seconds_left=300)
    assert probed == [FakeHyperModel.size, FINAL]  # 250 s fit 12 search-size epochs: worth a look
    assert size == FakeHyperModel.size and model == ("model", FakeHyperModel.size)
    assert epochs == 10  # (300 - 100) // 20, capped at final_epochs


def test_a_final_size_smaller_in_some_part_is_probed_anyway(pick):
    narrower = NetworkSize(filters=4, normal_cells=3)
    size, _, _, probed = pick({FakeHyperModel.size: 60.0, narrower: 10.0}, seconds_left=150, final=narrower)
    assert probed == [FakeHyperModel.size, narrower] and size == narrower


def test_at_least_one_epoch_and_no_probe_without_a_limit(pick):
    size, _, epochs, _ = pick({FakeHyperModel.size: 500.0, FINAL: 900.0}, seconds_left=60)
    assert size == FakeHyperModel.size and epochs == 1
    size, _, epochs, probed = pick({}, seconds_left=None)
    assert probed == [] and size == FINAL and epochs == 10


def test_steps_per_epoch_uses_the_cardinality_or_counts_the_samples():
    _, batches = _model_and_batches(count=330)
    assert steps_per_epoch(batches, samples=330, batch_size=32) == 11
    unknown = batches.filter(lambda x, y: True)  # cardinality unknown to tf.data
    assert steps_per_epoch(unknown, samples=330, batch_size=32) == 11
