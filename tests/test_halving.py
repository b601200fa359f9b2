"""Successive halving in autonas's oracles: which trial is promoted, how far, and that strategies
learn from each architecture once (`autonas.oracles.halving`)."""
import dataclasses
import functools
import math

import keras_tuner
import numpy as np
import pytest

import autonas
from autonas import kt_internals
from autonas.engine import retrain
from autonas.engine.search import run_search
from autonas.oracles import make_oracle
from autonas.oracles.halving import SuccessiveHalving, is_promotion, make_halving, rung_of, trained_epochs
from autonas.testing import strategy as st
from test_engine import OPERATIONS, problem  # noqa: F401 (the fixture: 300 digits, a one-block space, 4 filters)
from test_hyperband import OBJECTIVE, recorded_search

ORACLES = ("evolution", "reinforce", "random")


def trial(name, score, epochs=2, *, status="COMPLETED", rung=None, initial_epoch=None, parent=None):
    """A finished trial `name` of architecture `op=name`, trained `epochs`; a promoted one has a
    `rung`, the `initial_epoch` it went on from and its `parent`'s id."""
    hp = keras_tuner.HyperParameters()
    hp.values["op"] = name
    if parent is not None:
        hp.values.update({"tuner/rung": rung, "tuner/initial_epoch": initial_epoch, "tuner/trial_id": parent})
        hp.values["op"] = parent  # the parent's architecture
    made = keras_tuner.engine.trial.Trial(hp, trial_id=name, status=status)
    if epochs is not None:
        made.metrics.register("epochs")
        made.metrics.update("epochs", epochs)
    made.score = score
    return made


def promotion(trials, **kwargs):
    return SuccessiveHalving(**kwargs).promotion(trials)


def test_nothing_is_promoted_before_a_rung_has_factor_trials():
    assert promotion([trial("a", 0.5), trial("b", 0.9)]) is None


def test_the_best_of_three_goes_on_for_three_times_its_epochs():
    values = promotion([trial("a", 0.5), trial("b", 0.9), trial("c", 0.7)])
    assert values == {"op": "b", "tuner/rung": 1, "tuner/epochs": 6, "tuner/initial_epoch": 2,
                      "tuner/trial_id": "b"}


def test_each_trial_is_promoted_once_and_the_next_waits_for_its_rung_to_grow():
    rung0 = [trial(name, score) for name, score in zip("abcde", (0.5, 0.9, 0.7, 0.6, 0.8))]
    running = trial("f", None, epochs=None, status="RUNNING", rung=1, initial_epoch=2, parent="b")
    assert promotion([*rung0, running]) is None  # 5 trials: only the best is in the top third
    sixth = trial("g", 0.1)
    assert promotion([*rung0, running, sixth])["tuner/trial_id"] == "e"  # 6: the top two


def test_a_higher_rung_is_promoted_first_and_the_top_rung_never():
    rung0 = [trial(name, 0.1 * i) for i, name in enumerate("abcdefghi")]
    rung1 = [trial(f"p{name}", 0.9 - 0.1 * i, epochs=4, rung=1, initial_epoch=2, parent=name)
             for i, name in enumerate("ihg")]
    values = promotion([*rung0, *rung1])
    assert values["tuner/trial_id"] == "pi" and values["tuner/rung"] == 2
    assert (values["tuner/initial_epoch"], values["tuner/epochs"]) == (6, 18)
    rung2 = trial("qi", 0.95, epochs=12, rung=2, initial_epoch=6, parent="pi")
    assert promotion([*rung0, *rung1, rung2]) is None  # max_rung 2: nothing above, rungs 0-1 done


def test_a_rung_cut_short_by_the_deadline_counts_the_epochs_it_trained():
    shortened = trial("p", 0.9, epochs=3, rung=1, initial_epoch=2, parent="x")  # planned until 6
    assert trained_epochs(shortened) == 5 and rung_of(shortened) == 1 and is_promotion(shortened)
    others = [trial("q", 0.5, epochs=4, rung=1, initial_epoch=2, parent="y"),
              trial("r", 0.4, epochs=4, rung=1, initial_epoch=2, parent="z")]
    assert promotion([shortened, *others], max_rung=2)["tuner/epochs"] == 15


def test_failed_unscored_and_unmeasured_trials_are_never_promoted():
    trials = [trial("a", 0.5), trial("b", math.nan), trial("c", None, status="FAILED"), trial("d", 0.99, epochs=None),
              trial("e", 0.6), trial("f", 0.4)]
    assert promotion(trials)["tuner/trial_id"] == "e"


