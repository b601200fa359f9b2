import keras_tuner
import pytest

from autonas.oracles import ORACLE_NAMES, RegularizedEvolutionOracle, ReinforceOracle, make_oracle

OBJECTIVE = keras_tuner.Objective("val_accuracy", "max")


def test_names_map_to_oracles():
    assert ORACLE_NAMES == ("random", "evolution", "reinforce")
    assert isinstance(make_oracle("random", objective=OBJECTIVE, max_trials=5), keras_tuner.oracles.RandomSearchOracle)
    evo = make_oracle("evolution", objective=OBJECTIVE, max_trials=5, seed=0)
    assert isinstance(evo, RegularizedEvolutionOracle) and evo.random_seed == 0 and evo.max_trials == 5
    rl = make_oracle("reinforce", objective=OBJECTIVE, max_trials=7, seed=3, initial_values=[{"a": 1}])
    assert isinstance(rl, ReinforceOracle) and rl.random_seed == 3 and rl.initial_values == [{"a": 1}]


def test_seed_zero_reaches_keras_tuner_as_a_real_seed():
    a = make_oracle("random", objective=OBJECTIVE, max_trials=5, seed=0)
    b = make_oracle("random", objective=OBJECTIVE, max_trials=5, seed=0)
    assert a.seed == b.seed == 1


def test_errors():
    with pytest.raises(ValueError, match="Unknown oracle"):
        make_oracle("annealing", objective=OBJECTIVE, max_trials=5)
    with pytest.raises(TypeError):
        make_oracle(3, objective=OBJECTIVE, max_trials=5)
    with pytest.raises(ValueError, match="initial_values"):
        make_oracle("random", objective=OBJECTIVE, max_trials=5, initial_values=[{}])


def test_an_oracle_instance_is_used_as_given():
    oracle = keras_tuner.oracles.BayesianOptimizationOracle(objective=OBJECTIVE, max_trials=3)
    assert make_oracle(oracle, objective=OBJECTIVE, max_trials=99) is oracle
