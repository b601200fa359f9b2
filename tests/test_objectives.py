"""What a search optimises: objectives and limits, the winner, the front, and how the oracles
learn from trials over a limit (autonas.engine.objectives, the oracles' constrained selection)."""
import keras_tuner
import numpy as np
import pandas as pd
import pytest

from autonas.engine.objectives import SearchObjective
from autonas.oracles import RegularizedEvolutionOracle, ReinforceOracle
from autonas.oracles.pareto import VIOLATION, non_dominated_ranks
from autonas.oracles.reinforce import COST_EXPONENT


def make_trial(trial_id, status="COMPLETED", **metrics):
    trial = keras_tuner.engine.trial.Trial(keras_tuner.HyperParameters(), trial_id=trial_id, status=status)
    for name, value in metrics.items():
        trial.metrics.update(name, value)
    trial.score = metrics.get("val_accuracy")
    return trial


@pytest.mark.parametrize("parameters, message", [
    (dict(objective="accuracy"), "which no trial measures"),
    (dict(objective=["latency_ms"]), "leaves out 'val_accuracy'"),
    (dict(objective=[]), "got \\[\\]"),
    (dict(objective=["val_accuracy", "params", "params"]), "twice"),
    (dict(objective=["val_accuracy", "batch_latency_ms"]), "latency_batch_size"),
    (dict(max_params=0), "max_params must be None or a positive number"),
    (dict(max_params=float("inf")), "max_params"),
    (dict(max_latency_ms="5"), "max_latency_ms"),
    (dict(max_params=True), "max_params"),
    (dict(latency_batch_size=0), "latency_batch_size must be"),
])
def test_bad_objectives_and_limits_are_named(parameters, message):
    with pytest.raises(ValueError, match=message):
        SearchObjective.from_parameters(**parameters)


def test_accuracy_alone_measures_no_cost_and_records_nothing_new():
    objective = SearchObjective.from_parameters("val_accuracy")
    assert objective.costs == ()
    assert objective.configuration() is None
    assert objective.keras_tuner().name == "val_accuracy"


def test_a_limit_or_a_cost_objective_measures_every_cost():
    assert SearchObjective.from_parameters(max_params=10).costs == ("params", "flops", "latency_ms")
    objective = SearchObjective.from_parameters(["latency_ms", "val_accuracy"], latency_batch_size=32)
    assert objective.names == ("val_accuracy", "latency_ms")  # accuracy first
    assert objective.costs == ("params", "flops", "latency_ms", "batch_latency_ms")
    assert [o.direction for o in objective.keras_tuner()] == ["max", "min"]


def test_violation_is_the_summed_relative_excess():
    objective = SearchObjective.from_parameters(max_params=1000, max_latency_ms=2.0)
    assert objective.violation({"params": 1000.0, "latency_ms": 1.0}) == 0.0
    assert objective.violation({"params": 1500.0, "latency_ms": 3.0}) == pytest.approx(0.5 + 0.5)


def test_the_winner_is_the_most_accurate_within_the_limits_not_the_summed_score():
    objective = SearchObjective.from_parameters(["val_accuracy", "latency_ms"], max_params=1000)
    trials = [
        make_trial("0", val_accuracy=0.0, params=5000.0, latency_ms=0.1, **{VIOLATION: 4.0}),  # over: not trained
        make_trial("1", val_accuracy=0.90, params=900.0, latency_ms=9.0, **{VIOLATION: 0.0}),
        make_trial("2", val_accuracy=0.80, params=100.0, latency_ms=0.5, **{VIOLATION: 0.0}),
        make_trial("3", val_accuracy=0.90, params=800.0, latency_ms=3.0, **{VIOLATION: 0.0}),  # ties 1, cheaper
        make_trial("4", status="FAILED"),
    ]
    # keras-tuner's sum (-accuracy + latency) would pick trial 0, then 2.
    assert objective.best(trials).trial_id == "3"
    assert objective.best(trials[:1]) is None


def test_the_front_is_the_non_dominated_rows_within_the_limits():
    objective = SearchObjective.from_parameters(["val_accuracy", "params"], max_params=1000)
    board = pd.DataFrame({
        "trial": list("012345"),
        "score": [np.nan, 0.90, 0.80, 0.85, 0.70, 0.95],
        "params": [5000, 900, 100, 950, 100, 990],
        "status": ["COMPLETED"] * 5 + ["RUNNING"],
        VIOLATION: [4.0, 0, 0, 0, 0, np.nan],
    })
    front = objective.front(board)
    assert list(front["trial"]) == ["1", "2"]  # 3 is dominated by 1, 4 by 2; 5 is still running
    points = np.column_stack([board["score"][1:5], -board["params"][1:5]])
    assert sorted(np.array(["1", "2", "3", "4"])[np.array(non_dominated_ranks(points)) == 0]) == ["1", "2"]


