"""Search strategies on NAS-Bench-201, through keras-tuner's real Oracle API, with no training.

NAS-Bench-201's cell (Dong & Yang, 2020) has 4 nodes and 6 edges (node j <- node i, i < j),
each carrying one of 5 operations: 15,625 cells, each trained in the benchmark. Here the cell
is 6 `Choice` hyperparameters and any keras-tuner Oracle searches it through
`create_trial` / `update_trial` / `end_trial`. The reward of a cell is its 12-epoch validation
accuracy from the table (NAS-Bench-201's protocol for search); the figure reported is the
200-epoch test accuracy of the best-by-reward cell found after 25/50/100/200 queries.

Usage (from the repository root):
    python benchmarks/nasbench201.py --oracles random,evolution,reinforce --queries 200 --seeds 20
    python benchmarks/nasbench201.py --dataset cifar100 --json out.json
    python benchmarks/nasbench201.py --set evolution.population_size=10 --set reinforce.learning_rate=0.1

The table is the combined NATS topology-space CSV (one row per cell: `arch_str`,
`<dataset>_test_200ep`, `<dataset>_valid_12ep`, ...); it is never copied into the repository.
"""
import argparse
import csv
import functools
import itertools
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join("..", "shared", "data", "nas", "nb201_tss_combined.csv")
OPERATIONS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))  # (to node, from node), arch_str order
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
ORACLES = ("random", "bayesian", "hyperband", "evolution", "reinforce")
CHECKPOINTS = (25, 50, 100, 200)
METRIC = "val_accuracy_12ep"


def edge_name(to_node, from_node):
    return f"edge_{to_node}_{from_node}"


def search_space():
    """NAS-Bench-201's cell as keras-tuner hyperparameters: one `Choice` per edge."""
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    for to_node, from_node in EDGES:
        hp.Choice(edge_name(to_node, from_node), list(OPERATIONS))
    return hp


def arch_str(values):
    """The benchmark's string of a cell, e.g. `|nor_conv_3x3~0|+|...~0|...~1|+|...|`."""
    nodes = []
    for to_node in (1, 2, 3):
        ops = [f"{values[edge_name(to_node, f)]}~{f}" for f in range(to_node)]
        nodes.append("|" + "|".join(ops) + "|")
    return "+".join(nodes)


def _arch_index(ops):
    return sum(OPERATIONS.index(op) * 5**k for k, op in enumerate(ops))


def _parse_arch(s):
    ops = []
    for node in s.split("+"):
        for token in node.strip("|").split("|"):
            ops.append(token.split("~")[0])
    if len(ops) != len(EDGES):
        raise ValueError(f"Unexpected arch_str {s!r}.")
    return ops


class Table:
    """Reward and test accuracy of every cell for one dataset, indexed by the cell's ops."""

    def __init__(self, path, dataset):
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"NAS-Bench-201 table not found at {path!r}. This benchmark needs the combined "
                "NATS topology-space CSV (15,625 rows with arch_str, <dataset>_test_200ep and "
                "<dataset>_valid_12ep columns), which is not part of the repository; pass its "
                "location with --data PATH."
            )
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            self.reward_column = f"{dataset}_valid_12ep"
            self.test_column = f"{dataset}_test_200ep"
            missing = [c for c in ("arch_str", self.reward_column, self.test_column) if c not in header]
            if missing:
                raise ValueError(f"{path!r} lacks the columns {missing}; found {header}.")
            self.params_column = f"{dataset}_params_mb" if f"{dataset}_params_mb" in header else None
            self.reward = np.full(5 ** len(EDGES), np.nan)
            self.test = np.full(5 ** len(EDGES), np.nan)
            self.params = np.full(5 ** len(EDGES), np.nan)  # stays NaN without the column
            for row in reader:
                i = _arch_index(_parse_arch(row["arch_str"]))
                self.reward[i] = float(row[self.reward_column])
                self.test[i] = float(row[self.test_column])
                if self.params_column:
                    self.params[i] = float(row[self.params_column])
        if np.isnan(self.reward).any():
            raise ValueError(f"{path!r} does not cover all 15,625 cells.")
        self.dataset = dataset
        self.optimum = float(self.test.max())

    def index(self, values):
        """The row of the cell that `values` (one operation per edge) describe."""
        return _arch_index([values[edge_name(t, f)] for t, f in EDGES])

    def lookup(self, values):
        i = self.index(values)
        return float(self.reward[i]), float(self.test[i])


