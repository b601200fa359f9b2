"""Multi-worker search by keras-tuner's chief/worker convention (KERASTUNER_* variables).

The chief's bookkeeping is tested in-process with a fake clock and a real oracle; its gRPC
serving with keras-tuner's own client in threads of this process; whole searches (a chief and
two workers, each a fresh process, one of them killed) are the slow tests.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import keras_tuner
import pytest
from keras_tuner.engine.trial import Trial, TrialStatus

from autonas import ImageSearchClassifier, kt_internals
from autonas.cluster import chief as chief_module
from autonas.cluster.roles import Cluster, Heartbeat
from autonas.oracles import make_oracle
from autonas.testing import mixed_problem

HERE = Path(__file__).parent
EXAMPLE = HERE.parent / "examples" / "distributed_search.py"
ORACLES = ("random", "evolution", "reinforce")
# Generous bounds for a search on a loaded 2-core machine; the searches take about a minute.
PROCESS_TIMEOUT = 420


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _oracle(name, directory, max_trials):
    """An autonas oracle (or keras-tuner's random search) on a closed-form problem."""
    problem = mixed_problem()
    oracle = make_oracle(name, objective=problem.objective(), max_trials=max_trials, seed=0,
                         hyperparameters=problem.build_space())
    return _attach(oracle, directory), problem


def _attach(oracle, directory):
    # A Tuner points its oracle at the project directory; there is no
    # public way without a Tuner (as in autonas.testing.strategy).
    kt_internals.set_project_dir(oracle, str(directory), "project")
    oracle.verbose = 0
    return oracle


def _finish(chief, trial, problem, status=TrialStatus.COMPLETED):
    """What a worker does at the end of a trial: report the score, then end it. The worker's
    copy of the trial is a copy (it came over gRPC), not the oracle's own object."""
    trial = Trial.from_proto(trial.to_proto())
    if status == TrialStatus.COMPLETED:
        chief.update_trial(trial.trial_id, {problem.metric: problem.score(trial.hyperparameters.values)})
    trial.status = status
    return chief.end_trial(trial)


# -- roles ------------------------------------------------------------------------------------


def test_roles_follow_keras_tuners_variables(monkeypatch):
    for name in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "AUTONAS_WORKER_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    assert Cluster.from_environment() == Cluster(role="single")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    with pytest.raises(RuntimeError, match="KERASTUNER_ORACLE_PORT"):
        Cluster.from_environment()
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8123")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    chief = Cluster.from_environment()
    assert (chief.role, chief.address, chief.worker_timeout) == ("chief", "127.0.0.1:8123", 60.0)
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner1")
    monkeypatch.setenv("AUTONAS_WORKER_TIMEOUT", "12.5")
    worker = Cluster.from_environment()
    assert (worker.role, worker.tuner_id, worker.worker_timeout) == ("worker", "tuner1", 12.5)
    for bad in ("0", "-3", "soon", "inf"):
        monkeypatch.setenv("AUTONAS_WORKER_TIMEOUT", bad)
        with pytest.raises(ValueError, match="AUTONAS_WORKER_TIMEOUT must be a positive number"):
            Cluster.from_environment()
    with pytest.raises(RuntimeError, match="Only the chief serves"):
        Cluster(role="single").serve(object())


def test_distributed_fit_needs_a_directory_and_says_so_before_training(monkeypatch, digits, tiny):
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(_free_port()))  # nothing listens: no training can start
    images, labels = digits
    for role in ("chief", "tuner0"):
        monkeypatch.setenv("KERASTUNER_TUNER_ID", role)
        clf = ImageSearchClassifier(**tiny)
        with pytest.raises(ValueError, match="multi-worker search .* needs directory="):
            clf.fit(images[:100], labels[:100])
        assert not hasattr(clf, "search_role_")


def test_distributed_fit_needs_a_seed_and_says_so_before_training(monkeypatch, digits, tiny, tmp_path):
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(_free_port()))  # nothing listens: no training can start
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    images, labels = digits
    clf = ImageSearchClassifier(**{**tiny, "seed": None}, directory=str(tmp_path / "search"))
    with pytest.raises(ValueError, match=r"multi-worker search .* needs seed=<int> \(or validation_data=\)"):
        clf.fit(images[:100], labels[:100])
    assert not (tmp_path / "search").exists()


