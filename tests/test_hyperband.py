"""keras-tuner's HyperbandOracle through autonas's trial runner: a trial trains its rung, from
"tuner/initial_epoch" until "tuner/epochs", a promoted trial from the weights its parent saved;
a trial without them trains the search's epochs from scratch."""
import keras
import keras_tuner
import numpy as np
import pytest
import tensorflow as tf

import autonas
from autonas.distribute.multi_worker_strategy import lockstep_fit
from autonas.engine.budget import CosineEpochs, Deadline
from autonas.engine.tuner import Rung, SearchTuner, trial_rung
from test_engine import OPERATIONS, problem  # noqa: F401 (the fixture: 300 digits, a one-block space, 4 filters)

OBJECTIVE = keras_tuner.Objective("val_accuracy", "max")


def hyperband_oracle():
    # Two brackets: three 1-epoch trials, the best promoted to epochs 1-2; then two 3-epoch trials.
    return keras_tuner.oracles.HyperbandOracle(objective=OBJECTIVE, max_epochs=3, factor=3, hyperband_iterations=1,
                                               seed=1)


class Recorder(keras.callbacks.Callback):
    """Passes `record` the weights each fit starts from, then each epoch's index and learning rate.

    keras-tuner's own `Tuner.run_trial` deep-copies the callbacks of every trial; a deep copy
    keeps a function (unlike a list) the same object, so the records reach the test either way.
    """

    def __init__(self, record):
        super().__init__()
        self.record = record

    def on_train_begin(self, logs=None):
        self.record("begin", self.model.get_weights())

    def on_epoch_begin(self, epoch, logs=None):
        self.record("epoch", (epoch, float(self.model.optimizer.learning_rate)))


def recorded_search(problem, oracle, directory, *, epochs):
    """Run `oracle`'s search through `SearchTuner` with `epochs` per trial and the search's
    schedule; returns the tuner and, per trial in the order they ran, the weights its training
    started from and its (epoch, learning rate) pairs."""
    _, hypermodel, data = problem
    fits = []

    def record(event, value):
        if event == "begin":
            fits.append({"weights": value, "epochs": []})
        else:
            fits[-1]["epochs"].append(value)

    tuner = SearchTuner(hypermodel, oracle, directory=str(directory), project_name="search")
    tuner.search(data.train, validation_data=data.validation, epochs=epochs, verbose=0,
                 callbacks=[CosineEpochs(hypermodel.learning_rate, epochs), Recorder(record)])
    trials = [tuner.oracle.trials[trial_id] for trial_id in sorted(tuner.oracle.trials)]
    assert [trial.status for trial in trials] == ["COMPLETED"] * len(fits)
    return tuner, dict(zip((trial.trial_id for trial in trials), fits))


def cosine(peak, epoch, planned):
    return 0.5 * peak * (1 + np.cos(np.pi * epoch / planned))


@pytest.fixture(scope="module")
def hyperband(problem, tmp_path_factory):
    # The search's epochs (1) differ from the oracle's max_epochs (3): the rungs decide.
    return recorded_search(problem, hyperband_oracle(), tmp_path_factory.mktemp("hyperband"), epochs=1)


def promoted_trial(tuner):
    promoted = [trial for trial in tuner.oracle.trials.values() if "tuner/trial_id" in trial.hyperparameters]
    assert len(promoted) == 1
    return promoted[0]


def test_trial_rung_reads_the_hyperband_hyperparameters():
    hp = keras_tuner.HyperParameters()
    assert trial_rung(hp, epochs=5) == Rung(epochs=5, initial_epoch=0, parent=None)
    hp.values.update({"tuner/epochs": 3, "tuner/initial_epoch": 1, "tuner/bracket": 1, "tuner/round": 1,
                      "tuner/trial_id": "0002"})
    assert trial_rung(hp, epochs=5) == Rung(epochs=3, initial_epoch=1, parent="0002")


@pytest.mark.endtoend
def test_each_trial_trains_its_rung_epochs_on_the_rungs_schedule(problem, hyperband):
    tuner, fits = hyperband
    peak = problem[1].learning_rate
    promoted = promoted_trial(tuner)
    assert promoted.hyperparameters["tuner/initial_epoch"] == 1 and promoted.hyperparameters["tuner/epochs"] == 3
    for trial_id, fit in fits.items():
        trial = tuner.oracle.trials[trial_id]
        first, last = trial.hyperparameters["tuner/initial_epoch"], trial.hyperparameters["tuner/epochs"]
        # Not cut at the search's 1 epoch, nor trained from epoch 0 when promoted.
        assert [epoch for epoch, _ in fit["epochs"]] == list(range(first, last))
        assert trial.metrics.get_last_value("epochs") == last - first
        # The cosine spans the rung's last epoch, counted from 0.
        np.testing.assert_allclose([rate for _, rate in fit["epochs"]],
                                   [cosine(peak, epoch, last) for epoch in range(first, last)], rtol=1e-6)
    assert fits[promoted.trial_id]["epochs"] == [(1, pytest.approx(0.75 * peak)), (2, pytest.approx(0.25 * peak))]



