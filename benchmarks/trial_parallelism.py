"""One trial at a time on every core, or one trial per core at once: which finishes a search's
trials sooner on this machine?

Both arms train the same architectures of autonas's default search space (drawn with `--seed`),
each as a trial does: build the proxy, `fit` for `--epochs` with the cosine schedule, one
validation pass (`AutonasTrialSetup.plain_fit` in image_vs_peers.py). The "shared" arm is one
process with TensorFlow's intra- and inter-op threads set to the core count, running every
trial in turn; the "split" arm is one process per core, each with one thread, running every
`cores`-th trial, all at once. Wall time is measured by this script from the processes' start
(imports and data loading included, as a search pays them) to the last one's end; the arms
alternate over `--rounds` (ABBA) so that a drift in machine load hits both.

    python benchmarks/trial_parallelism.py --dataset digits --trials 8 --epochs 10 --rounds 2
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def worker(args):
    """Run in a child process: train `args.share` of the architectures with `args.threads` threads."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import numpy as np

    sys.path.insert(0, os.path.dirname(HERE))
    from benchmarks import datasets
    from benchmarks.image_vs_peers import AutonasTrialSetup

    from autonas import ImageSearchClassifier
    from autonas.oracles.decisions import SpaceEncoding

    setup = AutonasTrialSetup(ImageSearchClassifier(), datasets.load(args.dataset, seed=args.seed), args.seed)
    space = setup.space.hyperparameters()
    rng = np.random.default_rng(args.seed)
    drawn = [SpaceEncoding(space).random_values(rng) for _ in range(args.trials)]
    results = []
    for index in range(args.index, args.trials, args.processes):
        hp = space.copy()
        hp.values.update(drawn[index])
        start = time.monotonic()
        result = setup.plain_fit(setup.space.declare(hp), args.epochs)
        results.append({"trial": index, "seconds": time.monotonic() - start,
                        "val_accuracy": result["plain_val_accuracy"]})
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(results, handle)


def run_arm(args, processes, threads):
    """Start `processes` workers with `threads` threads each; (wall seconds, their trial results)."""
    with tempfile.TemporaryDirectory(prefix="autonas-parallel-") as directory:
        outs = [os.path.join(directory, f"{i}.json") for i in range(processes)]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        start = time.monotonic()
        children = [subprocess.Popen([sys.executable, __file__, "--worker", "--dataset", args.dataset,
                                      "--trials", str(args.trials), "--epochs", str(args.epochs), "--seed",
                                      str(args.seed), "--index", str(i), "--processes", str(processes),
                                      "--threads", str(threads), "--out", outs[i]], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    for i in range(processes)]
        codes = [child.wait() for child in children]
        wall = time.monotonic() - start
        if any(codes):
            raise RuntimeError(f"a worker failed (exit codes {codes})")
        trials = [row for out in outs for row in json.load(open(out, encoding="utf-8"))]
    return wall, sorted(trials, key=lambda row: row["trial"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=10, help="epochs per trial (autonas's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2, help="times each arm runs, alternating")
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--json", help="also write every run here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    for name in ("--index", "--processes", "--threads"):
        parser.add_argument(name, type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    arms = {"shared": (1, args.cores), "split": (args.cores, 1)}
    runs = {name: [] for name in arms}
    for round_index in range(args.rounds):
        order = list(arms) if round_index % 2 == 0 else list(arms)[::-1]
        for name in order:
            wall, trials = run_arm(args, *arms[name])
            runs[name].append({"wall": wall, "trials": trials})
            print(f"round {round_index + 1}: {name}: {wall:.1f} s for {len(trials)} trials", file=sys.stderr,
                  flush=True)
    print(f"{args.trials} trials of autonas's default proxy on {args.dataset}, {args.epochs} epochs each, "
          f"{args.cores} cores, {args.rounds} rounds (seed {args.seed}):\n")
    print("| arm | processes x threads | wall s per round | mean wall s | trials per hour | mean s per trial inside |")
    print("|---|---|---|---|---|---|")
    means = {}
    for name, (processes, threads) in arms.items():
        walls = [run["wall"] for run in runs[name]]
        means[name] = sum(walls) / len(walls)
        inside = [row["seconds"] for run in runs[name] for row in run["trials"]]
        print(f"| {name} | {processes} x {threads} | {', '.join(f'{w:.1f}' for w in walls)} | {means[name]:.1f} | "
              f"{3600 * args.trials / means[name]:.0f} | {sum(inside) / len(inside):.1f} |")
    print(f"\nsplit / shared wall time: {means['split'] / means['shared']:.2f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"args": vars(args), "runs": runs}, handle, indent=1)


if __name__ == "__main__":
    main()
