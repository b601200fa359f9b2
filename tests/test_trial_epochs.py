"""Trials train the epochs asked for, or as many as the first trial (the probe) showed fit."""
import pytest

from autonas.engine import trial_epochs
from autonas.engine.budget import Deadline
from autonas.engine.search import run_search
from autonas.engine.trial_epochs import DEFAULT_TRIAL_EPOCHS, TARGET_TRIALS, TrialEpochs
from test_budget import FakeClock
from test_engine import problem  # noqa: F401  (the shared digits search fixture)


def test_asked_epochs_win_and_no_time_limit_means_the_default():
    assert TrialEpochs(3, Deadline(600)).next_trial()[0] == 3
    unlimited = TrialEpochs(None, Deadline(None))
    assert unlimited.epochs == DEFAULT_TRIAL_EPOCHS and not unlimited.sizing
    unlimited.trial_done(2)
    assert unlimited.epochs == DEFAULT_TRIAL_EPOCHS


def test_the_probe_plans_for_the_most_under_its_share_then_sets_every_trials_epochs():
    clock = FakeClock()
    epochs = TrialEpochs(None, Deadline(1200.0, clock=clock))
    clock.now = 120.0
    planned, deadline = epochs.next_trial()
    assert planned == DEFAULT_TRIAL_EPOCHS and epochs.epochs is None
    assert deadline.remaining == pytest.approx(1080.0 / TARGET_TRIALS)
    epochs.trial_done(4)
    assert epochs.next_trial() == (4, epochs.deadline)
    epochs.trial_done(1)  # a later trial cut short by the search's deadline changes nothing
    assert epochs.epochs == 4
    resumed = TrialEpochs(None, Deadline(1200.0, clock=clock))
    resumed.set_state(epochs.get_state())
    assert resumed.epochs == 4 and not resumed.sizing


def test_with_trials_side_by_side_each_probe_plans_under_its_workers_share(monkeypatch):
    clock = FakeClock()
    assert TrialEpochs(None, Deadline(1200.0, clock=clock), concurrent=2).next_trial()[1].remaining == \
        pytest.approx(1200.0 * 2 / TARGET_TRIALS)
    many = TrialEpochs(None, Deadline(1200.0, clock=clock), concurrent=TARGET_TRIALS + 5)
    assert many.next_trial()[1].remaining == pytest.approx(1200.0)  # never more than the search's time


def test_the_concurrent_trials_come_from_the_environment(monkeypatch):
    from autonas.cluster.roles import CONCURRENT_TRIALS_VARIABLE, concurrent_trials_from_environment
    monkeypatch.delenv(CONCURRENT_TRIALS_VARIABLE, raising=False)
    assert concurrent_trials_from_environment() == 1
    monkeypatch.setenv(CONCURRENT_TRIALS_VARIABLE, "3")
    assert concurrent_trials_from_environment() == 3
    for bad in ("0", "two", "-1", "1.5"):
        monkeypatch.setenv(CONCURRENT_TRIALS_VARIABLE, bad)
        with pytest.raises(ValueError, match=CONCURRENT_TRIALS_VARIABLE):
            concurrent_trials_from_environment()


@pytest.mark.parametrize("covers_setup, probe_epochs", [(False, 2), pytest.param(True, DEFAULT_TRIAL_EPOCHS, marks=pytest.mark.endtoend)])
def test_a_sized_search_trains_every_trial_the_probes_epochs(problem, tmp_path, monkeypatch,  # noqa: F811
                                                             covers_setup, probe_epochs):
    space, hypermodel, data = problem
    # The probe's share (20 ms) holds no more than the two epochs a probe always trains; covering
    # its tracing, it keeps all it was planned (a tiny network's first epoch is tracing dozens of
    # times over a steady epoch).
    monkeypatch.setattr(trial_epochs, "TARGET_TRIALS", 1000)
    monkeypatch.setattr(trial_epochs, "PROBE_COVERS_SETUP", covers_setup)
    outcome = run_search("random", space, hypermodel, data, epochs=None, deadline=Deadline(20.0),
                         directory=str(tmp_path), seed=0, verbose=0)
    board = outcome.leaderboard.sort_values("trial")
    epochs = board["epochs"].astype(int).tolist()
    assert len(epochs) >= 3, board
    probe = epochs[0]
    assert probe == probe_epochs, board
    # Every later trial trains the probe's epochs; the last may be cut by the search's deadline.
    assert all(e == probe for e in epochs[1:-1]) and epochs[-1] <= probe, board
    assert outcome.trial_epochs == int(board.set_index("trial").loc[outcome.best_trial.trial_id, "epochs"])