def make_benchmark_oracle(name, *, seed, max_trials, options):
    """An Oracle by name; `options` are extra constructor arguments (from --set)."""
    import keras_tuner

    from autonas.oracles import RegularizedEvolutionOracle, ReinforceOracle
    from autonas.oracles.base import keras_tuner_seed

    objective = keras_tuner.Objective(METRIC, "max")
    common = dict(objective=objective, max_trials=max_trials, hyperparameters=search_space())
    if name == "random":
        return keras_tuner.oracles.RandomSearchOracle(seed=keras_tuner_seed(seed), **common, **options)
    if name == "bayesian":
        return keras_tuner.oracles.BayesianOptimizationOracle(seed=keras_tuner_seed(seed), **common, **options)
    if name == "evolution":
        return RegularizedEvolutionOracle(seed=seed, **common, **options)
    if name == "reinforce":
        return ReinforceOracle(seed=seed, **common, **options)
    raise ValueError(f"Unknown oracle {name!r}.")


def run_one(job):
    """One search: `queries` trials of `oracle` with `seed`. Returns its trajectory and timings."""
    from autonas import kt_internals

    name, seed, queries, data, dataset, options = job
    table = _table(data, dataset)
    oracle = make_benchmark_oracle(name, seed=seed, max_trials=queries, options=options)
    propose_s = []
    populate = oracle.populate_space

    # Time the oracle's own work (populate_space) apart from keras-tuner's bookkeeping and I/O.
    def timed_populate(trial_id):
        t0 = time.perf_counter()
        out = populate(trial_id)
        propose_s.append(time.perf_counter() - t0)
        return out

    oracle.populate_space = timed_populate
    best_reward, best_test = -math.inf, math.nan
    trajectory = []
    create_end_s = []
    with tempfile.TemporaryDirectory() as tmp:
        # A Tuner does this (`autonas.kt_internals.set_project_dir` says why it is private) and
        # this benchmark drives the Oracle without a Tuner.
        kt_internals.set_project_dir(oracle, tmp, "nb201")
        oracle.verbose = 0
        for _ in range(queries):
            t0 = time.perf_counter()
            trial = oracle.create_trial("bench")
            if trial.status == "STOPPED":
                break
            reward, test = table.lookup(trial.hyperparameters.values)
            oracle.update_trial(trial.trial_id, {METRIC: reward})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
            create_end_s.append(time.perf_counter() - t0)
            if reward > best_reward:
                best_reward, best_test = reward, test
            trajectory.append(best_test)
    return {
        "oracle": name,
        "seed": seed,
        "trajectory": trajectory,
        "propose_ms": 1000 * float(np.mean(propose_s)) if propose_s else math.nan,
        "trial_ms": 1000 * float(np.mean(create_end_s)) if create_end_s else math.nan,
    }