def test_a_minimised_objective_promotes_the_lowest():
    trials = [trial("a", 0.5), trial("b", 0.9), trial("c", 0.7)]
    assert SuccessiveHalving().promotion(trials, "min")["tuner/trial_id"] == "a"


@pytest.mark.parametrize("value, expected", [(False, None), (None, None), (True, {"factor": 3, "max_rung": 2}),
                                             (4, {"factor": 4, "max_rung": 2})])
def test_the_argument(value, expected):
    halving = make_halving(value)
    assert (halving and halving.configuration()) == expected


@pytest.mark.parametrize("value", [1, 2.5, "yes", -3])
def test_a_bad_argument_is_refused(value):
    with pytest.raises(ValueError, match="successive"):
        make_halving(value)


# -- in the oracles ---------------------------------------------------------------------------


def halving_factory(name, factor=3):
    return functools.partial(make_oracle, name, successive_halving=factor)


def drive(name, tmp_path, n=30, learned=None):
    """Run `name`'s oracle with successive halving for `n` trials on the strategy problem, each
    reporting its epochs; `learned` collects the trials its strategy learned from."""
    problem = st.mixed_problem()
    oracle = st.make(halving_factory(name), problem, max_trials=n, seed=0)
    if learned is not None:
        learn = oracle.learn

        def recording(trial, reward):
            learned.append(trial.trial_id)
            return learn(trial, reward)

        oracle.learn = recording
    kt_internals.set_project_dir(oracle, str(tmp_path), "p")
    oracle.verbose = 0
    for _ in range(n):
        made = oracle.create_trial("t")
        values = made.hyperparameters.values
        epochs = values.get("tuner/epochs", 2) - values.get("tuner/initial_epoch", 0)
        oracle.update_trial(made.trial_id, {problem.metric: problem.score(values) + 0.001 * epochs, "epochs": epochs})
        made.status = "COMPLETED"
        oracle.end_trial(made)
    return oracle


@pytest.mark.parametrize("name", ORACLES)
def test_oracles_promote_and_learn_each_architecture_once(tmp_path, name):
    learned = [] if name != "random" else None
    oracle = drive(name, tmp_path, learned=learned)
    trials = [oracle.trials[t] for t in oracle.start_order]
    promoted = [t for t in trials if is_promotion(t)]
    assert len(promoted) >= 6 and max(rung_of(t) for t in promoted) == 2
    for child in promoted:
        parent = oracle.trials[child.hyperparameters.values["tuner/trial_id"]]
        assert rung_of(child) == rung_of(parent) + 1
        assert child.hyperparameters.values["tuner/initial_epoch"] == trained_epochs(parent)
        assert {k: v for k, v in child.hyperparameters.values.items() if not k.startswith("tuner/")} == \
            {k: v for k, v in parent.hyperparameters.values.items() if not k.startswith("tuner/")}
    architectures = [t.trial_id for t in trials if not is_promotion(t)]
    if learned is not None:
        assert learned == architectures  # each once, in order, from its first trial
    if name == "evolution":
        assert {m["trial_id"] for m in oracle.population} <= set(architectures)


@pytest.mark.parametrize("name", ORACLES)
def test_a_search_with_rungs_resumes_as_if_never_stopped(tmp_path, name):
    st.assert_resume_identical(halving_factory(name), st.mixed_problem(), 30, stop_at=13, directory=tmp_path,
                               trial_epochs=2)


def test_a_resumed_search_with_other_rungs_is_refused(tmp_path):
    problem = st.mixed_problem()
    st.run_search(halving_factory("evolution"), problem, 10, directory=tmp_path, project_name="p", stop_after=5,
                  trial_epochs=2)
    with pytest.raises(ValueError, match="changed configuration"):
        st.run_search(halving_factory("evolution", factor=4), problem, 10, directory=tmp_path, project_name="p",
                      trial_epochs=2)


# -- through the trial runner and the classifier ------------------------------------------------


