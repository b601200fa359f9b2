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
    dominates, and so on (NSGA-II's fast non-dominated sort, O(objectives x points^2))."""
    points = np.asarray(points, dtype=float).reshape(len(points), -1)
    n = len(points)
    dominated_by = [[] for _ in range(n)]  # i -> the points i dominates
    counts = np.zeros(n, dtype=int)  # how many points dominate i
    for i in range(n):
        for j in range(i + 1, n):
            if dominates(points[i], points[j]):
                dominated_by[i].append(j)
                counts[j] += 1
            elif dominates(points[j], points[i]):
                dominated_by[j].append(i)
                counts[i] += 1
    ranks = [0] * n
    front = [i for i in range(n) if counts[i] == 0]
    rank = 0
    while front:
        following = []
        for i in front:
            ranks[i] = rank
            for j in dominated_by[i]:
                counts[j] -= 1
                if counts[j] == 0:
                    following.append(j)
        front, rank = following, rank + 1
    return ranks


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

    Points that do not dominate the reference add nothing. Exact, by slicing along the first
    objective (exponential in the number of objectives, quick for the 2-3 objectives and the
    fronts of a search).
    """
    reference = np.asarray(reference, dtype=float)
    points = np.asarray(points, dtype=float).reshape(-1, len(reference))
    points = points[np.all(points > reference, axis=1)]
    if len(points) == 0:
        return 0.0
    points = points[pareto_front(points)]
    if len(reference) == 1:
        return float(points[:, 0].max() - reference[0])
    # Slices between consecutive first-objective values, from the highest down: the points at
    # or above a slice's top cover it with the hypervolume of their other objectives.
    order = np.argsort(-points[:, 0], kind="stable")
    points = points[order]
    volume = 0.0
    for k, top in enumerate(points[:, 0]):
        bottom = points[k + 1, 0] if k + 1 < len(points) else reference[0]
        if top > bottom:
            volume += (top - bottom) * hypervolume(points[: k + 1, 1:], reference[1:])
    return float(volume)
