"""How long an epoch's end waits to delete its tf.data iterator, with tf.data's autotuning on
(TensorFlow's default) and off (what `autonas.data.pipeline` builds).

Both pipelines are the one autonas builds from arrays (shuffle, batch, prefetch) over Fashion-
sized uint8 images. Each runs in its own thread at the same time; a training step is a sleep
(TensorFlow releases the GIL while it trains), so only the iterator's own threads use the CPU.
The wait shows up when an epoch lasts long enough for the tuning thread to sleep long.

    python benchmarks/iterator_stall.py --epochs 4 --step-seconds 1.5 --json stall.json

Prints a markdown table: per variant, each epoch's seconds and its iterator's deletion seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

VARIANTS = {"autotune on": True, "autotune off": False}


def pipeline(autotune, samples, batch_size, seed):
    import numpy as np
    import tensorflow as tf

    from autonas.data.pipeline import without_autotune

    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (samples, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, samples).astype("int32")
    dataset = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(samples, seed=seed, reshuffle_each_iteration=True)
               .batch(batch_size).prefetch(tf.data.AUTOTUNE))
    return dataset if autotune else without_autotune(dataset)


def run_epochs(dataset, epochs, step_seconds, rows):
    for epoch in range(1, epochs + 1):
        start = time.monotonic()
        iterator = iter(dataset)
        batches = 0
        for _ in iterator:
            time.sleep(step_seconds)
            batches += 1
        epoch_seconds = time.monotonic() - start
        start = time.monotonic()
        del iterator
        rows.append({"epoch": epoch, "batches": batches, "epoch_s": epoch_seconds,
                     "delete_s": time.monotonic() - start})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--step-seconds", type=float, default=1.5, help="seconds a training step takes")
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()

    results = {name: [] for name in VARIANTS}
    threads = [threading.Thread(target=run_epochs, args=(pipeline(autotune, args.samples, args.batch_size, args.seed),
                                                         args.epochs, args.step_seconds, results[name]))
               for name, autotune in VARIANTS.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    print("| variant | epoch | batches | epoch s | iterator deletion s |")
    print("|---|---|---|---|---|")
    for name, rows in results.items():
        for row in rows:
            print(f"| {name} | {row['epoch']} | {row['batches']} | {row['epoch_s']:.1f} | {row['delete_s']:.2f} |")
    for name, rows in results.items():
        print(f"{name}: {sum(row['delete_s'] for row in rows):.1f} s waited in {len(rows)} deletions")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "results": results}, handle, indent=1)


if __name__ == "__main__":
    main()
