"""CosineEpochs ends a retraining at the deadline: at epoch ends, or within an epoch when asked."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from autonas.engine.budget import CosineEpochs, CosinePlan, Deadline


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Ticks(keras.callbacks.Callback):
    """Each batch takes 1 s on the fake clock; records how many batches each epoch ran and
    the learning rate each batch trained with."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock
        self.batches = []
        self.rates = []

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.append(0)
        self.rates.append([])

    def on_train_batch_begin(self, batch, logs=None):
        self.rates[-1].append(float(self.model.optimizer.learning_rate))

    def on_train_batch_end(self, batch, logs=None):
        self.clock.now += 1.0
        self.batches[-1] += 1


def train(stop_within_epoch, min_epochs=1, seconds=13.0, anneal_per_batch=False, epochs=3, details=False):
    """`epochs` epochs of 10 batches (1 s each on a fake clock) under a `seconds` deadline."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    clock = FakeClock()
    ticks = Ticks(clock)
    schedule = CosineEpochs(0.1, epochs, Deadline(seconds, clock=clock), min_epochs=min_epochs,
                            anneal_per_batch=anneal_per_batch, stop_within_epoch=stop_within_epoch)
    # The schedule sets a batch's rate before the ticks record it, and sees its time after they spent it.
    callbacks = [schedule, ticks] if anneal_per_batch else [ticks, schedule]
    model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(4), epochs=epochs, verbose=0, callbacks=callbacks)
    return (ticks.batches, ticks.rates) if details else ticks.batches


def test_past_the_deadline_an_epoch_beyond_the_minimum_stops_at_its_batch():
    # The first epoch (10 s) fits; its pace is not trusted (tracing), so the second starts and
    # the deadline passes at its third batch.
    assert train(stop_within_epoch=True) == [10, 3]


def test_without_it_the_epoch_runs_to_its_end():
    assert train(stop_within_epoch=False) == [10, 10]


def test_the_minimum_epochs_are_never_cut():
    assert train(stop_within_epoch=True, min_epochs=2) == [10, 10]
    assert train(stop_within_epoch=True, min_epochs=1, seconds=5.0) == [10, 1]


def test_annealed_per_batch_a_shrunk_plan_still_ends_near_zero():
    # 32 s for 5 planned epochs of 10 s: after the second, one more fits, so the plan shrinks to 3.
    batches, rates = train(stop_within_epoch=False, seconds=32.0, anneal_per_batch=True, epochs=5, details=True)
    assert batches == [10, 10, 10]
    flat = [rate for epoch in rates for rate in epoch]
    assert flat[0] == pytest.approx(0.1)
    assert all(later < earlier for earlier, later in zip(flat, flat[1:]))  # decays every batch
    assert rates[2][-1] < 0.001  # the third epoch anneals from a quarter of the peak to near zero
    # Per epoch, the third epoch trains at a quarter of the peak throughout (cosine at 2/3).
    batches, per_epoch = train(stop_within_epoch=False, seconds=32.0, epochs=5, details=True)
    assert batches == [10, 10, 10]
    assert per_epoch[2] == [pytest.approx(0.025)] * 10


def test_a_plan_grows_to_use_time_its_estimate_left_unused():
    clock = FakeClock()
    # Estimated 3 epochs, 30 s left, and each epoch takes 5 s: 6 fit, and 10 are allowed.
    plan = CosinePlan(0.1, 3, Deadline(30.0, clock=clock), most_epochs=10)
    epoch = 0
    while True:
        clock.now += 5.0
        if not plan.end_epoch(epoch, 5.0):
            break
        epoch += 1
    assert epoch + 1 == 6
    # Without most_epochs the estimate is the most.
    capped = CosinePlan(0.1, 3, Deadline(30.0, clock=FakeClock()))
    assert [capped.end_epoch(e, 5.0) for e in range(3)] == [True, True, False]


@pytest.mark.parametrize("cover_setup, planned_epochs", [(False, 3), (True, 9)])
def test_a_plan_shrinks_no_further_than_its_setup_allows_when_asked(cover_setup, planned_epochs):
    # The first epoch took 10 s (9 s of tracing), the next 1 s, with 1 s left: 3 epochs fit.
    clock = FakeClock()
    plan = CosinePlan(0.1, 10, Deadline(12.0, clock=clock), cover_setup=cover_setup)
    clock.now = 10.0
    assert plan.end_epoch(0, 10.0)
    clock.now = 11.0
    plan.end_epoch(1, 1.0)
    assert plan.planned == planned_epochs
    # Never beyond the epochs asked for.
    clock = FakeClock()
    short = CosinePlan(0.1, 5, Deadline(12.0, clock=clock), cover_setup=True)
    clock.now = 10.0
    short.end_epoch(0, 10.0)
    clock.now = 11.0
    short.end_epoch(1, 1.0)
    assert short.planned == 5


def test_spanning_keeps_cover_setup_unless_told():
    schedule = CosineEpochs(0.1, 3, Deadline(10.0), cover_setup=True)
    assert schedule.spanning(9).plan.cover_setup and schedule.spanning(9).planned == 9
    assert not schedule.spanning(9, cover_setup=False).plan.cover_setup
    plain = CosineEpochs(0.1, 3, Deadline(10.0))
    assert plain.spanning(3) is plain and plain.spanning(3, cover_setup=True).plan.cover_setup
