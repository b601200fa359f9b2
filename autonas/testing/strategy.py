"""A reusable test helper for search strategies (keras-tuner Oracles) that never trains.

A strategy is checked on a closed-form objective over a small search space with a known
optimum, driven through keras-tuner's real Oracle API (`create_trial` / `update_trial` /
`end_trial`, and `save` / `reload` for resuming) with no Tuner and no model:

- the same seed gives the same sequence of proposals, and another seed another sequence;
- the optimum is found within a given number of trials;
- a search saved and restored mid-way (a new Oracle from the factory, `reload()` from the
  project directory, as a Tuner does with `overwrite=False`) continues exactly as if it had
  never stopped.

An oracle factory is any callable `factory(*, hyperparameters, objective, max_trials, seed)`
returning a `keras_tuner.Oracle`; `functools.partial(autonas.oracles.make_oracle, "evolution")`
is one.

Example:
    >>> import functools, tempfile
    >>> from autonas.oracles import make_oracle
    >>> factory = functools.partial(make_oracle, "evolution")
    >>> problem = mixed_problem()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     assert_reproducible(factory, problem, n=30, directory=tmp)
"""
import dataclasses
import itertools
import math
import os
import uuid

import keras_tuner

from autonas import kt_internals

__all__ = [
    "StrategyProblem",
    "TrialRecord",
    "mixed_problem",
    "sized_problem",
    "tiny_problem",
    "run_search",
    "assert_reproducible",
    "assert_finds_optimum",
    "assert_resume_identical",
]


@dataclasses.dataclass(frozen=True)
class StrategyProblem:
    """A search space with a closed-form objective and a known optimum.

    Attributes:
        name: a short name (used in messages and directory names).
        build_space: callable returning a fresh `keras_tuner.HyperParameters`.
        score: callable mapping a values dict (active hyperparameters only) to a float.
        metric: the metric name reported to the oracle.
        direction: "max" or "min".
        optimum: the values dict of the unique best configuration.
        optimum_score: `score(optimum)`.
        size: the number of distinct configurations.
        costs: further objectives, minimised: (metric name, callable of the values) pairs.
            With any, the problem's keras-tuner objective is a list (a `MultiObjective`).
    """

    name: str
    build_space: object
    score: object
    metric: str
    direction: str
    optimum: dict
    optimum_score: float
    size: int
    costs: tuple = ()

    def objective(self):
        """The keras-tuner objective of this problem (a list of them when it has costs)."""
        score = keras_tuner.Objective(self.metric, self.direction)
        if not self.costs:
            return score
        return [score] + [keras_tuner.Objective(name, "min") for name, _ in self.costs]

    def metrics(self, values):
        """What a trial of `values` reports: the score and each cost."""
        return {self.metric: self.score(values), **{name: cost(values) for name, cost in self.costs}}

    def all_configurations(self):
        """Every distinct configuration of the space (active values only)."""
        return _enumerate(self.build_space())

    def is_optimal(self, score):
        return math.isclose(score, self.optimum_score, rel_tol=0, abs_tol=1e-9)


@dataclasses.dataclass(frozen=True)
class TrialRecord:
    """One trial of a driven search: its id, values, reported score (None if failed), status."""

    trial_id: str
    values: dict
    score: object
    status: str


def _enumerate(hp):
    """All configurations of a space whose hyperparameters all have finite value sets."""
    space = hp.space
    configs = [{}]
    for param in space:
        grown = []
        for values in configs:
            active = all(c.is_active(values) for c in param.conditions)
            if not active or param.name in values:
                grown.append(values)
                continue
            for v in param.values:
                grown.append({**values, param.name: v})
        configs = grown
    unique = {tuple(sorted((k, str(v)) for k, v in c.items())): c for c in configs}
    return list(unique.values())


