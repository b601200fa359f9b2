"""The supernet's first compiled step with and without TensorFlow's graph optimiser (Grappler).

Each variant runs in a fresh process, one after the other: build the supernet of the default
image space, call the ENAS train step and the scoring step once (tracing, graph rewrites,
first run), then `--steps` more times with a new child each. "grappler" is TensorFlow's default;
"off" is how autonas calls the supernet's steps on a CPU (`autonas.engine.graph_rewrites`).

    python benchmarks/supernet_tracing.py --side 28 --json tracing.json

Prints a markdown table and the ratio of first-call seconds; later steps should not differ.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

VARIANTS = ("grappler", "off")


def measure(variant, side, batch_size, steps):
    """Seconds of the first and the later train and score calls, in this process."""
    import keras
    import numpy as np

    import autonas.oneshot.supernet.training as training
    from autonas.oneshot import Supernet, SupernetTrainer
    from autonas.space import CellSearchSpace, NetworkSize

    if variant == "grappler":
        training.graph_rewrites_off = contextlib.nullcontext

    def inputs_builder():
        inputs = keras.Input((side, side, 1))
        return inputs, inputs

    supernet = Supernet(CellSearchSpace(num_blocks=4), inputs_builder=inputs_builder, num_classes=10,
                        size=NetworkSize(filters=16))
    trainer = SupernetTrainer(supernet)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch_size, side, side, 1)).astype("float32")
    y = rng.integers(0, 10, batch_size)

    def timed(call):
        start = time.monotonic()
        call(supernet.encoding.sample(rng))
        return time.monotonic() - start

    def train(architecture):
        trainer.train_step(x, y, architecture)

    def score(architecture):
        trainer.score(architecture, [(x, y)])

    result = {"variant": variant, "side": side, "batch_size": batch_size, "params": supernet.count_params()}
    for name, call in [("train", train), ("score", score)]:
        result[f"{name}_first_s"] = timed(call)
        result[f"{name}_step_s"] = statistics.median(timed(call) for _ in range(steps))
    result["tracings"] = trainer.tracing_counts
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=28, help="image side in pixels (28: Fashion-MNIST, 8: digits)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=8, help="later calls timed per step (median)")
    parser.add_argument("--json", help="write the rows here")
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.side, args.batch_size, args.steps)))
        return
    rows = []
    for variant in VARIANTS:
        print(f"{variant} ...", file=sys.stderr, flush=True)
        output = subprocess.run([sys.executable, __file__, "--worker", variant, "--side", str(args.side),
                                 "--batch-size", str(args.batch_size), "--steps", str(args.steps)],
                                check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
    print(f"supernet of {rows[0]['params']:,} weights, {args.side}x{args.side} inputs, batch {args.batch_size}\n")
    print("| graph optimiser | first train step s | later train step s | first score s | later score s |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['variant']} | {row['train_first_s']:.1f} | {row['train_step_s']:.2f} | "
              f"{row['score_first_s']:.1f} | {row['score_step_s']:.3f} |")
    grappler, off = rows
    print(f"\nfirst train step: {grappler['train_first_s'] / off['train_first_s']:.1f}x faster without the optimiser; "
          f"later steps {off['train_step_s'] / grappler['train_step_s']:.2f}x the time")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
