"""The strategy test helper itself: its problems are right and its assertions can fail."""
import functools

import keras_tuner
import numpy as np
import pytest

from autonas.oracles import make_oracle
from autonas.testing import strategy as st


def test_problems_have_the_declared_unique_optimum():
    for problem in st.iter_problems():
        configs = problem.all_configurations()
        assert len(configs) == problem.size
        scores = [problem.score(c) for c in configs]
        best = max(scores) if problem.direction == "max" else min(scores)
        assert best == problem.optimum_score
        assert [c for c, s in zip(configs, scores) if s == best] == [problem.optimum]
    assert st.tiny_problem().size == 18
    assert st.mixed_problem().size == 6000
    assert st.mixed_problem().optimum == {
        "op": "conv3", "activation": "gelu", "units": 40, "batchnorm": True,
        "dropout": 0.2, "kind": "residual", "depth": 2,
    }


def test_min_problem_is_the_negated_max_problem():
    up, down = st.mixed_problem("max"), st.mixed_problem("min")
    assert up.optimum == down.optimum
    assert down.optimum_score == -up.optimum_score
    assert down.objective().direction == "min" and down.metric == "loss"


def test_run_search_drives_the_oracle_api(tmp_path):
    factory = functools.partial(make_oracle, "random")
    problem = st.mixed_problem()
    records = st.run_search(factory, problem, 12, directory=tmp_path, seed=0, concurrency=3,
                            fail=lambda i, values: i % 4 == 1)
    assert len(records) == 12
    assert [r.status for r in records].count("FAILED") == 3
    for r in records:
        if r.status == "COMPLETED":
            assert r.score == problem.score(r.values)
        else:
            assert r.score is None


# -- oracles that are broken on purpose: each assertion must catch its defect ------------------


class _UnseededOracle(keras_tuner.Oracle):
    """Ignores its seed: a fresh RNG every time."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._rng = np.random.default_rng()

    def populate_space(self, trial_id):
        values = {}
        for hp in self.hyperparameters.space:
            if all(c.is_active(values) for c in hp.conditions):
                options = list(hp.values)
                values[hp.name] = options[int(self._rng.integers(len(options)))]
        return {"status": "RUNNING", "values": values}


class _ForgetfulOracle(_UnseededOracle):
    """Seeded, but its RNG is not part of its saved state."""

    def __init__(self, *, seed, **kwargs):
        super().__init__(**kwargs)
        self._rng = np.random.default_rng(seed)


class _StuckOracle(keras_tuner.Oracle):
    """Always proposes the defaults."""

    def populate_space(self, trial_id):
        return {"status": "RUNNING", "values": {hp.name: hp.default for hp in self.hyperparameters.space}}


def _factory(cls):
    def factory(*, hyperparameters, objective, max_trials, seed):
        kwargs = dict(hyperparameters=hyperparameters, objective=objective, max_trials=max_trials)
        if cls is _ForgetfulOracle:
            kwargs["seed"] = seed
        return cls(**kwargs)

    return factory


def test_assert_reproducible_catches_an_ignored_seed(tmp_path):
    with pytest.raises(AssertionError, match="same seed gave two different sequences"):
        st.assert_reproducible(_factory(_UnseededOracle), st.mixed_problem(), 10, directory=tmp_path)


def test_assert_resume_identical_catches_unsaved_state(tmp_path):
    st.assert_reproducible(_factory(_ForgetfulOracle), st.mixed_problem(), 10, directory=tmp_path)
    with pytest.raises(AssertionError, match="diverged"):
        st.assert_resume_identical(_factory(_ForgetfulOracle), st.mixed_problem(), 20, stop_at=8,
                                   directory=tmp_path)


def test_assert_finds_optimum_catches_a_stuck_oracle(tmp_path):
    with pytest.raises(AssertionError, match="was not found within"):
        st.assert_finds_optimum(_factory(_StuckOracle), st.tiny_problem(), within=20, directory=tmp_path,
                                seeds=(0,))
