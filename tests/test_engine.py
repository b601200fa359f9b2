"""The engine's public functions run a search and retrain its winner without an estimator, as a
benchmark or a keras-tuner user would call them."""
import os

import keras_tuner
import numpy as np
import pytest

from autonas.data.images import spec_from_array
from autonas.data.pipeline import from_arrays, split_arrays
from autonas.engine.budget import Deadline
from autonas.engine.retrain import continue_from_trial, retrain_best, search_share
from autonas.engine.search import check_search, run_search, search_directory
from autonas.space import CellHyperModel, CellSearchSpace, NetworkSize

OPERATIONS = ["conv_3x3", "max_pool_3x3", "identity"]


@pytest.fixture(scope="module")
def problem(digits):
    images, labels = digits
    x, y = images[:300], labels[:300]
    x_train, x_val, y_train, y_val = split_arrays(x, y, 0.2, seed=0)
    data = from_arrays(x_train, y_train, x_val, y_val, batch_size=32, seed=0)
    space = CellSearchSpace(OPERATIONS, num_blocks=1, rank=2)
    hypermodel = CellHyperModel(space, inputs_builder=spec_from_array(x).build_inputs, num_classes=10,
                                size=NetworkSize(filters=4, normal_cells=1))
    return space, hypermodel, data


def test_a_trial_search_and_its_retraining_without_an_estimator(problem, tmp_path):
    space, hypermodel, data = problem
    outcome = run_search("random", space, hypermodel, data, epochs=1, max_trials=2, directory=str(tmp_path),
                         seed=0, verbose=0)
    assert len(outcome.leaderboard) == 2 and outcome.role is None and not outcome.is_worker
    assert outcome.score == outcome.leaderboard["score"].max()
    assert str(outcome.genotype) == outcome.leaderboard["architecture"][0]
    final = NetworkSize(filters=8, normal_cells=1)
    retrained = retrain_best(outcome, hypermodel, data, final_size=final, final_epochs=1, batch_size=32,
                             verbose=0)
    assert retrained.size == final
    assert retrained.model.count_params() == hypermodel.count_params(outcome.genotype, size=final)


def test_retrain_false_keeps_the_best_trials_model(problem, tmp_path):
    space, hypermodel, data = problem
    outcome = run_search("evolution", space, hypermodel, data, epochs=1, max_trials=1, directory=str(tmp_path),
                         seed=0, verbose=0)
    kept = retrain_best(outcome, hypermodel, data, final_size=NetworkSize(filters=8), final_epochs=1,
                        batch_size=32, retrain=False, verbose=0)
    assert kept.size is None
    assert kept.model.count_params() == outcome.leaderboard["params"][0]


def test_retraining_at_the_search_size_goes_on_from_the_best_trials_weights(problem, tmp_path, capsys):
    space, hypermodel, data = problem
    outcome = run_search("evolution", space, hypermodel, data, epochs=1, max_trials=1, directory=str(tmp_path),
                         seed=0, verbose=0)
    trained = outcome.tuner.load_model(outcome.best_trial).get_weights()
    model = hypermodel.build_genotype(outcome.genotype)
    assert not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), trained))
    assert continue_from_trial(model, outcome.tuner, outcome.best_trial)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), trained))
    capsys.readouterr()
    retrained = retrain_best(outcome, hypermodel, data, final_size=hypermodel.size, final_epochs=1, batch_size=32,
                             verbose=1)
    assert retrained.size == hypermodel.size
    assert f"going on from trial {outcome.best_trial.trial_id}'s weights" in capsys.readouterr().out
    os.remove(outcome.tuner.weights_path(outcome.best_trial.trial_id))  # as if a remote worker had run it
    fresh = hypermodel.build_genotype(outcome.genotype)
    before = fresh.get_weights()
    assert not continue_from_trial(fresh, outcome.tuner, outcome.best_trial)
    assert all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), before))


@pytest.mark.endtoend
def test_a_search_seed_fixes_the_architectures_tried(problem, tmp_path):
    space, hypermodel, data = problem
    boards = [run_search("evolution", space, hypermodel, data, epochs=1, max_trials=2, directory=str(tmp_path / d),
                         seed=3, verbose=0).leaderboard for d in ("a", "b")]
    assert sorted(boards[0]["architecture"]) == sorted(boards[1]["architecture"])


def test_search_share_and_checks():
    assert search_share(one_shot=False, retrain=True) == pytest.approx(0.7)
    assert search_share(one_shot=True, retrain=True) == pytest.approx(0.5)
    assert search_share(one_shot=True, retrain=False) == 1.0
    with pytest.raises(ValueError, match="oracle must be one of"):
        check_search("annealing", strategy=None, seed=0, directory=None, has_validation_data=False)
    oracle = keras_tuner.oracles.RandomSearchOracle(objective=keras_tuner.Objective("val_accuracy", "max"))
    with pytest.raises(ValueError, match="instance brings its own starting points"):
        check_search(oracle, strategy=None, seed=0, directory=None, has_validation_data=False, warm_start=["enas"])
    with search_directory(None) as temporary:
        assert isinstance(temporary, str)
    with search_directory("runs") as given:
        assert given == "runs"


def test_no_time_left_means_no_trial_and_a_clear_error(problem, tmp_path):
    space, hypermodel, data = problem
    with pytest.raises(RuntimeError, match="The time limit ended before the first trial"):
        run_search("random", space, hypermodel, data, epochs=1, directory=str(tmp_path), seed=0, verbose=0,
                   deadline=Deadline(0.0))