def _make_problem(name, build_space, raw_score, direction):
    sign = 1.0 if direction == "max" else -1.0
    metric = "score" if direction == "max" else "loss"

    def score(values):
        return sign * raw_score(values)

    configs = _enumerate(build_space())
    scores = [score(c) for c in configs]
    best = max(scores) if direction == "max" else min(scores)
    winners = [c for c, s in zip(configs, scores) if s == best]
    if len(winners) != 1:
        raise AssertionError(f"Problem {name!r} must have a unique optimum, found {winners}.")
    return StrategyProblem(
        name=f"{name}-{direction}",
        build_space=build_space,
        score=score,
        metric=metric,
        direction=direction,
        optimum=winners[0],
        optimum_score=best,
        size=len(configs),
    )


def _mixed_space():
    hp = keras_tuner.HyperParameters()
    hp.Choice("op", ["conv3", "conv5", "sep3", "pool", "skip"])
    hp.Choice("activation", ["relu", "tanh", "gelu"])
    hp.Int("units", 8, 64, step=8)
    hp.Boolean("batchnorm")
    hp.Float("dropout", 0.0, 0.5, step=0.1)
    hp.Choice("kind", ["plain", "residual"])
    with hp.conditional_scope("kind", ["residual"]):
        hp.Int("depth", 1, 4)
    return hp


_OP_GAIN = {"conv3": 1.0, "conv5": 0.7, "sep3": 0.8, "pool": 0.2, "skip": 0.0}
_ACT_GAIN = {"relu": 0.3, "tanh": 0.0, "gelu": 0.5}


def _mixed_score(v):
    s = _OP_GAIN[v["op"]] + _ACT_GAIN[v["activation"]]
    s -= 0.1 * ((v["units"] - 40) / 8) ** 2
    s += 0.4 if v["batchnorm"] else 0.0
    s -= 2.0 * abs(round(v["dropout"], 6) - 0.2)
    if v["kind"] == "residual":
        d = v["depth"]
        s += 0.2 * d - 0.05 * d * d  # best at depth 2 (+0.2); plain gives 0
    if v["op"] == "sep3" and v["activation"] == "gelu":
        s += 0.15  # an interaction: a local optimum one mutation away from the global one
    return s


def mixed_problem(direction="max"):
    """7,200 configurations: 3 `Choice`, an `Int`, a `Boolean`, a stepped `Float` and an `Int`
    in a conditional scope. The optimum is conv3 / gelu / 40 units / batchnorm / dropout 0.2 /
    residual of depth 2.

    Args:
        direction: "max" reports the score as metric "score"; "min" reports its negation as
            "loss", which checks that an oracle honours the objective's direction.
    """
    return _make_problem("mixed", _mixed_space, _mixed_score, direction)


def _mixed_size(v):
    """A model-size cost on the mixed space: more units, more depth and the wider ops cost more."""
    size = v["units"] * {"conv3": 9, "conv5": 25, "sep3": 4, "pool": 0, "skip": 0}[v["op"]]
    return float(size * (v["depth"] if v["kind"] == "residual" else 1))


def sized_problem():
    """`mixed_problem` ("max") with a second objective: a size to minimise (`_mixed_size`), for
    multi-objective strategies. Its score's optimum is the mixed problem's."""
    return dataclasses.replace(mixed_problem(), name="sized", costs=(("size", _mixed_size),))


def _tiny_space():
    hp = keras_tuner.HyperParameters()
    hp.Choice("op", ["a", "b", "c"])
    hp.Boolean("flag")
    hp.Choice("kind", ["plain", "deep"])
    with hp.conditional_scope("kind", ["deep"]):
        hp.Int("depth", 1, 2)
    return hp


def _tiny_score(v):
    s = {"a": 0.0, "b": 2.0, "c": 1.0}[v["op"]] + (0.5 if v["flag"] else 0.0)
    if v["kind"] == "deep":
        s += 0.3 * v["depth"]
    return s


