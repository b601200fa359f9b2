"""Run an architecture search, trials or one-shot, and return what it found (`run_search`).

A trial search asks a keras-tuner Oracle for architectures and trains each one (`SearchTuner`);
a one-shot search (ENAS, DARTS) trains one weight-sharing supernet and scores architectures with
its weights. Both end with a `SearchOutcome`: the winner, its score and every candidate. The
classifiers call `run_search` between preparing the data and retraining the winner; a benchmark
or a keras-tuner user can call it with a `CellSearchSpace`, a `CellHyperModel` and `PreparedData`.

Example:
    >>> outcome = run_search("evolution", space, hypermodel, data, epochs=5, max_trials=20,
    ...                      seed=0)                                 # doctest: +SKIP
    >>> outcome.genotype, outcome.score, outcome.leaderboard        # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
import dataclasses
import glob
import json
import os
import tempfile

import keras_tuner
import numpy as np
import pandas as pd

from autonas.cluster.local import check_parallel_trials
from autonas.cluster.roles import Cluster
from autonas.distribute.multi_worker_strategy import agreed, spans_workers, worker_index
from autonas.distribute.strategies import global_batch_size, make_strategy
from autonas.engine.budget import CosineEpochs, Deadline, SearchDeadline
from autonas.engine.costs import TrialCosts
from autonas.engine.objectives import ACCURACY, COSTS, VIOLATION, SearchObjective
from autonas.engine.progress import TrialProgress, speaker
from autonas.engine.resume import check_resume, record_path, recorded_seed, search_configuration
from autonas.engine.search_lock import search_lock
from autonas.engine.trial_epochs import TrialEpochs, fixed_trial_epochs
from autonas.engine.tuner import SearchTuner, untrained
from autonas.oneshot import ONE_SHOT_NAMES, OneShotResult, one_shot_leaderboard, run_one_shot
from autonas.oracles import ORACLE_NAMES, make_oracle
from autonas.oracles.halving import PARENT, make_halving, trained_epochs
from autonas.oracles.pareto import objectives_of
from autonas.space.genotype import Genotype
from autonas.space.hypermodel import CellSearchSpace
from autonas.space.operations import operations_for_rank
from autonas.space.published import PUBLISHED_CELLS
from autonas.space.starting_cells import starting_cells

# What a search optimises by default: validation accuracy (`autonas.engine.objectives`).
OBJECTIVE = SearchObjective().keras_tuner()
# Trials of a search with neither `max_trials` nor a time limit.
DEFAULT_MAX_TRIALS = 10
SEARCH_NAMES = ORACLE_NAMES + ONE_SHOT_NAMES


@dataclasses.dataclass
class SearchOutcome:
    """What a search found: the winner, its score and every candidate.

    `trial_epochs` is the epochs the winner trained in the search (a one-shot search's: the
    epochs a trial would have had; a promoted winner's: all its rungs', `autonas.oracles.halving`).
    `tuner` and `best_trial` are set by a trial search (the trial's trained model can be kept);
    `one_shot` by a one-shot search. In keras-tuner's chief/worker mode `role` is "chief" or
    "worker": the chief's outcome holds every trial and `trial_workers` (trial id -> the tuner
    ids it was given to); a worker's holds only `worker_trials` (the trials it ran) and no winner.
    """

    genotype: Genotype | None
    score: float | None
    leaderboard: pd.DataFrame | None
    trial_epochs: int | None = None
    tuner: SearchTuner | None = None
    best_trial: keras_tuner.engine.trial.Trial | None = None
    one_shot: OneShotResult | None = None
    role: str | None = None
    trial_workers: dict | None = None
    worker_trials: list | None = None

    @property
    def is_worker(self):
        """Whether this process was a worker of a chief/worker search (the chief holds the result)."""
        return self.role == "worker"


def is_one_shot(oracle):
    """Whether `oracle` names a weight-sharing search (ENAS, DARTS) rather than trials."""
    return isinstance(oracle, str) and oracle in ONE_SHOT_NAMES


def check_search(oracle, *, strategy, seed, directory, has_validation_data, warm_start=(), space=None,
                 parallel_trials=1, strategy_argument=None, successive_halving=None, objective=None):
    """Refuse, before any data is read or anything trained, a search that cannot run as asked.

    Raises:
        ValueError: for an unknown `oracle`; a one-shot search in keras-tuner's chief/worker
            mode or under a MultiWorkerMirroredStrategy over several workers; both ways of using
            several workers at once; a chief/worker search without `directory`, or without a
            seed or validation data (every process must split off the same validation samples);
            `warm_start` with a search that cannot take it, or with cells outside `space`;
            `parallel_trials` above 1 with what cannot run side by side
            (`autonas.cluster.local.check_parallel_trials`; `strategy_argument` is the
            distribution strategy as the user gave it); `successive_halving` with a one-shot
            search or an Oracle instance (which brings its own rungs, or none); an `objective`
            (`SearchObjective`) with costs for a one-shot search.
    """
    if not (isinstance(oracle, keras_tuner.Oracle) or oracle in SEARCH_NAMES):
        raise ValueError(f"oracle must be one of {SEARCH_NAMES} or a keras_tuner.Oracle, got {oracle!r}.")
    cluster = Cluster.from_environment()
    check_parallel_trials(parallel_trials, oracle_is_one_shot=is_one_shot(oracle), cluster=cluster,
                          spans_workers=spans_workers(strategy), directory=directory, strategy=strategy_argument)
    if is_one_shot(oracle) and cluster.distributed:
        raise ValueError(f"oracle={oracle!r} trains one supernet in one process and cannot be spread over "
                         "keras-tuner's chief and workers: unset KERASTUNER_TUNER_ID (and KERASTUNER_ORACLE_IP/PORT), "
                         "or use oracle='evolution', 'reinforce' or 'random' for a multi-worker search.")
    if make_halving(successive_halving) is not None and not (isinstance(oracle, str) and oracle in ORACLE_NAMES):
        raise ValueError(f"successive_halving works with oracle='evolution', 'reinforce' or 'random', not "
                         f"{oracle if isinstance(oracle, str) else type(oracle).__name__!r}: a one-shot search trains "
                         "no separate trials, and an Oracle instance is used as given (pass "
                         "keras_tuner.oracles.HyperbandOracle for keras-tuner's rungs).")
    if objective is not None and objective.costs and is_one_shot(oracle):
        raise ValueError(f"oracle={oracle!r} scores architectures with shared weights and measures no costs: "
                         f"objective={list(objective.names)} and cost limits work with oracle='evolution' (Pareto "
                         "selection), 'reinforce', 'random' or a keras_tuner.Oracle.")
    if warm_start and is_one_shot(oracle):
        raise ValueError(f"warm_start works with oracle='evolution' or 'reinforce', not {oracle!r}: a one-shot "
                         "search starts from the whole space.")
    if warm_start and not isinstance(oracle, str):
        raise ValueError("warm_start works with oracle='evolution' or 'reinforce'; a keras_tuner.Oracle "
                         "instance brings its own starting points.")
    for entry in warm_start or ():
        space.values(warm_start_genotype(entry))
    if cluster.distributed and seed is None and not has_validation_data:
        raise ValueError(
            f"A multi-worker search (KERASTUNER_TUNER_ID={cluster.tuner_id!r}) needs seed=<int> (or "
            "validation_data=): every process splits off the validation samples itself, and with seed=None "
            "each would draw its own, scoring trials on different samples.")
    if spans_workers(strategy):
        check_multi_worker_strategy(oracle, cluster)
    if cluster.distributed and directory is None and not is_one_shot(oracle):
        raise ValueError(
            f"A multi-worker search (KERASTUNER_TUNER_ID={cluster.tuner_id!r}) needs directory=: one path that "
            "every process reaches (a shared disk), where workers save the trials' weights for the chief.")


def check_multi_worker_strategy(oracle, cluster):
    """Refuse what a MultiWorkerMirroredStrategy over several workers cannot run (see `check_search`)."""
    if is_one_shot(oracle):
        raise ValueError(f"oracle={oracle!r} trains its supernet in one process and cannot run under a "
                         "MultiWorkerMirroredStrategy over several workers: use distribution_strategy=None or "
                         "'mirrored', or oracle='evolution', 'reinforce' or 'random'.")
    if cluster.distributed:
        raise ValueError(
            "Choose one way to use several workers: keras-tuner's chief/worker mode (KERASTUNER_TUNER_ID="
            f"{cluster.tuner_id!r}) runs different trials side by side, a MultiWorkerMirroredStrategy (TF_CONFIG) "
            "trains each trial on all workers together. Unset KERASTUNER_TUNER_ID or use "
            "distribution_strategy=None or 'mirrored'.")


def search_seed(seed, *, directory, project_name, overwrite, strategy=None):
    """The seed a search runs with: `seed`; for `seed=None` the one recorded by the search this
    call resumes (so it splits off the same validation samples), else a fresh draw. Workers of a
    multi-worker strategy take the chief's, so they split, shuffle and propose alike."""
    if seed is None:
        seed = recorded_seed(directory, project_name, overwrite)
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31 - 1))
    return int(agreed(strategy, int(seed)))


