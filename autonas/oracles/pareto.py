"""Pareto dominance for several objectives: ranks, crowding and the hypervolume of a front.

Every function takes points as rows of objective values oriented so that higher is better
(`oriented_values` turns a trial's metrics into such a row). Dominance, the non-dominated sort
and the crowding distance are NSGA-II's (Deb et al., 2002); the hypervolume is the volume that
a set of points dominates above a reference point, the usual single number for comparing fronts.

Example:
    >>> points = [(0.9, -3.0), (0.8, -1.0), (0.7, -2.0)]  # accuracy, minus parameters (M)
    >>> non_dominated_ranks(points)
    [0, 0, 1]
    >>> round(hypervolume(points, reference=(0.0, -4.0)), 6)
    2.5
"""
from __future__ import annotations

import numpy as np

# A trial's metric of how far it is over the limits of its search (0 within them): a search
# with limits reports it (`autonas.engine.objectives`), and the oracles rank a trial over a
# limit below every trial within them, as NSGA-II's constrained domination does.
VIOLATION = "constraint_violation"


def constraint_violation(trial):
    """`trial`'s `VIOLATION` metric, 0.0 when it has none (a search without limits)."""
    return float(trial.metrics.get_last_value(VIOLATION)) if trial.metrics.exists(VIOLATION) else 0.0


def oriented_values(objective, metrics):
    """The row of `objective`'s metrics in `metrics` (a name -> value mapping), each negated
    when its direction is "min", so that higher is better on every axis.

    `objective` is a keras-tuner `Objective` or `MultiObjective` (one row entry per objective,
    in the order they were given).
    """
    return tuple(float(metrics[o.name]) if o.direction == "max" else -float(metrics[o.name])
                 for o in objectives_of(objective))


def objectives_of(objective):
    """The single objectives inside a keras-tuner `Objective` or `MultiObjective`, in order."""
    return list(getattr(objective, "objectives", None) or [objective])


def trial_values(objective, trial):
    """`oriented_values` of a completed keras-tuner `trial`, read at its best step (the step
    keras-tuner scored it at), so that all objectives describe the same epoch."""
    metrics = {}
    for single in objectives_of(objective):
        history = trial.metrics.get_history(single.name)
        at_best = [o for o in history if o.step == trial.best_step]
        metrics[single.name] = (at_best[-1] if at_best else history[-1]).mean()
    return oriented_values(objective, metrics)


def dominates(a, b):
    """Whether `a` is at least as good as `b` on every objective and better on one."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(a >= b) and np.any(a > b))


def non_dominated_ranks(points):
    """Each point's front: 0 for the points nothing dominates, 1 for those only front 0
    dominates, and so on (NSGA-II's non-dominated sort, O(objectives x points^2) memory)."""
    points = np.asarray(points, dtype=float).reshape(len(points), -1)
    at_least = np.all(points[:, None, :] >= points[None, :, :], axis=2)
    better = np.any(points[:, None, :] > points[None, :, :], axis=2)
    dominated = at_least & better  # [i, j]: i dominates j
    counts = dominated.sum(axis=0)
    ranks = np.full(len(points), -1)
    front, rank = np.flatnonzero(counts == 0), 0
    while len(front):
        ranks[front] = rank
        counts = counts - dominated[front].sum(axis=0)
        counts[ranks >= 0] = -1  # placed already
        front, rank = np.flatnonzero(counts == 0), rank + 1
    return ranks.tolist()


def crowding_distances(points):
    """NSGA-II's crowding distance of each point within the set `points` (one front): the sum
    over objectives of the normalised gap between its two neighbours; the extremes of every
    objective get infinity, so selection keeps the ends of a front."""
    points = np.asarray(points, dtype=float).reshape(len(points), -1)
    n = len(points)
    distances = np.zeros(n)
    if n == 0:
        return distances
    for column in points.T:
        order = np.argsort(column, kind="stable")
        span = column[order[-1]] - column[order[0]]
        distances[order[0]] = distances[order[-1]] = np.inf
        if span > 0 and n > 2:
            distances[order[1:-1]] += (column[order[2:]] - column[order[:-2]]) / span
    return distances


def pareto_front(points):
    """Indices of the points no other point dominates, in their given order."""
    return [i for i, rank in enumerate(non_dominated_ranks(points)) if rank == 0]


def hypervolume(points, reference):
    """The volume dominated by `points` and dominating `reference` (higher is better on every axis).

    Points that do not dominate the reference add nothing. Exact: a sweep for two objectives
    (any number of points), slices along the first objective for more (exponential in the
    number of objectives, quick for 3 and the fronts of a search).
    """
    reference = np.asarray(reference, dtype=float)
    points = np.asarray(points, dtype=float).reshape(-1, len(reference))
    points = points[np.all(points > reference, axis=1)]
    if len(points) == 0:
        return 0.0
    if len(reference) == 1:
        return float(points[:, 0].max() - reference[0])
    # Slices between consecutive first-objective values, from the highest down: the points at
    # or above a slice's top cover it with the hypervolume of their other objectives.
    points = points[np.argsort(-points[:, 0], kind="stable")]
    bottoms = np.append(points[1:, 0], reference[0])
    if len(reference) == 2:  # the covered height is the highest second objective so far
        heights = np.maximum.accumulate(points[:, 1]) - reference[1]
        return float(np.sum((points[:, 0] - bottoms) * heights))
    points = points[[i for i, rank in enumerate(non_dominated_ranks(points)) if rank == 0]]
    bottoms = np.append(points[1:, 0], reference[0])
    return float(sum((top - bottom) * hypervolume(points[: k + 1, 1:], reference[1:])
                     for k, (top, bottom) in enumerate(zip(points[:, 0], bottoms)) if top > bottom))