def tiny_problem(direction="max"):
    """18 configurations (3 x 2 x (1 + 2), with a conditional `Int`): small enough for random
    search to cover. The optimum is b / flag / deep of depth 2."""
    return _make_problem("tiny", _tiny_space, _tiny_score, direction)


# -- driving an oracle ----------------------------------------------------------------------


def _attach(oracle, directory, project_name):
    kt_internals.set_project_dir(oracle, directory, project_name)  # as a Tuner does
    oracle.verbose = 0


def make(factory, problem, *, max_trials, seed):
    """Build an oracle for `problem` from `factory`."""
    return factory(
        hyperparameters=problem.build_space(),
        objective=problem.objective(),
        max_trials=max_trials,
        seed=seed,
    )


def run_search(
    factory,
    problem,
    n,
    *,
    directory,
    seed=0,
    concurrency=1,
    fail=None,
    stop_after=None,
    stop_on_optimum=False,
    project_name=None,
    trial_epochs=None,
):
    """Drive an oracle for up to `n` trials on `problem` and return what it proposed.

    Trials are created `concurrency` at a time (as many tuner ids) and ended in reverse order
    of creation, so with `concurrency > 1` they finish out of order.

    Args:
        factory: `factory(*, hyperparameters, objective, max_trials, seed) -> Oracle`.
        problem: a `StrategyProblem`.
        n: max_trials of the search.
        directory: where the oracle saves its project (e.g. pytest's `tmp_path`).
        seed: passed to the factory.
        concurrency: trials running at once.
        fail: optional callable `(trial_index, values) -> bool` (index 0-based in creation
            order); True ends that trial as FAILED with no score.
        stop_after: stop (as if the process ended) once this many trials have ended; the saved
            project can then be resumed with the same `project_name`.
        stop_on_optimum: stop as soon as a trial reaches `problem.optimum_score`.
        project_name: the project to create, or to resume when it already exists in
            `directory`: a NEW oracle from the factory reloads it and continues.
        trial_epochs: when given, each trial also reports the "epochs" it trained, as the trial
            runner does: these for a new architecture, its rung's for a promoted trial
            (successive halving promotes only trials that report them).

    Returns:
        The list of `TrialRecord`s of the whole project, in creation order (a resumed
        project includes the trials from before the stop).
    """
    project_name = project_name or f"{problem.name}-{uuid.uuid4().hex[:8]}"
    oracle = make(factory, problem, max_trials=n, seed=seed)
    resuming = os.path.exists(os.path.join(str(directory), project_name, "oracle.json"))
    _attach(oracle, directory, project_name)
    if resuming:
        oracle.reload()
    ended = len(oracle.end_order)
    stopped = False
    while not stopped and (stop_after is None or ended < stop_after):
        if stop_on_optimum and any(
            oracle.trials[t].status == "COMPLETED" and problem.is_optimal(oracle.trials[t].score)
            for t in oracle.end_order[-concurrency:]
        ):
            break
        batch = []
        for j in range(concurrency):
            trial = oracle.create_trial(f"tuner{j}")
            if trial.status == "STOPPED":
                stopped = True
                break
            batch.append(trial)
        for trial in reversed(batch):
            values = dict(trial.hyperparameters.values)
            if fail is not None and fail(oracle.start_order.index(trial.trial_id), values):
                trial.status = "FAILED"
                trial.message = "failed on purpose by the strategy test helper"
            else:
                metrics = problem.metrics(values)
                # A Tuner reports a MultiObjective's summed value too (keras-tuner's
                # `convert_to_metrics_dict`); the Oracle scores trials by it.
                metrics.setdefault(oracle.objective.name, oracle.objective.get_value(metrics))
                if trial_epochs is not None:
                    metrics["epochs"] = values.get("tuner/epochs", trial_epochs) - values.get("tuner/initial_epoch", 0)
                oracle.update_trial(trial.trial_id, metrics)
                trial.status = "COMPLETED"
            oracle.end_trial(trial)
            ended += 1
    records = []
    for trial_id in oracle.start_order:
        trial = oracle.trials[trial_id]
        records.append(
            TrialRecord(
                trial_id=trial_id,
                values=dict(trial.hyperparameters.values),
                score=trial.score if trial.status == "COMPLETED" else None,
                status=trial.status,
            )
        )
    return records


