"""How a search scales: 1 vs 2 workers (keras-tuner chief/worker mode), and tf.distribute strategies.

    python benchmarks/scaling.py --trials 6 --epochs 2 --json scaling.json

Three measurements on scikit-learn's digits, one after the other in one run (so machine load
hits them alike), each in fresh processes on loopback:

1. a chief and 1 worker, then a chief and 2 workers, each searching `--trials` trials with
   `SearchTuner` and the "random" oracle: trials per hour over the search span (first trial
   start to last trial end, over all workers: process start-up is left out), their ratio, and
   the chief's overhead per trial as a worker sees it: the seconds it spends in requests to the
   chief (`create_trial` that got a trial, `update_trial`, `end_trial`, `get_trial`) per trial,
   timed on the worker's main thread (heartbeats run in their own thread and do not delay
   training). The first request (waiting for the chief to come up) and requests answered "wait"
   (IDLE: no trial left while another worker finishes) are counted apart.
2. one process searching `--mirrored-trials` trials under MirroredStrategy over 2 logical CPU
   devices, two processes on loopback searching them together under MultiWorkerMirroredStrategy
   (`TF_CONFIG`, one replica each), and one process with no strategy, all at the same global
   batch (32): trial and steady epoch seconds.

Prints markdown tables to stdout, progress to stderr; `--json PATH` writes every number.
On a 2-core machine shared with other work, 2 workers cannot be 2x: read the ratios, not the seconds.

Options:
    --trials N           trials of each cluster search (default 6)
    --mirrored-trials N  trials of each single-process strategy search (default 3)
    --epochs N           epochs per trial (default 2)
    --samples N          digits used (80% train, 20% validation; default 600)
    --num-blocks N, --filters N  the proxy network (default 1 block, 4 filters)
    --timeout S          the most one search may take (default 900)
    --parts LIST         clusters, strategies or both (default both)
    --json PATH          write every number measured.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

OPERATIONS = ["conv_3x3", "sep_conv_3x3", "max_pool_3x3", "identity"]
GLOBAL_BATCH = 32
TIMED_REQUESTS = ("create_trial", "update_trial", "end_trial", "get_trial")


def say(message):
    print(message, file=sys.stderr, flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--mirrored-trials", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--samples", type=int, default=600)
    parser.add_argument("--num-blocks", type=int, default=1)
    parser.add_argument("--filters", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--parts", default="clusters,strategies",
                        help="comma-separated: clusters (1 vs 2 workers), strategies (default both)")
    parser.add_argument("--json", default=None, metavar="PATH")
    # Internal: what a child process does, and where it writes its numbers.
    parser.add_argument("--child", choices=["cluster", "strategy"], default=None, help=argparse.SUPPRESS)
    parser.add_argument("--strategy", choices=["mirrored", "multi_worker", "none"], default="none",
                        help=argparse.SUPPRESS)
    parser.add_argument("--directory", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- children
def _search_parts(args, batch_size):
    """Data, hypermodel and oracle of one search (imports TensorFlow: call after device set-up)."""
    import keras_tuner
    from sklearn.datasets import load_digits

    from autonas.data.images import spec_from_array
    from autonas.data.pipeline import from_arrays
    from autonas.oracles import make_oracle
    from autonas.space.hypermodel import CellHyperModel, CellSearchSpace
    from autonas.space.network import NetworkSize

    digits = load_digits()
    x = (digits.images[:args.samples] * (255 / 16)).round().astype("uint8")
    y = digits.target[:args.samples]
    split = int(0.8 * len(x))
    data = from_arrays(x[:split], y[:split], x[split:], y[split:], batch_size=batch_size, seed=0)
    space = CellSearchSpace(OPERATIONS, num_blocks=args.num_blocks)
    hypermodel = CellHyperModel(space, inputs_builder=spec_from_array(x).build_inputs, num_classes=10,
                                size=NetworkSize(filters=args.filters, normal_cells=1))
    trials = args.trials if args.child == "cluster" else args.mirrored_trials
    oracle = make_oracle("random", objective=keras_tuner.Objective("val_accuracy", "max"), max_trials=trials,
                         seed=0, hyperparameters=space.hyperparameters())
    return data, hypermodel, oracle


class TimedRequests:
    """A worker's `OracleClient`, timing the requests its main thread makes to the chief."""

    def __init__(self, client):
        self._client = client
        self.calls = []  # [request, seconds, trial status or None]

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if name not in TIMED_REQUESTS:
            return attribute

        def timed(*args, **kwargs):
            start = time.perf_counter()
            result = attribute(*args, **kwargs)
            if threading.current_thread() is threading.main_thread():
                self.calls.append([name, time.perf_counter() - start, getattr(result, "status", None)])
            return result

        return timed