def test_under_a_deadline_a_rungs_first_epoch_is_not_taken_for_its_pace():
    # 25 s left; the rung's first epoch (1, with tracing) took 20 s, the next 1 s each.
    now = [0.0]
    schedule = CosineEpochs(0.1, 9, Deadline(25.0, clock=lambda: now[0])).spanning(6)
    schedule.on_train_begin()
    now[0] = 20.0
    assert schedule.plan.end_epoch(1, 20.0) and schedule.planned == 6  # the tracing epoch's pace is not trusted
    now[0] = 24.0
    assert not schedule.plan.end_epoch(2, 4.0) and schedule.planned == 3  # 1 s left: no epoch of 4 s fits


@pytest.mark.endtoend
def test_a_promoted_trial_starts_from_its_parents_weights(hyperband):
    tuner, fits = hyperband
    promoted = promoted_trial(tuner)
    parent = tuner.oracle.get_trial(promoted.hyperparameters["tuner/trial_id"])
    assert parent.hyperparameters["tuner/epochs"] == 1
    saved = tuner.load_model(parent).get_weights()  # the parent's weights file in a fresh model
    started = fits[promoted.trial_id]["weights"]
    assert len(started) == len(saved)
    for ours, theirs in zip(started, saved):
        np.testing.assert_array_equal(ours, theirs)
    # The promoted trial trained on from there.
    assert not all(np.array_equal(a, b) for a, b in zip(tuner.load_model(promoted).get_weights(), saved))


def test_a_trial_without_a_rung_trains_the_searchs_epochs_from_scratch(problem, tmp_path):
    oracle = keras_tuner.oracles.RandomSearchOracle(objective=OBJECTIVE, max_trials=1, seed=0)
    tuner, fits = recorded_search(problem, oracle, tmp_path, epochs=2)
    (trial_id, fit), = fits.items()
    peak = problem[1].learning_rate
    assert fit["epochs"] == [(0, pytest.approx(peak)), (1, pytest.approx(cosine(peak, 1, 2)))]
    assert tuner.oracle.trials[trial_id].metrics.get_last_value("epochs") == 2


@pytest.mark.endtoend
def test_an_image_classifier_searches_with_a_hyperband_oracle(digits, tmp_path):
    images, labels = digits
    oracle = hyperband_oracle()
    model = autonas.ImageSearchClassifier(oracle=oracle, time_limit=None, epochs=3, num_blocks=1, search_filters=4,
                                          operations=OPERATIONS, batch_size=32, retrain=False, verbose=0, seed=0,
                                          directory=str(tmp_path))
    model.fit(images[:300], labels[:300])
    board = model.leaderboard_
    trials = {trial.trial_id: trial for trial in oracle.trials.values()}
    assert sorted(board["trial"]) == sorted(trials) and len(trials) == 6
    for row in board.itertuples():
        values = trials[row.trial].hyperparameters.values
        assert row.status == "COMPLETED"
        assert row.epochs == values["tuner/epochs"] - values["tuner/initial_epoch"]
        if "tuner/trial_id" in values:  # a promoted trial: its parent's architecture, trained on
            parent = board.set_index("trial").loc[values["tuner/trial_id"]]
            assert row.architecture == parent.architecture and row.params == parent.params
    assert str(model.best_genotype_) == board["architecture"][0]
    assert model.predict(images[300:310]).shape == (10,)


def test_the_multi_worker_loop_resumes_at_the_initial_epoch_as_fit_does(digits):
    images, labels = digits
    x = images[:128, :, :, None].astype("float32") / 255.0
    dataset = tf.data.Dataset.from_tensor_slices((x, labels[:128])).batch(64)
    runs = []
    for train in (keras.Model.fit, None):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        epochs = []
        callbacks = [CosineEpochs(0.1, 3), Recorder(lambda event, value: event == "epoch" and epochs.append(value))]
        if train is None:
            lockstep_fit(model, dataset, epochs=3, initial_epoch=1, strategy=tf.distribute.get_strategy(),
                         callbacks=callbacks)
        else:
            model.fit(dataset, epochs=3, initial_epoch=1, shuffle=False, verbose=0, callbacks=callbacks)
        runs.append((epochs, model.get_weights()))
    (fit_epochs, fit_weights), (lockstep_epochs, lockstep_weights) = runs
    assert [epoch for epoch, _ in fit_epochs] == [epoch for epoch, _ in lockstep_epochs] == [1, 2]
    np.testing.assert_allclose([rate for _, rate in lockstep_epochs], [rate for _, rate in fit_epochs])
    for ours, theirs in zip(lockstep_weights, fit_weights):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
