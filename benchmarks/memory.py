"""Memory and file descriptors across trials: RSS and open fds after every trial of a search on digits.

A long search must not keep growing: each trial builds a new model, and anything that keeps the
previous ones alive (the Keras session, callbacks, histories, trial objects) shows up here as a
steady climb. This runs a `SearchTuner` search wired like `ImageSearchClassifier`'s and records,
from its `on_trial_done` hook, the process's RSS after the trial (VmRSS), the peak RSS during
the trial (VmHWM, reset after each reading through /proc/self/clear_refs), the open file
descriptors (/proc/self/fd: a trial that leaves a checkpoint, event file or thread pool open
shows up here) and the number of Python objects the garbage collector tracks.

    python benchmarks/memory.py --trials 100 --json memory.json

Prints a markdown table, one row per trial, then the slopes of RSS and open fds per trial (least
squares over the trials after `--warmup`) and the growth from the first trial after the warm-up
to the last.
Linux only (/proc).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from autonas.data import images as image_data  # noqa: E402
from autonas.data.pipeline import from_arrays, split_arrays  # noqa: E402
from autonas.engine.budget import CosineEpochs, Deadline  # noqa: E402
from autonas.engine.tuner import SearchTuner  # noqa: E402
from autonas.oracles import ORACLE_NAMES, make_oracle  # noqa: E402
from autonas.space.hypermodel import CellHyperModel, CellSearchSpace  # noqa: E402
from autonas.space.network import NetworkSize, default_reductions  # noqa: E402

MIB = 1024 * 1024
OPERATIONS = ["conv_3x3", "sep_conv_3x3", "max_pool_3x3", "avg_pool_3x3", "identity"]


def read_status():
    """(VmRSS, VmHWM) of this process in bytes, from /proc/self/status."""
    values = {}
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values["VmRSS"], values["VmHWM"]


def open_fds():
    """How many file descriptors this process holds open."""
    return len(os.listdir("/proc/self/fd"))


def reset_peak():
    """Start a new peak-RSS window (Linux >= 4.0); False where the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


class MemoryRecorder:
    """An `on_trial_done` callback recording memory after each trial."""

    def __init__(self, count_objects=True):
        self.rows = []
        self.count_objects = count_objects
        self.peak_resets = reset_peak()
        self._start = time.monotonic()

    def __call__(self, tuner, trial):
        rss, peak = read_status()
        self.rows.append({
            "trial": len(self.rows) + 1,
            "status": trial.status,
            "rss_mib": rss / MIB,
            "trial_peak_mib": peak / MIB,
            "fds": open_fds(),
            "objects": len(gc.get_objects()) if self.count_objects else None,
            "seconds": time.monotonic() - self._start,
        })
        self.peak_resets = reset_peak() and self.peak_resets
        self._start = time.monotonic()


def slope(rows, key, warmup):
    """Least-squares growth of `key` per trial over the rows after `warmup` (None if < 2 rows)."""
    kept = rows[warmup:]
    if len(kept) < 2:
        return None
    x = np.array([r["trial"] for r in kept], dtype=float)
    y = np.array([r[key] for r in kept], dtype=float)
    return float(np.polyfit(x, y, 1)[0])