# -- the chief's bookkeeping (no server, no training) ------------------------------------------


@pytest.mark.parametrize("oracle_name", ORACLES)
def test_chief_reissues_a_silent_workers_trial_and_ends_with_every_trial_once(tmp_path, oracle_name):
    oracle, problem = _oracle(oracle_name, tmp_path, max_trials=4)
    clock = FakeClock()
    notices = []
    chief = chief_module.Chief(oracle, worker_timeout=10, clock=clock, say=notices.append)
    first, lost = chief.create_trial("tuner0"), chief.create_trial("tuner1")
    assert first.status == lost.status == TrialStatus.RUNNING and first.trial_id != lost.trial_id
    assert _finish(chief, first, problem)
    second = chief.create_trial("tuner0")
    clock.now = 6.0
    chief.get_trial(second.trial_id)  # tuner0's heartbeat; tuner1 has gone silent
    clock.now = 9.5
    chief.check_liveness()
    assert chief.lost == [] and lost.trial_id in chief.assignments
    clock.now = 12.0
    chief.check_liveness()
    assert chief.lost == [(lost.trial_id, "tuner1")]
    assert "tuner1" not in oracle.tuner_ids and "re-issuing" in notices[0]
    assert _finish(chief, second, problem)
    reissued = chief.create_trial("tuner0")  # a lost trial goes out before any new one
    assert reissued.trial_id == lost.trial_id
    assert reissued.hyperparameters.values == lost.hyperparameters.values
    assert _finish(chief, reissued, problem)
    last = chief.create_trial("tuner0")
    assert _finish(chief, last, problem)
    assert not chief.finished()  # tuner0 has not been told yet
    assert chief.create_trial("tuner0").status == TrialStatus.STOPPED
    assert chief.finished()
    # The presumed-dead worker was only slow: its late report changes nothing.
    score = oracle.get_trial(lost.trial_id).score
    chief.update_trial(lost.trial_id, {problem.metric: -1.0})
    assert _finish(chief, lost, problem) is False
    assert oracle.get_trial(lost.trial_id).score == score
    assert sorted(oracle.end_order) == sorted(set(oracle.end_order)) and len(oracle.end_order) == 4
    assert all(oracle.trials[t].status == TrialStatus.COMPLETED for t in oracle.end_order)
    values = [json.dumps(oracle.trials[t].hyperparameters.values, sort_keys=True) for t in oracle.end_order]
    assert len(set(values)) == 4
    assert chief.assignments[lost.trial_id] == ["tuner1", "tuner0"]
    assert [tuners for trial, tuners in chief.assignments.items() if trial != lost.trial_id] == [["tuner0"]] * 3


def test_an_early_finisher_waits_while_a_trial_that_may_come_back_runs(tmp_path):
    oracle, problem = _oracle("evolution", tmp_path, max_trials=2)
    chief = chief_module.Chief(oracle, worker_timeout=10, clock=FakeClock())
    mine, theirs = chief.create_trial("tuner0"), chief.create_trial("tuner1")
    _finish(chief, mine, problem)
    assert chief.create_trial("tuner0").status == TrialStatus.IDLE  # not STOPPED: `theirs` may come back
    assert "tuner0" in oracle.tuner_ids and not chief.finished()
    _finish(chief, theirs, problem)
    assert chief.create_trial("tuner1").status == TrialStatus.STOPPED
    assert not chief.finished()
    assert chief.create_trial("tuner0").status == TrialStatus.STOPPED
    assert chief.finished()


def test_a_worker_with_a_long_trial_is_not_forgotten_when_it_ends(tmp_path):
    oracle, problem = _oracle("evolution", tmp_path, max_trials=1)
    clock = FakeClock()
    chief = chief_module.Chief(oracle, worker_timeout=10, clock=clock)
    trial = chief.create_trial("tuner0")
    for clock.now in (8.0, 16.0):
        chief.get_trial(trial.trial_id)  # heartbeats
    clock.now = 20.0
    _finish(chief, trial, problem)
    chief.check_liveness()  # tuner0 last asked for a trial 20s ago, but has reported since
    assert "tuner0" in oracle.tuner_ids and not chief.finished()
    assert chief.create_trial("tuner0").status == TrialStatus.STOPPED
    assert chief.finished()


