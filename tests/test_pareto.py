"""Pareto ranks, crowding and hypervolume (`autonas.oracles.pareto`), against brute force."""
import itertools

import keras_tuner
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autonas.oracles.pareto import (crowding_distances, dominates, hypervolume, non_dominated_ranks,
                                    oriented_values, pareto_front)

integer_points = st.lists(st.tuples(*[st.integers(1, 6)] * 3), min_size=1, max_size=12)


def _brute_force_ranks(points):
    """Peel fronts one at a time: a front is what nothing left dominates."""
    left, ranks, rank = set(range(len(points))), [None] * len(points), 0
    while left:
        front = {i for i in left if not any(dominates(points[j], points[i]) for j in left)}
        for i in front:
            ranks[i] = rank
        left -= front
        rank += 1
    return ranks


def _lattice_volume(points, dims):
    """The dominated volume above the origin of integer points, by counting unit cells."""
    return sum(any(all(corner[d] < p[d] for d in range(dims)) for p in points)
               for corner in itertools.product(range(6), repeat=dims))


@settings(max_examples=60, deadline=None)
@given(integer_points)
def test_ranks_match_peeling_fronts(points):
    assert non_dominated_ranks(points) == _brute_force_ranks(points)


@settings(max_examples=60, deadline=None)
@given(integer_points, st.integers(1, 3))
def test_hypervolume_matches_counting_unit_cells(points, dims):
    points = [p[:dims] for p in points]
    assert hypervolume(points, reference=(0,) * dims) == pytest.approx(_lattice_volume(points, dims))


def test_dominated_and_out_of_reference_points_add_nothing():
    front = [(3.0, 1.0), (1.0, 3.0)]
    assert hypervolume(front, (0, 0)) == pytest.approx(5.0)
    assert hypervolume(front + [(2.0, 1.0), (5.0, -1.0)], (0, 0)) == pytest.approx(5.0)
    assert hypervolume([], (0, 0)) == 0.0


def test_crowding_keeps_the_ends_and_prefers_the_lonely():
    front = [(0.0, 4.0), (1.0, 3.0), (1.2, 2.8), (4.0, 0.0)]
    distances = crowding_distances(front)
    assert np.isinf(distances[0]) and np.isinf(distances[3])
    assert distances[1] < distances[2] or distances[1] == pytest.approx(distances[2])
    lonely = crowding_distances([(0.0, 4.0), (2.0, 2.0), (3.9, 0.1), (4.0, 0.0)])
    assert lonely[1] > distances[1]


def test_pareto_front_and_orientation_of_a_multi_objective():
    objective = keras_tuner.Objective("val_accuracy", "max"), keras_tuner.Objective("params", "min")
    multi = keras_tuner.oracles.RandomSearchOracle(objective=list(objective)).objective  # a MultiObjective
    rows = [oriented_values(multi, {"val_accuracy": a, "params": p, "loss": 9.0})
            for a, p in [(0.9, 300), (0.8, 100), (0.7, 200)]]
    assert rows[0] == (0.9, -300.0)
    assert pareto_front(rows) == [0, 1]
    assert oriented_values(objective[1], {"params": 5}) == (-5.0,)
