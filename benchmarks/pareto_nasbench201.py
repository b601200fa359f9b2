"""Accuracy against size on NAS-Bench-201: the hypervolume of the front each strategy finds.

Every strategy searches NAS-Bench-201's cell (as `nasbench201.py`: six `Choice`s, keras-tuner's
real Oracle API, no training) for two objectives at once: the cell's 12-epoch validation
accuracy (%, maximised) and its parameters (MB, minimised), both read from the table.

- `pareto`: autonas's aging evolution selecting by Pareto rank and crowding
  (`RegularizedEvolutionOracle(objective=[...])`);
- `summed`: the same evolution ranking by keras-tuner's `MultiObjective` score, the sum of the
  objectives (`pareto=False`), i.e. what a keras-tuner user gets from `objective=[...]`;
- `random`: keras-tuner's `RandomSearchOracle`.

After 50 / 100 / 200 queries the figure is the hypervolume of the cells found so far, above
the worst corner of the whole table (lowest accuracy, most parameters), as a share of the
hypervolume of the table's true front (1.0: the whole front found). `hv test` is the same for
the cells' 200-epoch test accuracy. Means and standard deviations over seeds.

    python benchmarks/pareto_nasbench201.py --queries 200 --seeds 20
"""
import argparse
import itertools
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nasbench201  # noqa: E402  (the table and the search space)

from autonas.oracles.pareto import hypervolume  # noqa: E402

SYSTEMS = ("pareto", "summed", "random")
CHECKPOINTS = (50, 100, 200)
ACCURACY, PARAMS = nasbench201.METRIC, "params_mb"


def make_oracle(system, *, seed, max_trials):
    import keras_tuner

    from autonas.oracles import RegularizedEvolutionOracle
    from autonas.oracles.base import keras_tuner_seed

    objective = [keras_tuner.Objective(ACCURACY, "max"), keras_tuner.Objective(PARAMS, "min")]
    common = dict(objective=objective, max_trials=max_trials, hyperparameters=nasbench201.search_space())
    if system == "random":
        return keras_tuner.oracles.RandomSearchOracle(seed=keras_tuner_seed(seed), **common)
    return RegularizedEvolutionOracle(seed=seed, pareto=system == "pareto", **common)


def run_one(job):
    """One search; returns the table rows of the cells it queried, in order."""
    from autonas import kt_internals

    system, seed, queries, data = job
    table = nasbench201._table(data, "cifar10")
    oracle = make_oracle(system, seed=seed, max_trials=queries)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        kt_internals.set_project_dir(oracle, tmp, "pareto")  # as a Tuner does
        oracle.verbose = 0
        for _ in range(queries):
            trial = oracle.create_trial("bench")
            if trial.status == "STOPPED":
                break
            i = table.index(trial.hyperparameters.values)
            metrics = {ACCURACY: float(table.reward[i]), PARAMS: float(table.params[i])}
            metrics[oracle.objective.name] = oracle.objective.get_value(metrics)  # as a Tuner reports it
            oracle.update_trial(trial.trial_id, metrics)
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
            rows.append(i)
    return {"system": system, "seed": seed, "rows": rows}


class FrontScorer:
    """Hypervolume shares of sets of cells, for validation (searched) and test accuracy."""

    def __init__(self, table):
        self.points = {
            "val": np.column_stack([table.reward, -table.params]),
            "test": np.column_stack([table.test, -table.params]),
        }
        self.reference = {kind: points.min(axis=0) - 1e-9 for kind, points in self.points.items()}  # all dominate it
        self.whole = {kind: hypervolume(points, self.reference[kind]) for kind, points in self.points.items()}

    def share(self, rows, kind):
        return hypervolume(self.points[kind][rows], self.reference[kind]) / self.whole[kind]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None, help="the NAS-Bench-201 CSV (default: as nasbench201.py)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma list of {SYSTEMS}")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=20, help="searches per system (seeds 0..K-1)")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes")
    args = parser.parse_args(argv)
    data = args.data or os.path.normpath(os.path.join(nasbench201.REPO_ROOT, nasbench201.DEFAULT_DATA))
    systems = [s for s in args.systems.split(",") if s]
    if set(systems) - set(SYSTEMS):
        parser.error(f"unknown systems {sorted(set(systems) - set(SYSTEMS))}; choose from {SYSTEMS}")
    try:
        table = nasbench201._table(data, "cifar10")
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if table.params_column is None:
        print("error: the table has no cifar10_params_mb column", file=sys.stderr)
        return 2
    jobs = [(s, seed, args.queries, data) for s, seed in itertools.product(systems, range(args.seeds))]
    start = time.time()
    runs = nasbench201.run_jobs(run_one, jobs, args.workers)
    scorer = FrontScorer(table)
    checkpoints = [q for q in CHECKPOINTS if q < args.queries] + [args.queries]
    print(f"NAS-Bench-201 CIFAR-10, 12-epoch validation accuracy (max) against parameters (min): hypervolume of "
          f"the cells found, as a share of the table's front's, mean +- std over {args.seeds} seeds")
    print("| system | " + " | ".join(f"hv val @{q}" for q in checkpoints) + f" | hv test @{args.queries} |")
    print("|---|" + "---:|" * (len(checkpoints) + 1))
    for system in systems:
        mine = [r for r in runs if r["system"] == system]
        cells = []
        for q in checkpoints:
            shares = [scorer.share(r["rows"][:q], "val") for r in mine]
            cells.append(f"{np.mean(shares):.4f} +- {np.std(shares, ddof=1) if len(shares) > 1 else 0:.4f}")
        tests = [scorer.share(r["rows"], "test") for r in mine]
        cells.append(f"{np.mean(tests):.4f} +- {np.std(tests, ddof=1) if len(tests) > 1 else 0:.4f}")
        print(f"| {system} | " + " | ".join(cells) + " |")
    print(f"({len(jobs)} searches in {time.time() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