def test_out_of_time_the_chief_starts_no_trial_and_fails_a_lost_one(tmp_path):
    oracle, problem = _oracle("reinforce", tmp_path, max_trials=5)
    clock, in_time = FakeClock(), [True]
    chief = chief_module.Chief(oracle, worker_timeout=5, may_start_trial=lambda: in_time[0], clock=clock,
                               say=lambda message: None)
    done, lost = chief.create_trial("tuner0"), chief.create_trial("tuner1")
    in_time[0] = False  # e.g. an average trial no longer fits in the time limit
    _finish(chief, done, problem)
    assert chief.create_trial("tuner0").status == TrialStatus.STOPPED
    assert not chief.finished()  # tuner1's trial runs
    clock.now = 6.0
    chief.check_liveness()  # nobody is left to run it again
    assert oracle.get_trial(lost.trial_id).status == TrialStatus.FAILED
    assert chief.finished() and len(oracle.trials) == 2


def test_a_trial_that_loses_every_worker_fails_after_max_reissues(tmp_path):
    oracle, problem = _oracle("random", tmp_path, max_trials=2)
    clock = FakeClock()
    chief = chief_module.Chief(oracle, worker_timeout=5, max_reissues=2, clock=clock, say=lambda message: None)
    doomed = chief.create_trial("tuner0")
    for attempt, tuner in enumerate(["tuner1", "tuner2", None]):
        clock.now += 6
        chief.check_liveness()
        if tuner is not None:
            assert chief.create_trial(tuner).trial_id == doomed.trial_id, attempt
    assert oracle.get_trial(doomed.trial_id).status == TrialStatus.FAILED
    assert "worker was lost" in oracle.get_trial(doomed.trial_id).message
    assert chief.assignments[doomed.trial_id] == ["tuner0", "tuner1", "tuner2"]
    assert oracle.tuner_ids == set()
    last = chief.create_trial("tuner3")
    _finish(chief, last, problem)
    assert not chief.finished()
    # tuner3 dies between trials, before it hears that the search is over: it is forgotten,
    # and with every trial ended the search is over.
    clock.now += 6
    chief.check_liveness()
    assert oracle.tuner_ids == set() and chief.finished()


def test_too_many_failures_end_the_search_on_the_chief_without_a_stuck_lock(tmp_path):
    problem = mixed_problem()
    oracle = _attach(keras_tuner.oracles.RandomSearchOracle(  # any keras-tuner Oracle
        objective=problem.objective(), max_trials=10, seed=1, hyperparameters=problem.build_space(),
        max_consecutive_failed_trials=2), tmp_path)
    chief = chief_module.Chief(oracle, worker_timeout=10, clock=FakeClock(), say=lambda message: None)
    for _ in range(2):
        _finish(chief, chief.create_trial("tuner0"), problem, status=TrialStatus.FAILED)
    assert isinstance(chief.error, RuntimeError) and "consecutive failures" in str(chief.error)
    # keras-tuner raised holding the oracle's lock: another thread must still get through.
    answers = []
    other = threading.Thread(target=lambda: answers.append(chief.create_trial("tuner1")))
    other.start()
    other.join(timeout=10)
    assert not other.is_alive(), "the oracle's lock was left held"
    assert answers[0].status == TrialStatus.STOPPED
    assert chief.create_trial("tuner0").status == TrialStatus.STOPPED
    assert chief.finished()
    with pytest.raises(RuntimeError, match="consecutive failures"):
        chief.raise_error()


# -- the chief's server, with keras-tuner's client --------------------------------------------