def warm_start_genotype(value):
    """A warm-start entry: a `Genotype`, or the name of a published cell ("enas", "nasnet_a", ...)."""
    if isinstance(value, Genotype):
        return value
    if isinstance(value, str) and value in PUBLISHED_CELLS:
        return PUBLISHED_CELLS[value]
    raise ValueError(f"warm_start entries must be Genotypes or names of published cells {sorted(PUBLISHED_CELLS)}, "
                     f"got {value!r}.")


def resolve_warm_start(warm_start, oracle, space):
    """The architectures a search tries first: `warm_start` as given; for None, the space's
    `starting_cells` when `oracle` takes starting points ("evolution", "reinforce"), else none."""
    if warm_start is not None:
        return list(warm_start)
    return starting_cells(space) if oracle in ("evolution", "reinforce") else []


def search_directory(directory, strategy=None):
    """A context giving the directory a search keeps its project in: `directory`, or a temporary
    one removed afterwards; under a multi-worker strategy each worker but the chief keeps its own
    copy in `directory/worker-<index>`. A given directory is locked for the block
    (`autonas.engine.search_lock`), except by a keras-tuner worker, whose chief holds it."""
    if directory is None:
        return tempfile.TemporaryDirectory(prefix="autonas-")
    index = worker_index(strategy) if spans_workers(strategy) else 0
    if index > 0:
        directory = os.path.join(directory, f"worker-{index}")
    if Cluster.from_environment().is_worker:
        return contextlib.nullcontext(directory)
    return search_lock(directory)


