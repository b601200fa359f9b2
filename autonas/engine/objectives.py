"""What a search optimises: validation accuracy, alone or against what the model costs to serve.

A classifier's `objective=` names the metrics the search trades off: "val_accuracy" (always
one of them, maximised) and any of the serving costs in `COSTS` (minimised); `max_params=` and
`max_latency_ms=` bound costs. A `SearchObjective` holds both, and decides from trial metrics:

- which trials are feasible: a cost over its limit makes the trial infeasible, and the runner
  does not train it (costs do not depend on weights), reporting accuracy 0 and
  `VIOLATION` > 0 so that every oracle learns to avoid it (`autonas.engine.tuner`);
- the winner: the most accurate feasible trial, not keras-tuner's sum of several objectives
  (which adds accuracy to milliseconds);
- the Pareto front: the feasible trials no other feasible trial beats on every objective.

Costs are those of the model `fit` returns for the architecture (`autonas.engine.costs.TrialCosts`),
so that a limit holds for the returned model.

Example:
    >>> objective = SearchObjective.from_parameters(["val_accuracy", "latency_ms"], max_params=100_000)
    >>> objective.costs
    ('params', 'flops', 'latency_ms')
    >>> objective.violation({"params": 150_000.0})
    0.5
"""
from __future__ import annotations

import dataclasses
import math
import numbers

import keras_tuner
import numpy as np
import pandas as pd

from autonas.oracles.pareto import VIOLATION, constraint_violation, non_dominated_ranks

ACCURACY = "val_accuracy"
# Serving costs a trial can measure (`autonas.engine.costs`): parameters, floating-point
# operations of one sample's forward pass, median milliseconds of one call on one sample and,
# when `latency_batch_size` is given, on a batch of that many.
COSTS = ("params", "flops", "latency_ms", "batch_latency_ms")
# The classifiers' limit parameters and the cost each bounds. A trial's `VIOLATION` is 0 within
# them, else the sum of each cost's relative excess (cost / limit - 1).
LIMITS = {"max_params": "params", "max_latency_ms": "latency_ms"}


@dataclasses.dataclass(frozen=True)
class SearchObjective:
    """The objectives of a search (`names`, "val_accuracy" first) and its cost `limits`
    (cost name -> the most allowed); `batch_latency` is the batch of "batch_latency_ms", or None."""

    names: tuple = (ACCURACY,)
    limits: dict = dataclasses.field(default_factory=dict)
    batch_latency: int | None = None

    @classmethod
    def from_parameters(cls, objective="val_accuracy", *, max_params=None, max_latency_ms=None,
                        latency_batch_size=None):
        """The `SearchObjective` of a classifier's parameters; ValueError naming a bad one."""
        names = [objective] if isinstance(objective, str) else objective
        allowed = (ACCURACY, *COSTS)
        if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) for n in names):
            raise ValueError(f"objective must be 'val_accuracy' or a list of metric names from {allowed}, "
                             f"got {objective!r}.")
        unknown = [n for n in names if n not in allowed]
        if unknown:
            raise ValueError(f"objective names {unknown}, which no trial measures; choose from {allowed} "
                             "(accuracy is maximised, the costs minimised).")
        if ACCURACY not in names:
            raise ValueError(f"objective {list(names)} leaves out 'val_accuracy': a search for the cheapest model "
                             "alone would return an untrained one. Write ['val_accuracy', ...].")
        if len(set(names)) != len(names):
            raise ValueError(f"objective names a metric twice: {list(names)}.")
        if latency_batch_size is not None and (isinstance(latency_batch_size, bool) or not isinstance(
                latency_batch_size, numbers.Integral) or latency_batch_size < 1):
            raise ValueError(f"latency_batch_size must be None or an integer >= 1, got {latency_batch_size!r}.")
        if "batch_latency_ms" in names and latency_batch_size is None:
            raise ValueError("objective names 'batch_latency_ms', the latency of a batch: give its size as "
                             "latency_batch_size=<int>.")
        limits = {}
        for parameter, value in (("max_params", max_params), ("max_latency_ms", max_latency_ms)):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
                raise ValueError(f"{parameter} must be None or a positive number, got {value!r}.")
            limits[LIMITS[parameter]] = float(value)
        ordered = (ACCURACY, *[n for n in names if n != ACCURACY])
        return cls(ordered, limits, None if latency_batch_size is None else int(latency_batch_size))

    @property
    def costs(self):
        """The costs each trial measures: none for accuracy alone, else every cost (the
        leaderboard shows them all), "batch_latency_ms" only with a batch size."""
        if len(self.names) == 1 and not self.limits and self.batch_latency is None:
            return ()
        return tuple(c for c in COSTS if c != "batch_latency_ms" or self.batch_latency is not None)

    def keras_tuner(self):
        """The keras-tuner objective the oracle is given: one `Objective`, or a list of them,
        which the Oracle makes a `MultiObjective` (evolution sorts its trials by Pareto rank;
        reinforce scalarises them)."""
        single = [keras_tuner.Objective(n, "max" if n == ACCURACY else "min") for n in self.names]
        return single[0] if len(single) == 1 else single

    def violation(self, costs):
        """How far `costs` (name -> value) are over the limits: 0.0 within them."""
        return float(sum(max(0.0, costs[name] / limit - 1.0) for name, limit in self.limits.items()))

    def configuration(self):
        """What a resumed search must share (None for accuracy alone, as before objectives existed)."""
        if not self.costs:
            return None
        return {"names": list(self.names), "limits": dict(self.limits), "batch_latency": self.batch_latency}

    def best(self, trials):
        """The most accurate completed feasible trial (ties: the cheaper, objective by objective),
        or None."""
        candidates = [t for t in trials if _scored(t) and constraint_violation(t) <= 0]
        if not candidates:
            return None
        return max(candidates, key=lambda t: tuple(_oriented(name, _metric(t.metrics, name)) for name in self.names))

    def front(self, leaderboard):
        """The rows of `leaderboard` (`autonas.engine.search` columns) on the Pareto front of
        `names`: completed, feasible, and beaten on every objective by no other such row;
        most accurate first."""
        rows = leaderboard[leaderboard["score"].notna() & (leaderboard["status"] == "COMPLETED")]
        if VIOLATION in rows:
            rows = rows[rows[VIOLATION].fillna(0) <= 0]
        columns = ["score" if name == ACCURACY else name for name in self.names]
        rows = rows.dropna(subset=columns)
        if rows.empty:
            return rows.reset_index(drop=True)
        points = np.column_stack([rows[c].astype(float).to_numpy() * (1 if c == "score" else -1) for c in columns])
        ranks = np.asarray(non_dominated_ranks(points))
        front = rows[ranks == 0]
        return front.sort_values(columns, ascending=[c != "score" for c in columns], kind="stable").reset_index(
            drop=True)


def _scored(trial):
    return (trial.status == keras_tuner.engine.trial.TrialStatus.COMPLETED and trial.score is not None
            and np.isfinite(trial.score))


def _metric(metrics, name):
    return metrics.get_last_value(name) if metrics.exists(name) else math.nan


def _oriented(name, value):
    """`value` with higher better; a missing one is the worst."""
    if pd.isna(value):
        return -math.inf
    return float(value) if name == ACCURACY else -float(value)