def test_the_chief_serves_keras_tuners_client_reissues_a_lost_trial_and_stops(tmp_path, monkeypatch):
    # keras-tuner's worker-side client, as `BaseTuner` builds it on a worker; the test plays the workers.
    OracleClient = kt_internals.oracle_client_class()

    port = _free_port()
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    oracle, problem = _oracle("reinforce", tmp_path, max_trials=4)
    timeout = 2.0
    chief = chief_module.Chief(oracle, worker_timeout=timeout, say=lambda message: None)
    serving = threading.Thread(target=chief_module.serve, args=(chief, f"127.0.0.1:{port}"), daemon=True)
    serving.start()
    got, runs = {"tuner0": [], "tuner1": []}, {"tuner0": [], "tuner1": []}

    def worker(tuner_id, dies=False):
        client = OracleClient(oracle)
        while True:
            trial = client.create_trial(tuner_id)
            if trial.status == TrialStatus.STOPPED:
                return
            if trial.status == TrialStatus.IDLE:
                continue
            got[tuner_id].append(trial.trial_id)
            if dies:
                return  # killed in its first trial: no heartbeat, no report
            heartbeat = Heartbeat(client, trial.trial_id, interval=timeout / 6)
            if len(got[tuner_id]) == 1:
                # Training for twice the timeout: only the heartbeats keep the trial with this worker.
                threading.Event().wait(2 * timeout)
            client.update_trial(trial.trial_id, {problem.metric: problem.score(trial.hyperparameters.values)})
            trial.status = TrialStatus.COMPLETED
            client.end_trial(trial)
            heartbeat.stop()
            runs[tuner_id].append(trial.trial_id)

    workers = [threading.Thread(target=worker, args=("tuner0",)),
               threading.Thread(target=worker, args=("tuner1",), kwargs={"dies": True})]
    for thread in workers:
        thread.start()
    for thread in [*workers, serving]:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a worker or the chief did not stop"
    slow, killed = got["tuner0"][0], got["tuner1"][0]
    assert chief.lost == [(killed, "tuner1")]
    assert chief.assignments[slow] == ["tuner0"] and chief.assignments[killed] == ["tuner1", "tuner0"]
    assert sorted(runs["tuner0"]) == ["0", "1", "2", "3"] and runs["tuner1"] == []
    assert [oracle.trials[t].status for t in sorted(oracle.trials)] == [TrialStatus.COMPLETED] * 4


# -- whole searches: a chief and two workers, each its own process ----------------------------


def _environment(port, tuner_id):
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=str(port),
               KERASTUNER_TUNER_ID=tuner_id, AUTONAS_WORKER_TIMEOUT="10",
               PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]))
    return env


def _start_cluster(tmp_path, oracle_name, max_trials, mode):
    port = _free_port()
    processes = {}
    for tuner_id in ("chief", "tuner0", "tuner1"):
        log = open(tmp_path / f"{tuner_id}.log", "w", encoding="utf-8")
        processes[tuner_id] = subprocess.Popen(
            [sys.executable, str(HERE / "cluster_search.py"), str(tmp_path / "runs"),
             str(tmp_path / f"{tuner_id}.json"), oracle_name, str(max_trials), mode],
            env=_environment(port, tuner_id), stdout=log, stderr=subprocess.STDOUT)
        log.close()
    return processes


