"""Several trials at once on one machine, started by `fit` (`parallel_trials`, `autonas.cluster.local`).

The checks, the chief's watch over the processes it started and the agreed trial epochs run in
this process; whole fits with two worker processes (one of them killed) are the slow tests.
"""
import json
import os
import signal
import tempfile
import threading
import time

import pandas as pd
import pytest
from keras_tuner.engine.trial import Trial, TrialStatus

from autonas import ImageSearchClassifier, TextSearchClassifier
from autonas.cluster import chief as chief_module
from autonas.cluster import local
from autonas.engine.budget import Deadline
from autonas.engine.trial_epochs import TrialEpochs, read_agreed_epochs, record_agreed_epochs
from autonas.oracles import make_oracle
from autonas.testing import mixed_problem
from autonas import kt_internals

OPERATIONS = ["conv_3x3", "max_pool_3x3", "identity", "sep_conv_3x3"]
# Bounds for a fit on a loaded 2-core machine; the fits take 30-60 s.
FIT_TIMEOUT = 300


def _tiny(**overrides):
    return dict(dict(max_trials=4, epochs=1, final_epochs=1, num_blocks=1, search_filters=4, final_filters=4,
                     operations=OPERATIONS, batch_size=32, seed=0, oracle="random", verbose=0), **overrides)


# -- checks before training -------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -2, 1.5, True, "many", None])
def test_a_bad_parallel_trials_is_refused_before_training(digits, tmp_path, value):
    images, labels = digits
    clf = ImageSearchClassifier(**_tiny(parallel_trials=value), directory=str(tmp_path / "search"))
    with pytest.raises(ValueError, match="parallel_trials must be an integer >= 1 .* or 'auto'"):
        clf.fit(images[:100], labels[:100])
    assert not (tmp_path / "search").exists() and not hasattr(clf, "search_role_")


@pytest.mark.parametrize("oracle", ["enas", "darts"])
def test_parallel_trials_refuses_a_one_shot_search(digits, oracle):
    images, labels = digits
    with pytest.raises(ValueError, match="one-shot search .* trains one supernet in one process"):
        ImageSearchClassifier(**_tiny(oracle=oracle, parallel_trials=2)).fit(images[:100], labels[:100])


def test_parallel_trials_refuses_a_process_that_already_plays_a_part(digits, monkeypatch):
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "1")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    images, labels = digits
    with pytest.raises(ValueError, match="already plays 'worker'"):
        TextSearchClassifier(**_tiny(parallel_trials=2, operations=None)).fit(["a b"] * 20, [0, 1] * 10)


def test_auto_is_one_trial_per_gpu_else_one_per_core(monkeypatch):
    monkeypatch.setattr(local, "visible_gpus", lambda: [])
    assert local.parallel_trial_count("auto") == len(os.sched_getaffinity(0))
    monkeypatch.setattr(local, "visible_gpus", lambda: ["gpu0", "gpu1"])
    assert local.parallel_trial_count("auto") == 2
    assert local.parallel_trial_count(3) == 3
    assert ImageSearchClassifier().parallel_trials == 1  # the default: one trial at a time