def trials_to_optimum(problem, records):
    """1-based index of the first trial that reached the optimum, or None."""
    for i, r in enumerate(records, 1):
        if r.score is not None and problem.is_optimal(r.score):
            return i
    return None


# -- assertions -----------------------------------------------------------------------------


def _sequence(records):
    return [(r.values, r.score, r.status) for r in records]


def assert_reproducible(factory, problem, n, *, directory, seed=0, other_seed=1):
    """Same seed, same sequence of `n` proposals; another seed, another sequence.

    Raises:
        AssertionError: if the two runs with `seed` differ, or the run with `other_seed`
            proposes exactly the same sequence (the seed would then be ignored).
    """
    first = run_search(factory, problem, n, directory=directory, seed=seed)
    second = run_search(factory, problem, n, directory=directory, seed=seed)
    assert len(first) == n, f"Expected {n} trials, the oracle stopped after {len(first)}."
    assert _sequence(first) == _sequence(second), "The same seed gave two different sequences."
    other = run_search(factory, problem, n, directory=directory, seed=other_seed)
    assert _sequence(other) != _sequence(first), (
        f"seed={seed} and seed={other_seed} gave the same sequence: the seed is ignored."
    )


def assert_finds_optimum(factory, problem, *, within, directory, seeds=(0, 1, 2), concurrency=1):
    """For each seed, the optimum is among the first `within` trials.

    Returns:
        The list, per seed, of the number of trials it took.

    Raises:
        AssertionError: naming the seeds that missed it.
    """
    taken = []
    for seed in seeds:
        records = run_search(
            factory, problem, within, directory=directory, seed=seed, concurrency=concurrency, stop_on_optimum=True
        )
        taken.append(trials_to_optimum(problem, records))
    missed = [s for s, t in zip(seeds, taken) if t is None]
    assert not missed, (
        f"The optimum of {problem.name} ({problem.optimum}) was not found within {within} trials "
        f"for seeds {missed} (trials to optimum per seed: {taken})."
    )
    return taken


def assert_resume_identical(factory, problem, n, *, stop_at, directory, seed=0, concurrency=1, trial_epochs=None):
    """A search stopped after `stop_at` trials and resumed by a new oracle equals an unbroken one
    (`trial_epochs`: see `run_search`).

    Raises:
        AssertionError: if the sequences differ, or if the search did not get past `stop_at`.
    """
    drive = dict(directory=directory, seed=seed, concurrency=concurrency, trial_epochs=trial_epochs)
    whole = run_search(factory, problem, n, **drive)
    name = f"{problem.name}-resume-{uuid.uuid4().hex[:8]}"
    head = run_search(factory, problem, n, stop_after=stop_at, project_name=name, **drive)
    assert len(head) == stop_at, f"Expected {stop_at} trials before the stop, got {len(head)}."
    resumed = run_search(factory, problem, n, project_name=name, **drive)
    assert len(whole) > stop_at, "The search ended before the stop point; nothing was resumed."
    got, expected = _sequence(resumed), _sequence(whole)
    first_difference = next(
        (i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected))
    )
    assert got == expected, (
        f"Resumed after {stop_at} trials, the search diverged from the uninterrupted one at trial "
        f"{first_difference}."
    )


def all_distinct(records):
    """Whether no configuration was proposed twice."""
    keys = [tuple(sorted((k, str(v)) for k, v in r.values.items())) for r in records]
    return len(set(keys)) == len(keys)


def iter_problems():
    """The built-in problems, in both directions."""
    for make_problem, direction in itertools.product((tiny_problem, mixed_problem), ("max", "min")):
        yield make_problem(direction)