def run_jobs(run, jobs, workers):
    """`[run(job) for job in jobs]`, in `workers` spawned processes when above 1."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if workers > 1:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            return pool.map(run, jobs, chunksize=1)
    return [run(job) for job in jobs]


@functools.lru_cache(maxsize=None)
def _table(data, dataset):
    return Table(data, dataset)


def _parse_set(items, oracles):
    options = {name: {} for name in oracles}
    for item in items:
        key, _, raw = item.partition("=")
        name, _, arg = key.partition(".")
        if not raw or not arg or name not in options:
            raise SystemExit(f"--set expects ORACLE.ARG=VALUE for a selected oracle, got {item!r}.")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        options[name][arg] = value
    return options


def summarise(runs, oracles, queries, checkpoints):
    results = []
    for name in oracles:
        mine = [r for r in runs if r["oracle"] == name]
        for q in checkpoints:
            found = [r["trajectory"][q - 1] for r in mine if len(r["trajectory"]) >= q]
            if not found:
                continue
            results.append(
                {
                    "oracle": name,
                    "queries": q,
                    "mean_test": float(np.mean(found)),
                    "std_test": float(np.std(found, ddof=1)) if len(found) > 1 else 0.0,
                    "seeds": len(found),
                }
            )
    return results


def print_table(results, runs, oracles, checkpoints, table, n_seeds, file=None):
    file = file or sys.stdout
    print(
        f"NAS-Bench-201 {table.dataset}: {table.test_column} of the best cell by "
        f"{table.reward_column}, mean +- std over {n_seeds} seeds (optimum {table.optimum:.2f})",
        file=file,
    )
    head = f"{'oracle':<11}" + "".join(f"{q:>15}" for q in checkpoints)
    head += f"{'propose ms':>12}{'trial ms':>10}"
    print(head, file=file)
    for name in oracles:
        row = f"{name:<11}"
        for q in checkpoints:
            hit = [r for r in results if r["oracle"] == name and r["queries"] == q]
            row += f"{hit[0]['mean_test']:>8.2f} +-{hit[0]['std_test']:>4.2f}" if hit else f"{'-':>15}"
        mine = [r for r in runs if r["oracle"] == name]
        row += f"{np.mean([r['propose_ms'] for r in mine]):>12.2f}"
        row += f"{np.mean([r['trial_ms'] for r in mine]):>10.2f}"
        print(row, file=file)
    print(
        "propose ms: the oracle's own time per proposal (populate_space); trial ms: create_trial + "
        "update_trial + end_trial, including keras-tuner's bookkeeping and its JSON writes.",
        file=file,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        default=None,
        help=f"the NAS-Bench-201 CSV (default: {DEFAULT_DATA}, relative to the repository root)",
    )
    parser.add_argument("--oracles", default="random,evolution,reinforce", help=f"comma list of {ORACLES}")
    parser.add_argument("--queries", type=int, default=200, help="trials per search")
    parser.add_argument("--seeds", type=int, default=20, help="searches per oracle (seeds 0..K-1)")
    parser.add_argument("--dataset", default="cifar10", choices=DATASETS)
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel processes")
    parser.add_argument(
        "--set", action="append", default=[], metavar="ORACLE.ARG=VALUE",
        help="extra constructor argument of one oracle, e.g. evolution.population_size=10",
    )
    args = parser.parse_args(argv)

    data = args.data or os.path.normpath(os.path.join(REPO_ROOT, DEFAULT_DATA))
    oracles = [o.strip() for o in args.oracles.split(",") if o.strip()]
    unknown = [o for o in oracles if o not in ORACLES]
    if unknown:
        parser.error(f"unknown oracles {unknown}; choose from {ORACLES}")
    if "hyperband" in oracles:
        print(
            "hyperband: skipped, it does not apply here. Hyperband allocates training epochs, and "
            "this protocol gives every cell a single fidelity (the 12-epoch reward), so it would "
            "reduce to random search with wasted queries.",
            file=sys.stderr,
        )
        oracles = [o for o in oracles if o != "hyperband"]
    options = _parse_set(args.set, oracles)
    try:
        table = _table(data, args.dataset)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    checkpoints = [q for q in CHECKPOINTS if q <= args.queries]
    if not checkpoints or checkpoints[-1] != args.queries:
        checkpoints.append(args.queries)
    jobs = [
        (name, seed, args.queries, data, args.dataset, options[name])
        for name, seed in itertools.product(oracles, range(args.seeds))
    ]
    t0 = time.time()
    runs = run_jobs(run_one, jobs, args.workers)
    results = summarise(runs, oracles, args.queries, checkpoints)
    print_table(results, runs, oracles, checkpoints, table, args.seeds)
    for name in oracles:
        if options[name]:
            print(f"{name} options: {options[name]}")
    print(f"({len(jobs)} searches in {time.time() - t0:.0f}s with {args.workers} workers)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "results": results,
                    "optimum": table.optimum,
                    "dataset": args.dataset,
                    "reward_column": table.reward_column,
                    "test_column": table.test_column,
                    "options": options,
                    "timing_ms": {
                        name: {
                            "propose": float(np.mean([r["propose_ms"] for r in runs if r["oracle"] == name])),
                            "trial": float(np.mean([r["trial_ms"] for r in runs if r["oracle"] == name])),
                        }
                        for name in oracles
                    },
                },
                f,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
