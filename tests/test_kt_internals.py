"""Each keras-tuner internal autonas relies on still behaves as `autonas.kt_internals` says, on the
installed keras-tuner: a release that moves one fails here, with the name of what moved."""
import os

import keras_tuner

from autonas import kt_internals


class RecordingOracle(kt_internals.TrialFileHook, keras_tuner.oracles.RandomSearchOracle):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.written = []

    def write_trial_file(self, trial):
        self.written.append((trial.trial_id, trial.status))
        super().write_trial_file(trial)


def _oracle(tmp_path):
    space = keras_tuner.HyperParameters()
    space.Choice("op", ["a", "b", "c"])
    oracle = RecordingOracle(objective=keras_tuner.Objective("score", "max"), max_trials=3, hyperparameters=space,
                             seed=1)
    kt_internals.set_project_dir(oracle, tmp_path, "project")
    oracle.verbose = 0
    return oracle


def test_project_files_are_where_keras_tuner_writes_them(tmp_path):
    oracle = _oracle(tmp_path)
    trial = oracle.create_trial("tuner0")
    oracle.save()
    assert kt_internals.oracle_file(oracle) == os.path.join(str(tmp_path), "project", "oracle.json")
    assert os.path.exists(kt_internals.oracle_file(oracle))
    assert os.path.exists(os.path.join(kt_internals.trial_dir(oracle, trial.trial_id), "trial.json"))
    # keras-tuner's private trial writer goes through the public hook.
    assert oracle.written and oracle.written[0][0] == trial.trial_id


def test_tried_values_running_trials_and_workers(tmp_path):
    oracle = _oracle(tmp_path)
    trial = oracle.create_trial("tuner0")
    assert kt_internals.already_tried(oracle, trial.hyperparameters.values)
    assert not kt_internals.already_tried(oracle, {"op": "not a value"})
    assert {k: t.trial_id for k, t in kt_internals.running_trials(oracle).items()} == {"tuner0": trial.trial_id}
    assert kt_internals.known_workers(oracle) == {"tuner0"}
    kt_internals.forget_running_trial(oracle, "tuner0")
    kt_internals.forget_worker(oracle, "tuner0")
    assert kt_internals.running_trials(oracle) == {} and kt_internals.known_workers(oracle) == set()
    kt_internals.keep_worker(oracle, "tuner1")
    assert kt_internals.known_workers(oracle) == {"tuner1"}


def test_a_requeued_trial_is_handed_out_again_before_a_new_one(tmp_path):
    oracle = _oracle(tmp_path)
    first = oracle.create_trial("tuner0")
    kt_internals.forget_running_trial(oracle, "tuner0")
    kt_internals.requeue_trial(oracle, first.trial_id)
    assert kt_internals.queued_trials(oracle) == [first.trial_id]
    assert oracle.create_trial("tuner1").trial_id == first.trial_id
    assert kt_internals.queued_trials(oracle) == []
    kt_internals.requeue_trial(oracle, first.trial_id)
    kt_internals.unqueue_trial(oracle, first.trial_id)
    assert kt_internals.queued_trials(oracle) == []


def test_the_distributed_mode_is_where_autonas_looks_for_it(monkeypatch):
    for name in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert not kt_internals.has_chief_oracle()
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8000")
    assert kt_internals.has_chief_oracle() and kt_internals.is_chief_oracle()
    assert kt_internals.oracle_servicer_class().__name__ == "OracleServicer"
    assert kt_internals.oracle_client_class().__name__ == "OracleClient"
    assert hasattr(kt_internals.service_messages(), "CreateTrialResponse")