def run_search(oracle, space, hypermodel, data, *, epochs, directory, deadline=None, seed=None, max_trials=None,
               warm_start=None, project_name="search", overwrite=False, strategy=None, batch_size=128,
               one_shot_learning_rate=None, task="search", verbose=1, cluster=None, successive_halving=None,
               callbacks=(), objective=None, cost_size=None, retraining_seconds=None):
    """Search `space` for the best architecture on `data`.

    Args:
        oracle: "evolution", "reinforce", "random", any `keras_tuner.Oracle`, or a one-shot
            search: "enas" or "darts".
        space: the `CellSearchSpace`.
        hypermodel: the `CellHyperModel` building the search-size network.
        data: `PreparedData` (batched training and validation data).
        epochs: training epochs per trial; None sizes them to `deadline` (`TrialEpochs`).
        directory: where the trial search keeps its keras-tuner project (see `search_directory`;
            a one-shot search writes nothing).
        deadline: a `Deadline` for the search; None: no time limit.
        seed: an int fixing the proposals (and shuffles); None draws one (`search_seed`).
        max_trials: most trials; None runs as many as `deadline` allows, or `DEFAULT_MAX_TRIALS`.
        warm_start: genotypes or names of published cells to try first ("evolution", "reinforce");
            None: the space's `starting_cells` (a plain convolution cell, the published cells
            that fit) with those oracles; () for none.
        project_name, overwrite: the keras-tuner project; with `overwrite=False` an existing
            project is resumed, after checking it was started with the same configuration.
        strategy: the `tf.distribute.Strategy` (or its name) trials train under; None: the default.
        batch_size: per-replica batch size (recorded for resume; one-shot batches by it).
        one_shot_learning_rate: peak learning rate of a one-shot search's shared weights; None:
            the method's own default (ENAS's differs from the trials' `hypermodel.learning_rate`).
        task: the name recorded with the configuration (the classifier's class).
        verbose: 0 silent, 1 one line per trial or supernet epoch.
        cluster: this process's part in a chief/worker search (`autonas.cluster`); None: the one
            the KERASTUNER_* variables give (`Cluster.from_environment`).
        successive_halving: None/False, True, an int factor or a `SuccessiveHalving`: the oracle
            (by name) also promotes its best trials to train longer (`autonas.oracles.halving`).
        callbacks: Keras callbacks for every trial, copied per trial as keras-tuner does
            (`autonas.kt_internals.trial_callbacks`); a one-shot search's supernet takes none.
        objective: a `SearchObjective` (accuracy against serving costs, cost limits); None:
            validation accuracy alone. With costs, each trial measures them before training
            (one over a limit is not trained), and the winner is the most accurate trial within
            the limits (trial searches only).
        cost_size: the `NetworkSize` costs are measured at (the returned model's); None: the
            search size.
        retraining_seconds: `f(genotype, training_seconds)`, the seconds the retraining of the
            best trial so far is known to need, or None (`retrain.quick_retraining_seconds`);
            with a `SearchDeadline`, a trial search of one process keeps only that for it after
            each trial (`SearchDeadline.keep`), so its deadline moves with the best trial.

    Returns:
        A `SearchOutcome`.

    Raises:
        ValueError: a resumed project with another configuration (before anything is written).
        RuntimeError: when no trial completed.
    """
    strategy = make_strategy(strategy)
    deadline = deadline or Deadline(None)
    if seed is None:
        seed = search_seed(None, directory=directory, project_name=project_name, overwrite=overwrite,
                           strategy=strategy)
    say = speaker(verbose)
    if is_one_shot(oracle):
        result = run_one_shot(oracle, space, hypermodel, data, deadline=deadline, seed=seed, batch_size=batch_size,
                              learning_rate=one_shot_learning_rate, say=say)
        return SearchOutcome(genotype=result.best.genotype, score=result.best.score,
                             leaderboard=one_shot_leaderboard(result, hypermodel.count_params),
                             trial_epochs=fixed_trial_epochs(epochs), one_shot=result)
    return _search_trials(oracle, space, hypermodel, data, epochs=epochs, directory=directory, deadline=deadline,
                          seed=seed, max_trials=max_trials, warm_start=warm_start, project_name=project_name,
                          overwrite=overwrite, strategy=strategy, batch_size=batch_size, task=task, verbose=verbose,
                          cluster=cluster or Cluster.from_environment(), halving=make_halving(successive_halving),
                          callbacks=callbacks, objective=objective or SearchObjective(), cost_size=cost_size,
                          retraining_seconds=retraining_seconds)


