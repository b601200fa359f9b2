"""Each oracle proposes a trial in under 50 ms on a 30-hyperparameter space."""
import statistics
import time

import keras_tuner
import pytest

from autonas import kt_internals
from autonas.oracles import make_oracle

BUDGET_S = 0.050


def space_30():
    hp = keras_tuner.HyperParameters()
    for i in range(10):
        hp.Choice(f"op_{i}", ["conv3", "conv5", "sep3", "pool", "skip"])
    for i in range(5):
        hp.Boolean(f"flag_{i}")
    for i in range(4):
        hp.Int(f"units_{i}", 1, 1000)
    for i in range(4):
        hp.Float(f"lr_{i}", 1e-5, 1e-1, sampling="log")
    hp.Choice("kind", ["plain", "residual"])
    with hp.conditional_scope("kind", ["residual"]):
        for i in range(6):
            hp.Int(f"depth_{i}", 1, 8)
    assert len(hp.space) == 30
    return hp


def _score(values):
    return sum(len(str(v)) for v in values.values()) / 100.0


@pytest.mark.parametrize("name", ["random", "evolution", "reinforce"])
def test_proposal_time_on_a_30_hyperparameter_space(tmp_path, name):
    oracle = make_oracle(name, objective=keras_tuner.Objective("score", "max"), max_trials=80, seed=0,
                         hyperparameters=space_30())
    kt_internals.set_project_dir(oracle, str(tmp_path), "speed")  # as a Tuner does; see strategy._attach
    oracle.verbose = 0
    populate = oracle.populate_space
    own = []

    def timed(trial_id):
        t0 = time.perf_counter()
        out = populate(trial_id)
        own.append(time.perf_counter() - t0)
        return out

    oracle.populate_space = timed
    create = []
    for _ in range(80):  # evolution: 20 random, then 60 evolved
        t0 = time.perf_counter()
        trial = oracle.create_trial("t")
        create.append(time.perf_counter() - t0)
        oracle.update_trial(trial.trial_id, {"score": _score(trial.hyperparameters.values)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    assert len(own) == 80
    # The oracle's own work, and create_trial as a Tuner sees it (with keras-tuner's JSON writes).
    assert statistics.mean(own) < BUDGET_S, f"mean populate_space {statistics.mean(own) * 1e3:.1f} ms"
    assert statistics.mean(create) < BUDGET_S, f"mean create_trial {statistics.mean(create) * 1e3:.1f} ms"
