"""The oracles inside a real keras-tuner Tuner (a closed-form run_trial: nothing is trained)."""
import keras_tuner
import pytest

from autonas.oracles import make_oracle
from autonas.testing import strategy as st

PROBLEM = st.mixed_problem()


class _Interrupted(BaseException):
    """Stands for the process being killed: not an Exception, so keras-tuner does not catch it."""


class ClosedFormTuner(keras_tuner.Tuner):
    def __init__(self, *, crash_at=None, fail_at=(), **kwargs):
        super().__init__(**kwargs)
        self.crash_at = crash_at
        self.fail_at = set(fail_at)
        self.seen = []

    def run_trial(self, trial, *args, **kwargs):
        values = dict(trial.hyperparameters.values)
        self.seen.append(values)
        number = len(self.oracle.start_order) - 1
        if number == self.crash_at:
            raise _Interrupted()
        if number in self.fail_at:
            raise keras_tuner.errors.FailedTrialError("failed on purpose")
        return {PROBLEM.metric: PROBLEM.score(values)}


def _tuner(name, directory, **kwargs):
    oracle = make_oracle(name, objective=PROBLEM.objective(), max_trials=24, seed=0,
                         hyperparameters=PROBLEM.build_space())
    return ClosedFormTuner(oracle=oracle, directory=str(directory), project_name="search", **kwargs)


def _history(tuner):
    return [
        (dict(tuner.oracle.trials[t].hyperparameters.values), tuner.oracle.trials[t].status)
        for t in tuner.oracle.start_order
    ]


@pytest.mark.parametrize("name", ["random", "evolution", "reinforce"])
def test_search_killed_mid_trial_resumes_with_overwrite_false(tmp_path, name):
    whole = _tuner(name, tmp_path / "whole")
    whole.search(verbose=0)
    assert len(whole.oracle.trials) == 24

    first = _tuner(name, tmp_path / "broken", crash_at=13)
    with pytest.raises(_Interrupted):
        first.search(verbose=0)
    resumed = _tuner(name, tmp_path / "broken", overwrite=False)
    resumed.search(verbose=0)
    # The interrupted trial is run again (keras-tuner retries it), then the search goes on
    # exactly as the uninterrupted one did.
    assert resumed.seen[0] == first.seen[-1]
    assert _history(resumed) == _history(whole)
    assert resumed.get_best_hyperparameters()[0].values == whole.get_best_hyperparameters()[0].values


@pytest.mark.parametrize("name", ["evolution", "reinforce"])
def test_failed_trials_in_a_tuner_are_skipped(tmp_path, name):
    tuner = _tuner(name, tmp_path, fail_at=(3, 10, 11))
    tuner.search(verbose=0)
    statuses = [s for _, s in _history(tuner)]
    assert len(statuses) == 24
    assert statuses.count("FAILED") == 3 and statuses.count("COMPLETED") == 21