def _search_trials(oracle, space, hypermodel, data, *, epochs, directory, deadline, seed, max_trials, warm_start,
                   project_name, overwrite, strategy, batch_size, task, verbose, cluster, halving, callbacks,
                   objective, cost_size, retraining_seconds):
    """A search with a keras-tuner Oracle, training every trial (see `run_search`).

    In a chief/worker search (keras-tuner's KERASTUNER_* variables, `autonas.cluster`) the chief
    runs no trial: it serves the oracle until the search is over and gets every trial. A worker
    runs trials until the chief says stop; its outcome names only the trials it ran.
    """
    warm_start = resolve_warm_start(warm_start, oracle, space)
    steps_batch = global_batch_size(batch_size, strategy)
    configuration = search_configuration(task=task, oracle=oracle, seed=seed, space=space, hypermodel=hypermodel,
                                         epochs=epochs, batch_size=batch_size, global_batch_size=steps_batch,
                                         warm_start=warm_start, data=data, halving=halving, objective=objective,
                                         cost_size=cost_size)
    # Before anything is written: a project resumed with a changed configuration is refused. The
    # chief records the configuration; a worker follows the oracle the chief serves (and, started
    # by `parallel_trials`, holds a stand-in for an Oracle instance, recorded under another name).
    if not cluster.is_worker:
        check_resume(directory, project_name, overwrite=overwrite, configuration=configuration)
    if max_trials is None and deadline.seconds is None:
        max_trials = DEFAULT_MAX_TRIALS
    initial_values = [space.values(warm_start_genotype(entry)) for entry in warm_start or ()]
    oracle = make_oracle(oracle, objective=objective.keras_tuner(), max_trials=max_trials, seed=seed,
                         hyperparameters=space.hyperparameters(), initial_values=initial_values or None,
                         successive_halving=halving)
    progress = None
    if verbose:
        # A worker counts its own trials, of a total it does not know.
        progress = TrialProgress(max_trials=None if cluster.is_worker else oracle.max_trials, deadline=deadline,
                                 describe=lambda hp: space.declare(hp.copy()).summary())
    fixed_epochs = fixed_trial_epochs(epochs)
    trial_epochs = TrialEpochs(epochs, deadline, concurrent=cluster.concurrent_trials)
    costs = TrialCosts(objective, samples=latency_samples(data), size=cost_size) if objective.costs else None
    # Workers started with an end of their own (`parallel_trials`) would not follow a moving one.
    follow_best = (retraining_seconds is not None and isinstance(deadline, SearchDeadline)
                   and not cluster.distributed)

    def trial_done(tuner, trial):
        if follow_best:
            _keep_for_retraining(deadline, tuner.oracle, objective, space, retraining_seconds)
        if progress is not None:
            progress(tuner, trial)

    tuner = SearchTuner(hypermodel, oracle, deadline=deadline, trial_epochs=trial_epochs, on_trial_done=trial_done,
                        cluster=cluster, directory=directory, project_name=project_name, overwrite=overwrite,
                        distribution_strategy=strategy, costs=costs)
    if follow_best:  # a resumed search's best so far
        _keep_for_retraining(deadline, tuner.oracle, objective, space, retraining_seconds)
    # A trial that would run past the deadline (in practice the first, before any pace is known)
    # shortens its schedule to end on time; `trial_epochs` re-plans it per trial.
    tuner.search(data.train, validation_data=data.validation, epochs=fixed_epochs, verbose=0,
                 callbacks=[CosineEpochs(hypermodel.learning_rate, fixed_epochs, deadline), *callbacks])
    role = cluster.role if cluster.distributed else None
    if cluster.is_worker:
        return SearchOutcome(genotype=None, score=None, leaderboard=None, tuner=tuner, role=role,
                             worker_trials=[trial.trial_id for trial in tuner.finished_trials])
    best = _best_trial(tuner.oracle, objective)
    if best is None:
        raise RuntimeError(_no_trial_message(tuner, objective))
    # A promoted trial trained from its parent's epochs on: the winner had them all.
    best_epochs = trained_epochs(best)
    return SearchOutcome(genotype=space.declare(best.hyperparameters.copy()), score=float(best.score),
                         leaderboard=trial_leaderboard(tuner, space), trial_epochs=int(best_epochs),
                         tuner=tuner, best_trial=best, role=role,
                         trial_workers=tuner.trial_workers if cluster.is_chief else None)


