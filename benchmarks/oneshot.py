"""One-shot search against trial-based search: scoring speed, accuracy at equal budgets, memory.

(a) Architectures scored per minute with the supernet's shared weights (`SupernetTrainer.score`
    on the validation batches) vs. children trained from scratch: built, trained for as many
    batches as the shared score reads, and scored on the same batches; also vs. one epoch of
    training, the cheapest proxy a trial-based search would use. Digits at the classifiers'
    default search size.
(b) `ImageSearchClassifier(oracle=m, time_limit=budget)` for m in enas, darts, evolution,
    random: test accuracy of the full fit (search + retraining) on digits and a Fashion-MNIST
    subset, at the same wall-clock budget per method.
(c) Peak resident memory of each run: every run is its own process, so `ru_maxrss` is its own.

    python benchmarks/oneshot.py --json oneshot.json
    python benchmarks/oneshot.py --datasets digits --methods enas,random --budget digits=300

Runs one after the other, so machine load hits every method alike; prints a table.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

METHODS = ("enas", "darts", "evolution", "random")
DATASETS = ("digits", "fashion")
DEFAULT_BUDGETS = {"digits": 600, "fashion": 900}
SCORED_SHARED = 20  # architectures scored with shared weights in (a)
SCORED_SCRATCH = 3  # children trained from scratch in (a), per variant


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def say(message):
    print(message, file=sys.stderr, flush=True)


# -- (a) scoring speed -----------------------------------------------------------------------------

def scoring_rates(seed):
    """Architectures per minute: shared weights vs. from scratch (two training lengths)."""
    import keras
    import numpy as np

    import datasets
    from autonas.data import images as image_data
    from autonas.data.pipeline import from_arrays, split_arrays
    from autonas.oneshot import Supernet, SupernetTrainer
    from autonas.space import CellSearchSpace, NetworkSize
    from autonas.space.hypermodel import CellHyperModel
    from autonas.space.operations import IMAGE_OPERATIONS

    split = datasets.load_digits(seed=seed)
    x = image_data.check_images(split.x_train)
    x_train, x_val, y_train, y_val = split_arrays(x, split.y_train, 0.2, seed)
    data = from_arrays(x_train, y_train, x_val, y_val, batch_size=128, seed=seed)
    spec = image_data.spec_from_array(x)
    space = CellSearchSpace(IMAGE_OPERATIONS, num_blocks=4, rank=2, reduction_cell=True)
    size = NetworkSize(filters=16, normal_cells=1)
    rng = np.random.default_rng(seed)
    validation = list(data.validation)
    train = list(data.train)

    supernet = Supernet(space, inputs_builder=spec.build_inputs, num_classes=10, size=size)
    trainer = SupernetTrainer(supernet)
    start = time.monotonic()
    for x_batch, y_batch in train:  # one epoch of shared training; its first step traces
        trainer.train_step(x_batch, y_batch, supernet.encoding.sample(rng))
    trainer.score(supernet.encoding.sample(rng), validation)  # traces the scoring step
    warm_up = time.monotonic() - start
    start = time.monotonic()
    for _ in range(SCORED_SHARED):
        trainer.score(supernet.encoding.sample(rng), validation)
    shared = (time.monotonic() - start) / SCORED_SHARED

    hypermodel = CellHyperModel(space, inputs_builder=spec.build_inputs, num_classes=10, size=size)

    def from_scratch(batches):
        start = time.monotonic()
        for _ in range(SCORED_SCRATCH):
            keras.backend.clear_session()
            model = hypermodel.build_genotype(supernet.encoding.decode(supernet.encoding.sample(rng)))
            model.fit(data.train.take(batches), epochs=1, verbose=0)
            model.evaluate(data.validation, verbose=0)
        return (time.monotonic() - start) / SCORED_SCRATCH

    same_batches = from_scratch(len(validation))
    one_epoch = from_scratch(len(train))
    return {
        "validation_batches": len(validation), "train_batches": len(train),
        "supernet_warm_up_seconds": warm_up,
        "scored_per_min_shared": 60.0 / shared,
        "scored_per_min_scratch": 60.0 / same_batches,
        "scored_per_min_scratch_one_epoch": 60.0 / one_epoch,
        "ratio": same_batches / shared, "ratio_one_epoch": one_epoch / shared,
    }


# -- (b), (c): one full fit per process ------------------------------------------------------------

def fit_once(method, dataset, budget, seed, fashion_train, fashion_test):
    import autonas
    import datasets

    split = datasets.load(dataset, seed=seed, fashion_train=fashion_train, fashion_test=fashion_test)
    start = time.monotonic()
    clf = autonas.ImageSearchClassifier(oracle=method, time_limit=budget, seed=seed, verbose=1)
    clf.fit(split.x_train, split.y_train)
    seconds = time.monotonic() - start
    board = clf.leaderboard()
    return {
        "method": method, "dataset": dataset, "test_accuracy": float(clf.score(split.x_test, split.y_test)),
        "seconds": seconds, "peak_mb": peak_mb(), "budget": budget, "search_score": clf.best_score_,
        "candidates": int(len(board)), "params": int(clf.model_.count_params()),
        "architecture": str(clf.best_genotype_),
    }


def in_subprocess(arguments, limit):
    """Run this script with `arguments` in a fresh process; its last stdout line is JSON.

    A failure's row carries the last line the process wrote to stderr (e.g. a MemoryError's message).
    """
    command = [sys.executable, os.path.abspath(__file__), *arguments]
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=limit, text=True)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {limit:.0f} s"}
    sys.stderr.write(done.stderr)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        reason = [line for line in done.stderr.splitlines() if line.strip()][-1:]
        return {"error": f"exit code {done.returncode}" + (f": {reason[0].strip()}" if reason else "")}
    return json.loads(lines[-1])


def table(rates, results):
    lines = []
    if rates:
        if "error" in rates:
            lines.append(f"(a) scoring speed: {rates['error']}")
        else:
            lines += [
                "(a) architectures scored per minute, digits, default search size "
                f"({rates['validation_batches']} validation batches of 128):",
                f"    shared weights                        {rates['scored_per_min_shared']:10.1f}",
                f"    from scratch, {rates['validation_batches']} training batches       "
                f"{rates['scored_per_min_scratch']:10.1f}   ratio {rates['ratio']:.0f}x",
                f"    from scratch, one epoch ({rates['train_batches']} batches)  "
                f"{rates['scored_per_min_scratch_one_epoch']:10.1f}   ratio {rates['ratio_one_epoch']:.0f}x",
                f"    (one-time supernet warm-up: one epoch incl. tracing, {rates['supernet_warm_up_seconds']:.0f} s)",
                "",
            ]
    if results:
        lines.append(f"{'method':<10} {'dataset':<8} {'budget s':>8} {'test acc':>8} {'seconds':>8} {'peak MiB':>8}  "
                     "candidates")
        for row in results:
            if "error" in row:
                lines.append(f"{row['method']:<10} {row['dataset']:<8} {row['budget']:>8} {'failed: ' + row['error']}")
                continue
            lines.append(f"{row['method']:<10} {row['dataset']:<8} {row['budget']:>8} {row['test_accuracy']:>8.3f} "
                         f"{row['seconds']:>8.0f} {row['peak_mb']:>8.0f}  {row['candidates']}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--budget", default=",".join(f"{k}={v}" for k, v in DEFAULT_BUDGETS.items()),
                        help="seconds per fit, per data set: digits=600,fashion=900")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fashion-train", type=int, default=5000)
    parser.add_argument("--fashion-test", type=int, default=2000)
    parser.add_argument("--skip-rates", action="store_true", help="skip (a)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "DATASET"), help=argparse.SUPPRESS)
    parser.add_argument("--rates-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    budgets = dict(DEFAULT_BUDGETS)
    for item in filter(None, args.budget.split(",")):
        name, _, seconds = item.partition("=")
        if name not in DATASETS or not seconds.isdigit():
            parser.error(f"--budget takes name=seconds for {DATASETS}, got {item!r}")
        budgets[name] = int(seconds)

    if args.rates_worker:
        print(json.dumps(scoring_rates(args.seed)))
        return
    if args.worker:
        method, dataset = args.worker
        print(json.dumps(fit_once(method, dataset, budgets[dataset], args.seed, args.fashion_train,
                                  args.fashion_test)))
        return

    methods = [m for m in args.methods.split(",") if m]
    names = [d for d in args.datasets.split(",") if d]
    for value, allowed, kind in [(methods, METHODS, "--methods"), (names, DATASETS, "--datasets")]:
        if not value or set(value) - set(allowed):
            parser.error(f"{kind} takes a comma-separated subset of {allowed}")
    common = ["--seed", str(args.seed), "--fashion-train", str(args.fashion_train),
              "--fashion-test", str(args.fashion_test), "--budget", args.budget]
    rates = None
    if not args.skip_rates:
        say("(a) scoring speed ...")
        rates = in_subprocess(["--rates-worker", *common], limit=1800)
        print(table(rates, []), flush=True)
    results = []
    for dataset in names:
        for method in methods:
            say(f"(b) {method} on {dataset}, {budgets[dataset]} s ...")
            row = in_subprocess(["--worker", method, dataset, *common], limit=budgets[dataset] * 2 + 600)
            results.append({"method": method, "dataset": dataset, "budget": budgets[dataset], **row})
            say(json.dumps(results[-1]))
    print(table(None, results), flush=True)
    if args.json:
        payload = {"scored_per_min_shared": (rates or {}).get("scored_per_min_shared"),
                   "scored_per_min_scratch": (rates or {}).get("scored_per_min_scratch"),
                   "rates": rates, "results": results, "seed": args.seed}
        with open(args.json, "w") as handle:
            json.dump(payload, handle, indent=2)


if __name__ == "__main__":
    main()