def _space():
    hp = keras_tuner.HyperParameters()
    hp.Choice("op", ["a", "b", "c", "d"])
    return hp


def test_evolution_never_picks_a_member_over_a_limit_while_one_within_them_is_sampled():
    for pareto in (False, True):
        objective = [keras_tuner.Objective("val_accuracy", "max"), keras_tuner.Objective("params", "min")]
        oracle = RegularizedEvolutionOracle(objective=objective if pareto else objective[0], max_trials=10,
                                            population_size=4, sample_size=4, hyperparameters=_space(), seed=0)
        oracle.population = [
            {"trial_id": "0", "values": {"op": "a"}, "reward": 0.0, "born": 0, "objectives": [0.0, -10.0],
             "violation": 9.0},
            {"trial_id": "1", "values": {"op": "b"}, "reward": 0.5, "born": 1, "objectives": [0.5, -900.0]},
            {"trial_id": "2", "values": {"op": "c"}, "reward": 0.0, "born": 2, "objectives": [0.0, -5.0],
             "violation": 0.5},
        ]
        # The member within the limits wins; of two over them, the one less over ranks higher.
        fitness = oracle._fitness()
        assert oracle._tournament() == {"op": "b"}
        assert fitness[2] > fitness[0]


def test_reinforce_rewards_accuracy_times_mnasnets_cost_ratio():
    objective = [keras_tuner.Objective("val_accuracy", "max"), keras_tuner.Objective("latency_ms", "min")]
    oracle = ReinforceOracle(objective=objective, max_trials=5, hyperparameters=_space(), seed=0)
    first = make_trial("0", val_accuracy=0.8, latency_ms=2.0)
    assert oracle.reward(first) == pytest.approx(0.8)  # the first is the reference
    slower = make_trial("1", val_accuracy=0.9, latency_ms=4.0)
    assert oracle.reward(slower) == pytest.approx(0.9 * 2.0 ** COST_EXPONENT)
    over = make_trial("2", val_accuracy=0.0, latency_ms=1.0, **{VIOLATION: 1.0})
    assert oracle.reward(over) == 0.0
    assert oracle.strategy_state()["reference_costs"] == {"latency_ms": 2.0}


def test_reinforce_with_one_objective_rewards_the_score():
    oracle = ReinforceOracle(objective=keras_tuner.Objective("val_accuracy", "max"), max_trials=5,
                             hyperparameters=_space(), seed=0)
    assert oracle.reward(make_trial("0", val_accuracy=0.7)) == pytest.approx(0.7)


def test_a_promoted_trial_reuses_its_parents_costs_and_others_are_measured():
    from types import SimpleNamespace

    from autonas.engine.costs import TrialCosts
    from autonas.engine.tuner import SearchTuner

    objective = SearchObjective.from_parameters(max_params=1000)
    measured = []

    class Costs(TrialCosts):
        def measure(self, hypermodel, hyperparameters):
            measured.append(dict(hyperparameters.values))
            return {"params": 5.0, "flops": 1.0, "latency_ms": 0.1, VIOLATION: 0.0}

    parent = make_trial("0", val_accuracy=0.9, params=900.0, flops=9.0, latency_ms=2.0, **{VIOLATION: 0.0})
    tuner = SimpleNamespace(costs=Costs(objective, samples=None), hypermodel=None,
                            oracle=SimpleNamespace(get_trial={"0": parent}.get))
    promoted = keras_tuner.engine.trial.Trial(keras_tuner.HyperParameters(), trial_id="1")
    promoted.hyperparameters.values.update({"op": "a", "tuner/trial_id": "0"})
    assert SearchTuner._trial_costs(tuner, promoted) == {"params": 900.0, "flops": 9.0, "latency_ms": 2.0,
                                                         VIOLATION: 0.0}
    assert measured == []
    fresh = keras_tuner.engine.trial.Trial(keras_tuner.HyperParameters(), trial_id="2")
    assert SearchTuner._trial_costs(tuner, fresh)["params"] == 5.0 and len(measured) == 1


def test_a_trial_over_a_limit_has_no_weights_to_miss(tmp_path):
    from autonas.engine.project_files import missing_weights

    for trial_id, violation in (("0", 2.0), ("1", 0.0)):
        trial = make_trial(trial_id, val_accuracy=0.5, **{VIOLATION: violation})
        (tmp_path / f"trial_{trial_id}").mkdir()
        trial.save(str(tmp_path / f"trial_{trial_id}" / "trial.json"))
    assert [p.split("/")[-2] for p in missing_weights(str(tmp_path))] == ["trial_1"]