def _best_trial(oracle, objective):
    """The search's best trial so far, or None."""
    # keras-tuner's best trial is by its score: a MultiObjective's is a sum of unlike units.
    if objective.costs:
        return objective.best(oracle.trials.values())
    return next(iter(oracle.get_best_trials(1)), None)


def _keep_for_retraining(deadline, oracle, objective, space, retraining_seconds):
    """Move the search's end by what the best trial so far needs to retrain (`SearchDeadline.keep`)."""
    best = _best_trial(oracle, objective)
    if best is None or not best.metrics.exists("seconds") or untrained(best):
        deadline.keep(None)
        return
    # A promoted trial's seconds are its rung's: per epoch, times all the epochs it trained.
    seconds = best.metrics.get_last_value("seconds")
    epochs = best.metrics.get_last_value("epochs") if best.metrics.exists("epochs") else 0
    if epochs:
        seconds *= trained_epochs(best) / epochs
    deadline.keep(retraining_seconds(space.declare(best.hyperparameters.copy()), seconds))


def trial_leaderboard(tuner, space):
    """Every trial of `tuner`'s search as a DataFrame (architecture, score, params, epochs trained,
    seconds, status, the trial a promoted one went on from), best first."""
    # Several objectives: the score is the first one's (accuracy), not keras-tuner's sum.
    return _leaderboard(tuner.oracle.trials.values(), objectives_of(tuner.oracle.objective)[0].name, space)