def test_workers_take_the_visible_gpus_in_turn_by_their_own_names(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert [local.gpu_device_id(["a", "b"], index) for index in range(3)] == ["0", "1", "0"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert [local.gpu_device_id(["a", "b"], index) for index in range(3)] == ["3", "5", "3"]


# -- the chief's watch over its own workers ----------------------------------------------------


class FakeWorkers:
    """Stands in for `LocalWorkers`: the test says which processes have exited."""

    def __init__(self, tuner_ids):
        self.tuner_ids, self.gone, self.started = list(tuner_ids), set(), None

    def start(self, address):
        self.started = address

    def exited(self):
        return set(self.gone)

    def all_exited(self):
        return self.gone == set(self.tuner_ids)


def _chief(tmp_path, workers, max_trials=3):
    problem = mixed_problem()
    oracle = make_oracle("random", objective=problem.objective(), max_trials=max_trials, seed=0,
                         hyperparameters=problem.build_space())
    kt_internals.set_project_dir(oracle, str(tmp_path), "project")
    oracle.verbose = 0
    chief = chief_module.Chief(oracle, worker_timeout=60, say=lambda message: None, workers=workers,
                               clock=lambda: 0.0)
    return chief, oracle, problem


def _finish(chief, trial, problem):
    trial = Trial.from_proto(trial.to_proto())
    chief.update_trial(trial.trial_id, {problem.metric: problem.score(trial.hyperparameters.values)})
    trial.status = TrialStatus.COMPLETED
    return chief.end_trial(trial)


def test_a_trial_whose_worker_process_exited_is_reissued_at_once(tmp_path):
    workers = FakeWorkers(["worker0", "worker1"])
    chief, oracle, problem = _chief(tmp_path, workers)
    kept, lost = chief.create_trial("worker0"), chief.create_trial("worker1")
    workers.gone.add("worker1")
    chief.check_liveness()  # no time has passed: the exit alone tells
    assert chief.lost == [(lost.trial_id, "worker1")]
    _finish(chief, kept, problem)
    assert chief.create_trial("worker0").trial_id == lost.trial_id


def test_once_every_worker_process_exited_the_search_ends_with_what_completed(tmp_path):
    workers = FakeWorkers(["worker0", "worker1"])
    chief, oracle, problem = _chief(tmp_path, workers)
    done, running = chief.create_trial("worker0"), chief.create_trial("worker1")
    _finish(chief, done, problem)
    assert not chief.finished()
    workers.gone.update(["worker0", "worker1"])
    chief.check_liveness()
    assert chief.finished()
    assert oracle.get_trial(running.trial_id).status == TrialStatus.FAILED
    assert oracle.get_trial(done.trial_id).status == TrialStatus.COMPLETED


def test_the_chief_starts_its_workers_on_the_port_it_bound(tmp_path):
    workers = FakeWorkers(["worker0"])
    chief, _, _ = _chief(tmp_path, workers)
    serving = threading.Thread(target=chief_module.serve, args=(chief, "127.0.0.1:0"), daemon=True)
    serving.start()
    for _ in range(100):
        if workers.started:
            break
        time.sleep(0.05)  # waiting for the server thread
    host, port = workers.started.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    workers.gone.add("worker0")  # a worker that never asked: the search ends
    serving.join(timeout=20)
    assert not serving.is_alive()


def test_workers_that_fail_end_the_fit_with_their_logs_in_the_error(digits, tmp_path, monkeypatch):
    # Workers that cannot even start (no such module): the fit ends at once and says why.
    monkeypatch.setattr(local, "WORKER_MODULE", "autonas.cluster.no_such_worker")
    images, labels = digits
    clf = ImageSearchClassifier(**_tiny(parallel_trials=2), directory=str(tmp_path))
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"No trial completed(.|\n)*worker0 exited with code 1; its log .*"
                                           r"worker0.log ends:(.|\n)*No module named autonas.cluster.no_such_worker"):
        clf.fit(images[:100], labels[:100])
    assert time.monotonic() - start < 60
    assert sorted(os.listdir(tmp_path / local.WORKER_FOLDER)) == ["worker0.log", "worker1.log"]  # inputs removed


# -- what the workers read ----------------------------------------------------------------------


def test_worker_files_carry_arrays_and_datasets_in_order_and_leave_only_logs(tmp_path, digits):
    import numpy as np
    import tensorflow as tf

    images, labels = digits
    train = tf.data.Dataset.from_tensor_slices((images[:50], labels[:50])).batch(8)
    validation = tf.data.Dataset.from_tensor_slices((images[50:60], labels[50:60]))
    clf = ImageSearchClassifier(**_tiny(parallel_trials=2))
    inputs = {"x": train, "y": None, "validation_split": 0.2, "validation_data": validation}
    local.write_worker_files(str(tmp_path), clf, {"seed": 7}, inputs, search_ends_at=None)
    settings, loaded = local.read_worker_files(str(tmp_path))
    assert settings == {"estimator": ImageSearchClassifier, "params": {"seed": 7}, "search_ends_at": None}
    assert [x.numpy().tolist() for x, _ in loaded["x"]] == [x.numpy().tolist() for x, _ in train]
    assert np.array_equal(np.stack([y for _, y in loaded["validation_data"]]), labels[50:60])
    local.write_worker_files(str(tmp_path), clf, {}, {"x": images[:5], "y": labels[:5].astype(str),
                                                       "validation_data": (images[5:7], labels[5:7])},
                             search_ends_at=1.0)
    _, loaded = local.read_worker_files(str(tmp_path))
    assert np.array_equal(loaded["x"], images[:5]) and loaded["y"].tolist() == [str(v) for v in labels[:5]]
    assert np.array_equal(loaded["validation_data"][1], labels[5:7])
    (tmp_path / "worker0.log").write_text("log")
    local.remove_worker_inputs(str(tmp_path))
    assert os.listdir(tmp_path) == ["worker0.log"]


# -- agreed trial epochs -----------------------------------------------------------------------


def test_the_first_completed_trial_sets_every_workers_epochs(tmp_path):
    assert read_agreed_epochs(tmp_path) is None
    record_agreed_epochs(tmp_path, 4)
    assert read_agreed_epochs(tmp_path) == 4
    worker = TrialEpochs(None, Deadline(600))
    worker.trial_done(7)  # its own probe, which completed after the first
    worker.agree(read_agreed_epochs(tmp_path))
    assert worker.next_trial()[0] == 4
    explicit = TrialEpochs(3, Deadline(600))
    explicit.agree(4)
    assert explicit.next_trial()[0] == 3


# -- whole fits with two worker processes -------------------------------------------------------


def _fit_in_thread(clf, x, y):
    """Run `clf.fit` in a thread, so that the test can act on the workers meanwhile."""
    errors = []

    def fit():
        try:
            clf.fit(x, y)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    thread = threading.Thread(target=fit, daemon=True)
    thread.start()
    return thread, errors


@pytest.mark.scaleout
def test_two_workers_run_every_trial_once_with_agreed_epochs_within_the_time_limit(digits, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the search's temporary directory goes here
    images, labels = digits
    # Room for a trial after the probes to train their epochs whole on a slow machine (at 30 s,
    # every later trial could be cut short by the time limit before any trained them all).
    time_limit = 45
    clf = ImageSearchClassifier(**_tiny(epochs=None, max_trials=None, time_limit=time_limit, parallel_trials=2))
    clf.fit(images[:300], labels[:300])
    assert clf.search_role_ == "chief"
    assert clf.search_seconds_ <= 1.05 * time_limit  # worker start-up included
    board = clf.leaderboard()
    trials = sorted(board["trial"])
    assert len(trials) >= 3 and set(board["status"]) == {"COMPLETED"}
    assert sorted(clf.trial_workers_) == trials
    assert all(len(tuners) == 1 for tuners in clf.trial_workers_.values()), clf.trial_workers_
    assert {tuners[0] for tuners in clf.trial_workers_.values()} == {"worker0", "worker1"}
    # Trials from the third on started after one of the first two (both probes) completed: they
    # were planned for its epochs (the last ones may end early, at the time limit).
    epochs = [int(board.set_index("trial").loc[trial, "epochs"]) for trial in trials]
    assert max(epochs[2:]) in epochs[:2] and all(e <= max(epochs[2:]) for e in epochs[2:])
    assert clf.predict(images[:5]).shape == (5,)
    assert os.listdir(tmp_path) == [], "the temporary search directory (inputs, logs) was left behind"


@pytest.mark.scaleout
def test_two_workers_search_with_rungs(digits, tmp_path):
    images, labels = digits
    clf = ImageSearchClassifier(**_tiny(max_trials=8, parallel_trials=2, successive_halving=True, oracle="evolution",
                                        directory=str(tmp_path)))
    clf.fit(images[:300], labels[:300])
    board = clf.leaderboard().set_index("trial")
    assert set(board["status"]) == {"COMPLETED"} and len(board) == 8
    promoted = board[board["from_trial"].notna()]
    assert len(promoted) >= 1, "no trial was promoted"
    for row in promoted.itertuples():  # trained on from its parent's weights, whichever worker saved them
        assert row.epochs == 2 and row.architecture == board.loc[row.from_trial, "architecture"]
        assert board.loc[row.from_trial, "epochs"] == 1 and pd.isna(board.loc[row.from_trial, "from_trial"])


@pytest.mark.scaleout
def test_a_killed_worker_neither_hangs_the_fit_nor_loses_its_trial(digits, tmp_path, monkeypatch):
    started = []
    original_start = local.LocalWorkers.start
    monkeypatch.setattr(local.LocalWorkers, "start",
                        lambda self, address: (started.append(self), original_start(self, address))[-1])
    images, labels = digits
    clf = ImageSearchClassifier(**_tiny(max_trials=3, parallel_trials=2), directory=str(tmp_path))
    thread, errors = _fit_in_thread(clf, images[:300], labels[:300])
    project = tmp_path / ImageSearchClassifier.project_name
    deadline = time.monotonic() + FIT_TIMEOUT
    victim_trial = None
    while victim_trial is None and time.monotonic() < deadline and thread.is_alive():
        try:  # the chief rewrites oracle.json when it hands out a trial
            victim_trial = json.loads((project / "oracle.json").read_text())["ongoing_trials"].get("worker1")
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)  # polling a file the fit's threads write
    assert victim_trial is not None, "worker1 never got a trial"
    started[0].processes["worker1"].send_signal(signal.SIGKILL)
    thread.join(timeout=max(deadline - time.monotonic(), 1))
    assert not thread.is_alive(), "the fit hangs after a worker was killed"
    assert not errors, errors
    assert clf.trial_workers_[victim_trial] == ["worker1", "worker0"]
    assert sorted(clf.leaderboard()["trial"]) == ["0", "1", "2"]
    assert set(clf.leaderboard()["status"]) == {"COMPLETED"}
    assert all(process.poll() is not None for process in started[0].processes.values())