def run(args, on_trial_done):
    """Run the search of `args`, calling `on_trial_done(tuner, trial)` after each trial."""
    digits = load_digits()
    images = image_data.check_images((digits.images[: args.images] * (255 / 16)).round().astype(np.uint8))
    labels = digits.target[: args.images]
    x_train, x_val, y_train, y_val = split_arrays(images, labels, 0.2, args.seed)
    spec = image_data.spec_from_array(images)
    data = from_arrays(x_train, y_train, x_val, y_val, batch_size=args.batch_size, seed=args.seed)
    space = CellSearchSpace(OPERATIONS, num_blocks=args.num_blocks, rank=2,
                            reduction_cell=default_reductions(spec.spatial_shape) > 0)
    hypermodel = CellHyperModel(space, inputs_builder=spec.build_inputs, num_classes=10,
                                size=NetworkSize(filters=args.filters, normal_cells=1))
    oracle = make_oracle(args.oracle, objective=keras_tuner.Objective("val_accuracy", "max"), max_trials=args.trials,
                         seed=args.seed, hyperparameters=space.hyperparameters())
    with tempfile.TemporaryDirectory(prefix="autonas-memory-") as directory:
        tuner = SearchTuner(hypermodel, oracle, on_trial_done=on_trial_done, directory=directory,
                            project_name="memory", overwrite=True)
        tuner.search(data.train, validation_data=data.validation, epochs=args.epochs, verbose=0,
                     callbacks=[CosineEpochs(hypermodel.learning_rate, args.epochs, Deadline(None))])


def summary(rows, warmup):
    """Slopes and growth after the warm-up, as a dict."""
    after = rows[warmup:] or rows
    return {
        "warmup": warmup,
        "rss_first_mib": rows[0]["rss_mib"] if rows else None,
        "rss_slope_mib_per_trial": slope(rows, "rss_mib", warmup),
        "trial_peak_slope_mib_per_trial": slope(rows, "trial_peak_mib", warmup),
        "objects_slope_per_trial": slope(rows, "objects", warmup) if rows and rows[0]["objects"] is not None else None,
        "rss_growth_mib": after[-1]["rss_mib"] - after[0]["rss_mib"] if after else None,
        "fds_slope_per_trial": slope(rows, "fds", warmup),
        "fds_growth": after[-1]["fds"] - after[0]["fds"] if after else None,
        "max_trial_peak_mib": max(r["trial_peak_mib"] for r in rows) if rows else None,
    }


def print_table(rows, stats, peak_resets):
    peak_title = "peak during trial (MiB)" if peak_resets else "peak so far (MiB)"
    print(f"| trial | status | RSS after (MiB) | {peak_title} | open fds | Python objects | seconds |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        objects = "—" if r["objects"] is None else f"{r['objects']:,}"
        print(f"| {r['trial']} | {r['status']} | {r['rss_mib']:.1f} | {r['trial_peak_mib']:.1f} | {r['fds']} | {objects} | "
              f"{r['seconds']:.1f} |")
    print()

    def show(value, spec):
        return "—" if value is None else format(value, spec)

    print(f"After trial {stats['warmup']}: RSS slope {show(stats['rss_slope_mib_per_trial'], '+.2f')} MiB/trial, "
          f"peak slope {show(stats['trial_peak_slope_mib_per_trial'], '+.2f')} MiB/trial, "
          f"objects slope {show(stats['objects_slope_per_trial'], '+.0f')}/trial, "
          f"RSS growth {show(stats['rss_growth_mib'], '+.1f')} MiB; "
          f"open fds slope {show(stats['fds_slope_per_trial'], '+.3f')}/trial, growth {show(stats['fds_growth'], '+d')}.")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30, help="trials of the search (default 30)")
    parser.add_argument("--oracle", choices=ORACLE_NAMES, default="random")
    parser.add_argument("--images", type=int, default=600, help="digits images used (default 600)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--num-blocks", type=int, default=2)
    parser.add_argument("--filters", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=3, help="trials left out of the slope (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-objects", action="store_true", help="do not count Python objects (saves time)")
    parser.add_argument("--json", metavar="OUT", help="also write every number to this JSON file")
    args = parser.parse_args(argv)
    if not os.path.exists("/proc/self/status"):
        parser.error("this benchmark reads /proc/self/status (Linux only)")
    recorder = MemoryRecorder(count_objects=not args.no_objects)
    run(args, recorder)
    stats = summary(recorder.rows, args.warmup)
    print_table(recorder.rows, stats, recorder.peak_resets)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"arguments": vars(args), "rows": recorder.rows, "summary": stats}, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