def _wait_all(processes, tmp_path):
    """Every process must exit by itself; returns their exit codes."""
    deadline = time.monotonic() + PROCESS_TIMEOUT
    try:
        codes = {}
        for tuner_id, process in processes.items():
            try:
                codes[tuner_id] = process.wait(timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                log = (tmp_path / f"{tuner_id}.log").read_text()[-3000:]
                pytest.fail(f"{tuner_id} did not exit by itself within {PROCESS_TIMEOUT}s; its log ends:\n{log}")
        return codes
    finally:
        for process in processes.values():
            process.kill()
            process.wait()


def _check_every_trial_ran_once(max_trials, results):
    chief, workers = results["chief"], [results["tuner0"], results["tuner1"]]
    assert chief["role"] == "chief" and [w["role"] for w in workers] == ["worker", "worker"]
    trials = {trial["id"]: trial for trial in chief["trials"]}
    assert len(trials) == max_trials
    assert all(trial["status"] == "COMPLETED" and trial["score"] is not None for trial in trials.values())
    values = {json.dumps(trial["values"], sort_keys=True) for trial in trials.values()}
    assert len(values) == max_trials, "two trials had the same architecture"
    ran = [trial for worker in workers for trial in worker["trials_run"]]
    assert sorted(ran) == sorted(trials), "a trial ran twice, or was never reported by a worker"
    for index, worker in enumerate(workers):
        assert all(chief["trial_workers"][trial][-1] == f"tuner{index}" for trial in worker["trials_run"])
    assert chief["best_score"] == max(trial["score"] for trial in trials.values())


@pytest.mark.scaleout
def test_a_chief_and_two_workers_run_every_trial_once_and_all_exit(tmp_path):
    # SearchTuner used directly, as a keras-tuner user would (the classifier: the tests below).
    max_trials = 4
    codes = _wait_all(_start_cluster(tmp_path, "reinforce", max_trials, "tuner"), tmp_path)
    assert codes == {"chief": 0, "tuner0": 0, "tuner1": 0}, codes
    results = {name: json.loads((tmp_path / f"{name}.json").read_text()) for name in codes}
    _check_every_trial_ran_once(max_trials, results)
    assert all(len(w["trials_run"]) >= 1 for w in (results["tuner0"], results["tuner1"])), "a worker got no trial"


@pytest.mark.scaleout
def test_a_worker_killed_mid_trial_neither_hangs_the_search_nor_loses_its_trial(tmp_path):
    max_trials = 4
    processes = _start_cluster(tmp_path, "random", max_trials, "classifier")
    project = tmp_path / "runs" / ImageSearchClassifier.project_name
    deadline = time.monotonic() + PROCESS_TIMEOUT
    victim_trial = None
    while victim_trial is None and time.monotonic() < deadline and processes["chief"].poll() is None:
        try:  # the chief rewrites both files when it hands out or ends a trial
            held = json.loads((project / "oracle.json").read_text())["ongoing_trials"].get("tuner1")
            status = json.loads((project / f"trial_{held}" / "trial.json").read_text())["status"]
            victim_trial = held if status == "RUNNING" else None
        except (OSError, ValueError, KeyError):
            pass
        if victim_trial is None:
            threading.Event().wait(0.1)  # polling files another process writes
    assert victim_trial is not None, "tuner1 never got a trial"
    processes["tuner1"].send_signal(signal.SIGKILL)
    codes = _wait_all(processes, tmp_path)
    assert codes["chief"] == 0 and codes["tuner0"] == 0 and codes["tuner1"] == -signal.SIGKILL, codes
    results = {name: json.loads((tmp_path / f"{name}.json").read_text()) for name in ("chief", "tuner0")}
    chief = results["chief"]
    assert chief["trial_workers"][victim_trial] == ["tuner1", "tuner0"], "the killed worker's trial was not re-issued"
    # tuner1 died before writing what it ran: take the chief's word for the trials it finished.
    finished_by_tuner1 = sorted(t for t, tuners in chief["trial_workers"].items() if tuners[-1] == "tuner1")
    results["tuner1"] = {"role": "worker", "trials_run": finished_by_tuner1}
    _check_every_trial_ran_once(max_trials, results)
    assert "re-issuing the trial" in (tmp_path / "chief.log").read_text()
    assert chief["leaderboard_trials"] == sorted(trial["id"] for trial in chief["trials"])
    assert chief["train_accuracy"] > 0  # the chief retrained, and predicts
    assert results["tuner0"]["predict"].startswith("NotFittedError")


@pytest.mark.scaleout
@pytest.mark.slow  # 55 s; CI runs a chief and two workers in the killed-worker test above
def test_the_example_runs_every_trial_once_on_two_workers_and_ends_with_the_chiefs_json():
    # The classifier's fit in every role, with evolution; the launcher exits 0 only when the
    # chief and both workers did, and waits for them.
    env = {key: value for key, value in os.environ.items() if not key.startswith("KERASTUNER_")}
    result = subprocess.run([sys.executable, str(EXAMPLE), "--workers", "2", "--max-trials", "4", "--oracle",
                             "evolution", "--epochs", "1", "--final-epochs", "1"],
                            capture_output=True, text=True, timeout=PROCESS_TIMEOUT, check=True, env=env)
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert lines[-2] == f"[chief] {lines[-1]}", "the chief's last line is not the JSON summary"
    assert summary["completed_trials"] == 4 and summary["reissued_trials"] == []
    assert 0 <= summary["best_score"] <= 1 and summary["best_architecture"] and summary["seconds"] > 0
    assert summary["test_accuracy"] > 0.1
    workers = {name: json.loads(line[len(f"[{name}] "):]) for line in lines for name in ("tuner0", "tuner1")
               if line.startswith(f"[{name}] {{")}
    assert sorted(workers["tuner0"]["trials_run"] + workers["tuner1"]["trials_run"]) == ["0", "1", "2", "3"]
    assert summary["trials_per_worker"] == {name: len(worker["trials_run"]) for name, worker in workers.items()
                                            if worker["trials_run"]}