@pytest.mark.endtoend
def test_a_promoted_trial_goes_on_from_its_parents_weights_for_its_rung(problem, tmp_path):
    oracle = make_oracle("evolution", objective=OBJECTIVE, max_trials=4, seed=0,
                         hyperparameters=problem[0].hyperparameters(), successive_halving=True)
    tuner, fits = recorded_search(problem, oracle, tmp_path, epochs=1)
    promoted = [t for t in tuner.oracle.trials.values() if is_promotion(t)]
    assert [t.trial_id for t in promoted] == ["3"]  # after three 1-epoch trials, the best of them
    child = promoted[0]
    parent = tuner.oracle.get_trial(child.hyperparameters.values["tuner/trial_id"])
    assert parent.score == max(tuner.oracle.trials[t].score for t in ("0", "1", "2"))
    peak = problem[1].learning_rate
    assert fits["3"]["epochs"] == [(1, pytest.approx(0.75 * peak)), (2, pytest.approx(0.25 * peak))]
    assert child.metrics.get_last_value("epochs") == 2 and trained_epochs(child) == 3
    for started, saved in zip(fits["3"]["weights"], tuner.load_model(parent).get_weights()):
        np.testing.assert_array_equal(started, saved)


@pytest.mark.endtoend
def test_an_image_classifier_searches_with_rungs(digits, tmp_path):
    images, labels = digits
    model = autonas.ImageSearchClassifier(successive_halving=True, max_trials=8, epochs=1, num_blocks=1,
                                          search_filters=4, operations=OPERATIONS, batch_size=32, retrain=False,
                                          verbose=0, seed=0, directory=str(tmp_path))
    model.fit(images[:300], labels[:300])
    board = model.leaderboard_.set_index("trial")
    assert (board["status"] == "COMPLETED").all() and len(board) == 8
    promoted = board[board["from_trial"].notna()].sort_index()
    # The first after three trials, the best of them; then whenever one of the top third of the
    # first rung was not promoted yet (which depends on the scores, from trial 5 on).
    assert promoted.index[0] == "3" and promoted.loc["3", "from_trial"] == board.loc[["0", "1", "2"], "score"].idxmax()
    assert len(promoted) >= 2 and all(int(parent) < int(child) for child, parent in promoted["from_trial"].items())
    assert (promoted["epochs"] == 2).all() and (board.loc[promoted["from_trial"], "epochs"] == 1).all()
    assert board.loc[promoted["from_trial"], "from_trial"].isna().all()
    assert model.predict(images[300:310]).shape == (10,)


@pytest.mark.parametrize("oracle", ["enas", "instance"])
def test_rungs_with_a_search_that_cannot_take_them_are_refused_before_training(digits, tmp_path, oracle):
    images, labels = digits
    if oracle == "instance":
        oracle = keras_tuner.oracles.HyperbandOracle(objective=OBJECTIVE, max_epochs=3)
    model = autonas.ImageSearchClassifier(oracle=oracle, successive_halving=True, directory=str(tmp_path / "d"))
    with pytest.raises(ValueError, match="successive_halving works with oracle="):
        model.fit(images[:50], labels[:50])
    assert not (tmp_path / "d").exists()


@pytest.mark.endtoend
def test_a_promoted_winner_goes_on_from_its_weights_for_the_one_epoch_that_fits(problem, tmp_path, monkeypatch,
                                                                               capsys):
    space, hypermodel, data = problem
    outcome = run_search("evolution", space, hypermodel, data, epochs=1, max_trials=4, directory=str(tmp_path),
                         seed=0, verbose=0, successive_halving=True)
    promoted = outcome.tuner.oracle.get_trial("3")
    assert is_promotion(promoted) and trained_epochs(promoted) == 3
    outcome = dataclasses.replace(outcome, best_trial=promoted, genotype=space.declare(promoted.hyperparameters.copy()),
                                  trial_epochs=3)

    def retrained_with_time_for(epochs):
        monkeypatch.setattr(retrain, "_epochs_that_fit", lambda *args: epochs)
        capsys.readouterr()
        return retrain.retrain_best(outcome, hypermodel, data, final_size=hypermodel.size, final_epochs=3,
                                    batch_size=32)

    kept = retrained_with_time_for(1)  # 1 of its 3 epochs
    assert kept.size == hypermodel.size and "going on from trial 3's weights" in capsys.readouterr().out
    kept = retrained_with_time_for(0)
    assert kept.size is None and "keeping the best trial's model" in capsys.readouterr().out
    monkeypatch.setattr(retrain, "continue_from_trial", lambda *args: False)  # as if a remote worker had run it
    # From scratch, 2 epochs would undo the 3 it had: it is kept.
    kept = retrained_with_time_for(2)
    assert kept.size is None and "keeping the best trial's model" in capsys.readouterr().out
