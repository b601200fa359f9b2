"""Multi-objective aging evolution: Pareto rank and crowding select parents (issue 19)."""
import keras_tuner
import numpy as np
import pytest

from autonas.oracles import RegularizedEvolutionOracle
from autonas.testing import strategy as st

PROBLEM = st.sized_problem()


def _evolution(**kwargs):
    def factory(*, hyperparameters, objective, max_trials, seed):
        return RegularizedEvolutionOracle(hyperparameters=hyperparameters, objective=objective, max_trials=max_trials,
                                          seed=seed, population_size=6, sample_size=3, **kwargs)

    return factory


def test_several_objectives_select_by_pareto_rank_unless_told_to_sum():
    make = dict(hyperparameters=PROBLEM.build_space(), max_trials=5, seed=0)
    assert RegularizedEvolutionOracle(objective=PROBLEM.objective(), **make).pareto
    assert not RegularizedEvolutionOracle(objective=PROBLEM.objective(), pareto=False, **make).pareto
    assert not RegularizedEvolutionOracle(objective=keras_tuner.Objective("score", "max"), **make).pareto
    with pytest.raises(ValueError, match="several objectives"):
        RegularizedEvolutionOracle(objective=keras_tuner.Objective("score", "max"), pareto=True, **make)


def test_fitness_orders_by_rank_then_crowding():
    oracle = RegularizedEvolutionOracle(objective=PROBLEM.objective(), hyperparameters=PROBLEM.build_space(), seed=0)
    # (score, -size): three on the front (two ends and a crowded middle), one dominated.
    rows = [(1.0, -9.0), (0.5, -5.0), (0.9, -8.9), (0.4, -6.0), (0.0, -1.0)]
    oracle.population = [{"values": {}, "reward": 0.0, "objectives": list(r)} for r in rows]
    fitness = oracle._fitness()  # (-violation, -rank, crowding); none is over a limit
    assert [f[0] for f in fitness] == [0] * 5
    assert [f[1] for f in fitness] == [0, 0, 0, -1, 0]
    assert np.isinf(fitness[0][2]) and np.isinf(fitness[4][2])
    assert fitness[1][2] > fitness[2][2]  # the lonely middle before the one beside an end
    assert max(range(5), key=lambda i: fitness[i]) in (0, 4)


def test_reproducible_and_every_member_carries_its_objectives(tmp_path):
    st.assert_reproducible(_evolution(), PROBLEM, 30, directory=tmp_path)


@pytest.mark.parametrize("stop_at", [4, 17])  # in the random phase, then while evolving
def test_resume_identical(tmp_path, stop_at):
    st.assert_resume_identical(_evolution(), PROBLEM, 30, stop_at=stop_at, directory=tmp_path)


def test_a_pareto_search_is_not_resumed_as_a_summed_one(tmp_path):
    st.run_search(_evolution(), PROBLEM, 8, directory=tmp_path, stop_after=4, project_name="p")
    with pytest.raises(ValueError, match="changed configuration"):
        st.run_search(_evolution(pareto=False), PROBLEM, 8, directory=tmp_path, project_name="p")


def test_the_population_evolves_towards_the_front(tmp_path):
    """Parents are chosen among non-dominated members: after the random phase, children
    mostly come from the population's front, so later trials are closer to it than random ones."""
    records = st.run_search(_evolution(), PROBLEM, 60, directory=tmp_path, seed=0)
    points = np.array([(PROBLEM.score(r.values), -st._mixed_size(r.values)) for r in records])
    from autonas.oracles.pareto import non_dominated_ranks

    ranks = np.array(non_dominated_ranks(points))
    assert ranks[30:].mean() < ranks[:6].mean()