def run_cluster_child(args):
    """One process of a cluster search (its part from KERASTUNER_TUNER_ID)."""
    from autonas.engine.tuner import SearchTuner

    class Tuner(SearchTuner):
        """Records when each trial begins and ends (wall clock, comparable across processes)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.spans = []

        def on_trial_begin(self, trial):
            self.spans.append([trial.trial_id, time.time(), None])
            super().on_trial_begin(trial)

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            self.spans[-1][2] = time.time()

    data, hypermodel, oracle = _search_parts(args, GLOBAL_BATCH)
    tuner = Tuner(hypermodel, oracle, directory=args.directory, project_name="scaling", overwrite=True)
    if tuner.cluster.is_worker:
        tuner.oracle = TimedRequests(tuner.oracle)
    tuner.search(data.train, validation_data=data.validation, epochs=args.epochs, verbose=0)
    result = {"role": tuner.cluster.role, "tuner_id": tuner.cluster.tuner_id}
    if tuner.cluster.is_worker:
        result.update(spans=tuner.spans, calls=tuner.oracle.calls,
                      trial_seconds=[t.metrics.get_last_value("seconds") for t in tuner.finished_trials])
    else:
        result.update(completed=sum(t.status == "COMPLETED" for t in tuner.oracle.trials.values()),
                      trial_workers=tuner.trial_workers)
    _write(args.out, result)


def run_strategy_child(args):
    """A search under MirroredStrategy (2 logical CPUs), one worker's part of a search under
    MultiWorkerMirroredStrategy (TF_CONFIG set by the parent), or no strategy."""
    import tensorflow as tf

    if args.strategy == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from autonas.engine.tuner import SearchTuner

    strategy = {"mirrored": tf.distribute.MirroredStrategy, "multi_worker": tf.distribute.MultiWorkerMirroredStrategy,
                "none": lambda: None}[args.strategy]()
    data, hypermodel, oracle = _search_parts(args, GLOBAL_BATCH)
    tuner = SearchTuner(hypermodel, oracle, directory=args.directory, project_name="strategy", overwrite=True,
                        distribution_strategy=strategy)
    start = time.monotonic()
    tuner.search(data.train, validation_data=data.validation, epochs=args.epochs, verbose=0)
    trials = [t for t in tuner.oracle.trials.values() if t.status == "COMPLETED"]
    _write(args.out, {
        "strategy": args.strategy,
        "replicas": 1 if strategy is None else int(strategy.num_replicas_in_sync),
        "completed": len(trials),
        "seconds": time.monotonic() - start,
        "trial_seconds": [t.metrics.get_last_value("seconds") for t in trials],
        "epoch_seconds": [t.metrics.get_last_value("epoch_seconds") for t in trials],
        "val_accuracy": [t.score for t in trials],
    })


def _write(path, result):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


# --------------------------------------------------------------------------- parent
def _child_command(args, child, directory, out, strategy="none"):
    return [sys.executable, os.path.abspath(__file__), "--child", child, "--strategy", strategy,
            "--directory", directory, "--out", out, "--trials", str(args.trials), "--mirrored-trials",
            str(args.mirrored_trials), "--epochs", str(args.epochs), "--samples", str(args.samples),
            "--num-blocks", str(args.num_blocks), "--filters", str(args.filters)]


def _wait(processes, timeout):
    deadline = time.monotonic() + timeout
    try:
        for name, process in processes.items():
            code = process.wait(timeout=max(deadline - time.monotonic(), 1))
            if code != 0:
                raise RuntimeError(f"{name} exited with {code}")
    finally:
        for process in processes.values():
            process.kill()
            process.wait()


def measure_cluster(args, workers, scratch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    directory = os.path.join(scratch, f"cluster{workers}")
    roles = ["chief"] + [f"tuner{index}" for index in range(workers)]
    processes, outputs = {}, {}
    start = time.monotonic()
    for role in roles:
        outputs[role] = os.path.join(scratch, f"cluster{workers}-{role}.json")
        env = dict(os.environ, KERASTUNER_TUNER_ID=role, KERASTUNER_ORACLE_IP="127.0.0.1",
                   KERASTUNER_ORACLE_PORT=str(port))
        processes[role] = subprocess.Popen(_child_command(args, "cluster", directory, outputs[role]), env=env)
    _wait(processes, args.timeout)
    wall = time.monotonic() - start
    results = {role: _read(path) for role, path in outputs.items()}
    worker_results = [results[role] for role in roles[1:]]
    spans = [span for result in worker_results for span in result["spans"]]
    span_seconds = max(end for _, _, end in spans) - min(begin for _, begin, _ in spans)
    running, first, waiting, per_trial = [], [], [], []
    for result in worker_results:
        calls = result["calls"]
        first.append(calls[0][1])
        for name, seconds, status in calls[1:]:
            if name == "create_trial" and status != "RUNNING":
                waiting.append(seconds)
            else:
                running.append(seconds)
        if result["spans"]:
            per_trial.append(sum(seconds for name, seconds, status in calls[1:]
                                 if not (name == "create_trial" and status != "RUNNING")) / len(result["spans"]))
    completed = results["chief"]["completed"]
    trial_seconds = [s for result in worker_results for s in result["trial_seconds"]]
    return {
        "workers": workers,
        "completed": completed,
        "wall_seconds": wall,
        "search_span_seconds": span_seconds,
        "trials_per_hour": completed / span_seconds * 3600,
        "mean_trial_seconds": statistics.mean(trial_seconds),
        "request_ms_per_trial": 1000 * sum(running) / max(completed, 1),
        "request_ms_per_trial_by_worker": [1000 * value for value in per_trial],
        "request_ms_median": 1000 * statistics.median(running) if running else float("nan"),
        "first_request_seconds": first,
        "idle_wait_seconds": sum(waiting),
        "trials_by_worker": {result["tuner_id"]: len(result["spans"]) for result in worker_results},
    }


def measure_strategy(args, strategy, scratch):
    env = {key: value for key, value in os.environ.items() if not key.startswith("KERASTUNER_")}
    processes, outputs = {}, []
    if strategy == "multi_worker":
        ports = []
        for _ in range(2):
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                ports.append(probe.getsockname()[1])
        cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
        configs = [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}) for index in range(2)]
    else:
        configs = [None]
    for index, config in enumerate(configs):
        outputs.append(os.path.join(scratch, f"strategy-{strategy}-{index}.json"))
        directory = os.path.join(scratch, f"strategy-{strategy}-{index}")
        worker_env = env if config is None else dict(env, TF_CONFIG=config)
        processes[f"{strategy} {index}"] = subprocess.Popen(
            _child_command(args, "strategy", directory, outputs[-1], strategy), env=worker_env)
    _wait(processes, args.timeout)
    result = _read(outputs[0])  # the chief's view; the workers train every trial together
    result["mean_trial_seconds"] = statistics.mean(result["trial_seconds"])
    result["mean_epoch_seconds"] = statistics.mean(result["epoch_seconds"])
    return result


def report(clusters, strategies, args, load):
    if clusters:
        report_clusters(clusters, args)
    if strategies:
        report_strategies(strategies, args)
    print(f"\nload average before / after: {load[0]:.1f} / {load[1]:.1f} ({os.cpu_count()} CPUs)")


def report_clusters(clusters, args):
    one, two = clusters
    print(f"\n### Workers (keras-tuner chief/worker on loopback; {args.trials} trials, {args.epochs} epochs, "
          f"{args.samples} digits, {args.num_blocks} block(s), {args.filters} filters)\n")
    print("| workers | trials | search span s | trials / hour | mean trial s | requests ms / trial "
          "| median request ms | trials per worker | wall s (with start-up) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c in clusters:
        per_worker = ", ".join(f"{tuner}: {count}" for tuner, count in sorted(c["trials_by_worker"].items()))
        print(f"| {c['workers']} | {c['completed']} | {c['search_span_seconds']:.1f} | {c['trials_per_hour']:.0f} "
              f"| {c['mean_trial_seconds']:.1f} | {c['request_ms_per_trial']:.1f} | {c['request_ms_median']:.1f} "
              f"| {per_worker} | {c['wall_seconds']:.0f} |")
    print(f"\n2 workers / 1 worker, trials per hour: {two['trials_per_hour'] / one['trials_per_hour']:.2f}x "
          f"(mean trial {two['mean_trial_seconds'] / one['mean_trial_seconds']:.2f}x as long with 2 workers)")


def report_strategies(strategies, args):
    print(f"\n### MirroredStrategy over 2 logical CPUs, MultiWorkerMirroredStrategy over 2 processes, and none "
          f"(global batch {GLOBAL_BATCH}, {args.mirrored_trials} trials)\n")
    print("| strategy | replicas | trials | mean trial s | mean steady epoch s | best val_accuracy |")
    print("|---|---|---|---|---|---|")
    for s in strategies:
        print(f"| {s['strategy']} | {s['replicas']} | {s['completed']} | {s['mean_trial_seconds']:.1f} "
              f"| {s['mean_epoch_seconds']:.2f} | {max(s['val_accuracy']):.3f} |")
    none = strategies[-1]
    for s in strategies[:-1]:
        print(f"\n{s['strategy']} / none, trial seconds: {s['mean_trial_seconds'] / none['mean_trial_seconds']:.2f}x, "
              f"epoch seconds: {s['mean_epoch_seconds'] / none['mean_epoch_seconds']:.2f}x")


def main(argv=None):
    args = parse_args(argv)
    if args.child == "cluster":
        return run_cluster_child(args)
    if args.child == "strategy":
        return run_strategy_child(args)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="autonas-scaling-") as scratch:
        parts = args.parts.split(",")
        clusters = []
        for workers in (1, 2) if "clusters" in parts else ():
            say(f"cluster search: chief + {workers} worker(s), {args.trials} trials ...")
            clusters.append(measure_cluster(args, workers, scratch))
        strategies = []
        for strategy in ("mirrored", "multi_worker", "none") if "strategies" in parts else ():
            say(f"single-process search, strategy {strategy}, {args.mirrored_trials} trials ...")
            strategies.append(measure_strategy(args, strategy, scratch))
    load = (load_before, os.getloadavg()[0])
    report(clusters, strategies, args, load)
    if args.json:
        _write(args.json, {"arguments": {k: v for k, v in vars(args).items() if k not in ("child", "strategy",
                                                                                             "directory", "out")},
                           "clusters": clusters, "strategies": strategies, "load_average": load})


if __name__ == "__main__":
    main()
