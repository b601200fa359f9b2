"""Which network size trains best in a short, fixed retraining time?

A fit retrains its winner in what the search left, often 90-200 s on 2 cores. This trains one
architecture (the plain residual convolution cell autonas's search starts from) at several
`NetworkSize`s, each for the same wall-clock seconds under the retraining's own schedule
(`CosineEpochs` with a deadline, growing its plan while time allows), on the data set's
training split, and reports the epochs it got and its test accuracy. It is the evidence behind
`autonas.engine.retrain.least_epochs`: a larger network trained for fewer epochs loses.

    python benchmarks/retrain_sizes.py --datasets fashion,cifar10 --seconds 100 \\
        --sizes 16/1/1,32/1/1,16/1/2,32/1/2,32/2/2,8/1/1

A size is FILTERS/NORMAL_CELLS/STEM_DOWNSAMPLINGS.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import datasets  # noqa: E402


def parse_size(text):
    from autonas.space.network import NetworkSize

    filters, normal_cells, downsamplings = (int(part) for part in text.split("/"))
    return NetworkSize(filters=filters, normal_cells=normal_cells, stem_downsamplings=downsamplings)


def train_for(split, size, seconds, seed, optimizer="sgd", num_blocks=4, batch_size=128):
    """Test accuracy and epochs of the plain cell of `num_blocks` at `size` trained for `seconds`
    of wall time with `optimizer` at its default learning rate, in batches of `batch_size`."""
    import keras
    import tensorflow as tf

    from autonas.engine.budget import CosineEpochs, Deadline
    from autonas.engine.graph_rewrites import graph_rewrites_off
    from autonas.space.hypermodel import CellHyperModel, CellSearchSpace
    from autonas.space.starting_cells import starting_cells

    def with_channels(x):
        return (x if x.ndim == 4 else x[..., None]).astype("float32")

    x_train, x_test = with_channels(split.x_train), with_channels(split.x_test)

    def inputs():
        raw = keras.Input(x_train.shape[1:])
        return raw, keras.layers.Rescaling(1 / 255.0)(raw)

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    space = CellSearchSpace(num_blocks=num_blocks)
    hypermodel = CellHyperModel(space, size=size, inputs_builder=inputs, num_classes=split.num_classes,
                                optimizer=optimizer)
    batches = (tf.data.Dataset.from_tensor_slices((x_train, split.y_train))
               .shuffle(len(x_train), seed=seed).batch(batch_size).prefetch(2))
    start = time.monotonic()
    model = hypermodel.build_genotype(starting_cells(space)[0])
    schedule = CosineEpochs(hypermodel.learning_rate, 10, Deadline(seconds - (time.monotonic() - start)),
                            anneal_per_batch=True, stop_within_epoch=True, most_epochs=300)
    with graph_rewrites_off():
        history = model.fit(batches, epochs=300, callbacks=[schedule], verbose=0)
    wall = time.monotonic() - start
    accuracy = float(model.evaluate(x_test, split.y_test, verbose=0)[1])
    return {"epochs": len(history.history["loss"]), "params": int(model.count_params()), "wall_s": round(wall, 1),
            "test_accuracy": round(accuracy, 4)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="fashion,cifar10")
    parser.add_argument("--seconds", type=float, default=100.0)
    parser.add_argument("--sizes", default="16/1/1,32/1/1,16/1/2,32/1/2,32/2/2,8/1/1")
    parser.add_argument("--optimizers", default="sgd", help="comma-separated: sgd, adam")
    parser.add_argument("--num-blocks", default="4", help="comma-separated blocks per cell")
    parser.add_argument("--batch-sizes", default="128", help="comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args(argv)
    rows = []
    print(f"| data set | size (filters / normal cells / stem downsamplings) | blocks | optimizer | batch | params "
          f"| epochs in {args.seconds:g} s | wall s | test accuracy |\n"
          "|---|---|---:|---|---:|---:|---:|---:|---:|", flush=True)
    for name in args.datasets.split(","):
        split = datasets.load(name, seed=args.seed)
        for text, blocks, optimizer, batch in itertools.product(args.sizes.split(","), args.num_blocks.split(","),
                                                                args.optimizers.split(","),
                                                                args.batch_sizes.split(",")):
            row = {"dataset": name, "size": text, "num_blocks": int(blocks), "optimizer": optimizer,
                   "batch_size": int(batch),
                   **train_for(split, parse_size(text), args.seconds, args.seed, optimizer, int(blocks), int(batch))}
            rows.append(row)
            print(f"| {name} | {text} | {blocks} | {optimizer} | {batch} | {row['params']:,} | {row['epochs']} "
                  f"| {row['wall_s']} | {row['test_accuracy']:.4f} |", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(rows, out, indent=1)


if __name__ == "__main__":
    main()
