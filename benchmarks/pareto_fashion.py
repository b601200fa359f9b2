"""Accuracy against a cost on the Fashion-MNIST subset: the front a search finds, each point exported.

One `ImageSearchClassifier(objective=["val_accuracy", cost], time_limit=...)` fit with the
defaults otherwise (`--cost`: latency_ms, params or flops); then up to `--points` trials of its
`pareto_front_` (its ends and points between, by that cost) are exported with
`clf.export(path, trial=...)`, each retrained as the winner was. Every exported SavedModel is
loaded back with plain `tf.saved_model.load` and measured as it serves: test accuracy on the
2,000 test images, and the median milliseconds of its `serve` call on 1 and on 128 images
(after warm-up calls), on this machine.

    python benchmarks/pareto_fashion.py --time-limit 600 --points 4 --plot docs/images/front.png
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from datasets import load_fashion  # noqa: E402


def spread(front, count, cost):
    """Up to `count` rows of `front` (sorted by `cost`): both ends and points evenly between."""
    front = front.sort_values(cost).reset_index(drop=True)
    if len(front) <= count:
        return front
    picks = sorted({int(round(i)) for i in np.linspace(0, len(front) - 1, count)})
    return front.iloc[picks].reset_index(drop=True)


def exported_width(path):
    """The width multiplier of the genotype an export names in its `autonas.json`."""
    from autonas.export import METADATA_FILE
    from autonas.space import Genotype

    with open(os.path.join(path, METADATA_FILE), encoding="utf-8") as handle:
        return Genotype.from_dict(json.load(handle)["genotype"]).width_multiplier or 1.0


def served_latency_ms(serve, images, batch, repeats=50, warmup=5):
    import tensorflow as tf

    batch_images = tf.constant(images[np.arange(batch) % len(images)])
    for _ in range(warmup):
        serve(batch_images).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        serve(batch_images).numpy()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=600, help="seconds for the fit (default 600)")
    parser.add_argument("--points", type=int, default=4, help="front points to export (default 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cost", default="latency_ms", choices=("latency_ms", "params", "flops"),
                        help="the objective beside accuracy (default latency_ms)")
    parser.add_argument("--plot", help="also draw the front (autonas.plot_front) to this file")
    args = parser.parse_args()

    import tensorflow as tf

    from autonas import ImageSearchClassifier

    split = load_fashion(seed=args.seed)
    print(split.description, flush=True)
    started = time.monotonic()
    clf = ImageSearchClassifier(objective=["val_accuracy", args.cost], time_limit=args.time_limit,
                                seed=args.seed, verbose=1)
    clf.fit(split.x_train, split.y_train)
    fit_seconds = time.monotonic() - started
    board = clf.leaderboard()
    print(f"\nfit: {fit_seconds:.0f} s for a {args.time_limit:.0f} s limit; {int(board['score'].notna().sum())} trials "
          f"trained, {len(clf.pareto_front_)} on the front; fitted model: trial {clf.selected_trial_}", flush=True)
    if args.plot:
        from autonas import plot_front

        plot_front(clf, args.cost).savefig(args.plot, dpi=100)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for _, point in spread(clf.pareto_front_, args.points, args.cost).iterrows():
            path = os.path.join(directory, f"trial_{point.trial}")
            started = time.monotonic()
            clf.export(path, trial=point.trial)
            export_seconds = time.monotonic() - started
            loaded = tf.saved_model.load(path)  # kept: `serve` alone would lose its variables
            serve = loaded.serve
            probabilities = np.concatenate([serve(tf.constant(split.x_test[i:i + 500])).numpy()
                                            for i in range(0, len(split.x_test), 500)])
            rows.append({
                "trial": point.trial, "architecture": point.architecture, "width": exported_width(path),
                "val_accuracy": point.score,
                "params": int(point.params), "flops": int(point.flops), "search_latency_ms": point.latency_ms,
                "test_accuracy": float(np.mean(clf.classes_[probabilities.argmax(axis=1)] == split.y_test)),
                "served_ms_1": served_latency_ms(serve, split.x_test, 1),
                "served_ms_128": served_latency_ms(serve, split.x_test, 128),
                "retrain_s": export_seconds,
            })
            print(f"exported trial {point.trial} in {export_seconds:.0f} s", flush=True)
    print("\n| trial | width | val acc (search) | params | MFLOPs | latency in search (ms) | test acc (exported) | "
          "served, 1 image (ms) | served, 128 images (ms) | retrain + export (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['trial']} | x{row['width']:g} | {row['val_accuracy']:.4f} | {row['params']:,} | "
              f"{row['flops'] / 1e6:.1f} | {row['search_latency_ms']:.2f} | {row['test_accuracy']:.4f} | "
              f"{row['served_ms_1']:.2f} | {row['served_ms_128']:.1f} | {row['retrain_s']:.0f} |")
    print("\narchitectures:")
    for row in rows:
        print(f"  trial {row['trial']}: {row['architecture']}")


if __name__ == "__main__":
    main()