def directory_leaderboard(directory, project_name=None):
    """The `trial_leaderboard` of the trial search kept in `directory`, read from its files.

    Reads only: it works on a search that is still running (its running trials have no score
    yet) or was killed, without resuming it. Scores are `OBJECTIVE`'s, as the classifiers search.

    Args:
        directory: the `directory` the search was given.
        project_name: its keras-tuner project ("image_search", "text_search"); None: the one
            project in `directory`.

    Returns:
        The leaderboard DataFrame, best first.

    Raises:
        ValueError: `directory` holds no trial search (a one-shot search keeps no trials), not
            `project_name`'s, or several and `project_name` is None.
    """
    directory = os.fspath(directory)
    suffix = record_path("", "")  # the record's file name less the project's: ".autonas.json"
    projects = sorted(name[:-len(suffix)] for name in (os.listdir(directory) if os.path.isdir(directory) else ())
                      if name.endswith(suffix))
    if project_name is None and len(projects) == 1:
        project_name = projects[0]
    if project_name not in projects:
        found = ", ".join(projects) or "none"
        wanted = f"the search {project_name!r}" if project_name else "one autonas trial search"
        raise ValueError(f"{directory} should hold {wanted} (a <project>{suffix} record beside its project folder); "
                         f"found {found}{': name one' if len(projects) > 1 and not project_name else ''}.")
    with open(record_path(directory, project_name), encoding="utf-8") as handle:
        configuration = json.load(handle)["configuration"]
    operations = configuration["operations"]
    rank = 2 if set(operations) <= set(operations_for_rank(2)) else 1
    space = CellSearchSpace(operations, num_blocks=configuration["num_blocks"], rank=rank,
                            reduction_cell="reduce" in configuration["cell_types"],
                            **(configuration.get("network_choices") or {}))
    trials = []
    for path in sorted(glob.glob(os.path.join(directory, project_name, "trial_*", "trial.json"))):
        try:
            trials.append(keras_tuner.engine.trial.Trial.load(path))
        except (OSError, ValueError):  # a trial file being written by a running search
            continue
    return _leaderboard(trials, ACCURACY, space)


def _leaderboard(trials, objective, space):
    """One row per trial; the serving costs and the constraint violation as columns when the
    trials measured them (a trial over a limit was not trained: its score is NaN)."""
    trials = list(trials)
    extra = [name for name in (*COSTS[1:], VIOLATION) if any(t.metrics.exists(name) for t in trials)]
    rows = []
    for trial in trials:
        metric = trial.metrics.get_last_value
        rows.append({
            "trial": trial.trial_id,
            "architecture": str(space.declare(trial.hyperparameters.copy())),
            "score": metric(objective) if trial.metrics.exists(objective) and not untrained(trial) else np.nan,
            "params": int(metric("params")) if trial.metrics.exists("params") else pd.NA,
            "epochs": int(metric("epochs")) if trial.metrics.exists("epochs") else pd.NA,
            "seconds": metric("seconds") if trial.metrics.exists("seconds") else np.nan,
            "status": str(trial.status),
            "from_trial": trial.hyperparameters.values.get(PARENT) or pd.NA,
            **{name: metric(name) if trial.metrics.exists(name) else np.nan for name in extra},
        })
    frame = pd.DataFrame(rows, columns=["trial", "architecture", "score", "params", "epochs", "seconds", "status",
                                        "from_trial", *extra])
    return frame.sort_values("score", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


def latency_samples(data, count=8):
    """A few raw validation inputs, as the model takes them, for timing its calls."""
    inputs = next(iter(data.validation.unbatch().take(count).batch(count)))[0]
    return inputs.numpy()


def _no_trial_message(tuner, objective):
    over = [t for t in tuner.oracle.trials.values() if untrained(t)]
    if over and len(over) == len([t for t in tuner.oracle.trials.values() if t.metrics.exists("epochs")]):
        smallest = min(over, key=lambda t: t.metrics.get_last_value(VIOLATION))
        costs = ", ".join(f"{name} {smallest.metrics.get_last_value(name):,.6g} (limit {limit:,.6g})"
                          for name, limit in objective.limits.items())
        return (f"No architecture tried was within the limits: the closest, trial {smallest.trial_id}, has {costs}. "
                "Raise the limit, or shrink the network (final_filters, final_normal_cells, num_blocks, or "
                "operations without parameters).")
    messages = [t.message for t in tuner.oracle.trials.values() if t.message]
    detail = (f" Last failure:\n{messages[-1]}" if messages else
              " The time limit ended before the first trial: raise time_limit (a trial on this data takes longer), "
              "or shrink the trial (fewer epochs, search_filters, num_blocks).")
    return "No trial completed, so there is no architecture to keep." + detail
