"""DARTS's collapse to parameter-free cells on digits, with and without the remedy.

Weight-sharing searches drift toward identity and pooling. `DartsSearch` counters it with
P-DARTS's cap at discretisation: at most `max_parameter_free` parameter-free operations per
derived normal cell (2 by default). The cap acts only when the logits are discretised, so one
search per seed gives both arms under exactly the same training, data order and budget (a
second search could run a different number of epochs in the same wall-clock budget, which would
confound the comparison): the plain argmax of the final logits (remedy off) and the capped
derivation (remedy on). For each the script reports the share of parameter-free operations in
the derived cells, its accuracy with the shared supernet weights on the architecture-validation
half, and, with `--retrain-epochs`, its test accuracy trained from scratch with
`CellHyperModel.build_genotype`. A second table follows the collapse statistics epoch by
epoch, a third the compile and step times.

Example:
    python benchmarks/darts_collapse.py --budget 240 --seeds 0,1 --retrain-epochs 15
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from autonas.data.images import check_images, spec_from_array  # noqa: E402
from autonas.engine.budget import CosineEpochs, Deadline  # noqa: E402
from autonas.oneshot import DartsSearch, Supernet  # noqa: E402
from autonas.oneshot.darts.architecture import discretize, one_hot_weights  # noqa: E402
from autonas.oneshot.parameter_free import parameter_free_share  # noqa: E402
from autonas.space import IMAGE_OPERATIONS, CellHyperModel, CellSearchSpace, NetworkSize  # noqa: E402
from benchmarks.datasets import load_digits  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=240.0, help="seconds for each supernet search")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, e.g. 0,1,2")
    parser.add_argument("--max-epochs", type=int, default=50, help="most supernet epochs")
    parser.add_argument("--cap", type=int, default=2, help="max_parameter_free of the remedy arm")
    parser.add_argument("--operations", default=",".join(IMAGE_OPERATIONS), help="comma-separated operations")
    parser.add_argument("--num-blocks", type=int, default=4)
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--arch-learning-rate", type=float, default=3e-4)
    parser.add_argument("--retrain-epochs", type=int, default=0,
                        help="train each derived genotype from scratch for this many epochs (0: skip)")
    parser.add_argument("--json", help="write every measured number to this file")
    return parser.parse_args(argv)


def say(message):
    print(message, file=sys.stderr, flush=True)


def dataset(x, y, batch_size, seed=None):
    data = tf.data.Dataset.from_tensor_slices((x, y.astype("int32")))
    if seed is not None:
        data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size)


def shared_score(search, validation, vector):
    """Accuracy of the child `vector` with the shared weights (the relaxed graph at one-hot weights)."""
    weights = one_hot_weights(search.supernet.space, vector)
    correct = total = 0
    for x, y in validation:
        correct += int(np.sum(np.argmax(search.steps_.predict(x, *weights), axis=-1) == y.numpy()))
        total += int(y.shape[0])
    return correct / total


def retrain(genotype, split, spec, args, seed):
    """Test accuracy of `genotype` trained from scratch on the whole training split."""
    keras.utils.set_random_seed(seed)
    hypermodel = CellHyperModel(CellSearchSpace(args.operations, num_blocks=args.num_blocks), num_classes=10,
                                inputs_builder=spec.build_inputs, size=NetworkSize(filters=args.filters))
    model = hypermodel.build_genotype(genotype)
    started = time.monotonic()
    model.fit(split.x_train, split.y_train, batch_size=args.batch_size, epochs=args.retrain_epochs, verbose=0,
              callbacks=[CosineEpochs(hypermodel.learning_rate, args.retrain_epochs)])
    accuracy = float(model.evaluate(split.x_test, split.y_test, verbose=0)[1])
    return accuracy, time.monotonic() - started


def run_seed(seed, args):
    split = load_digits(seed=seed)
    x = check_images(split.x_train)
    spec = spec_from_array(x)
    order = np.random.default_rng(seed).permutation(len(x))
    half = len(x) // 2  # DARTS trains the weights on one half of the training data and the logits on the other
    train = dataset(x[order[:half]], split.y_train[order[:half]], args.batch_size, seed=seed)
    validation = dataset(x[order[half:]], split.y_train[order[half:]], args.batch_size)
    space = CellSearchSpace(args.operations, num_blocks=args.num_blocks, rank=2, reduction_cell=True)
    keras.utils.set_random_seed(seed)  # the supernet's initial weights and dropout (a script may)
    supernet = Supernet(space, inputs_builder=spec.build_inputs, num_classes=10,
                        size=NetworkSize(filters=args.filters, normal_cells=1))
    search = DartsSearch(supernet, arch_learning_rate=args.arch_learning_rate, max_parameter_free=args.cap,
                         seed=seed)
    epochs = []

    def report(record):
        epochs.append(record)
        say(f"  seed {seed} epoch {record['epoch']}: loss {record['train_loss']:.3f} valid acc "
            f"{record['valid_accuracy']:.3f} free share {record['parameter_free_share_uncapped']:.2f} "
            f"(capped {record['parameter_free_share']:.2f}) free weight {record['parameter_free_weight']:.3f} "
            f"{record['seconds']:.0f}s")

    result = search.search(train, validation, deadline=Deadline(args.budget), max_epochs=args.max_epochs,
                           on_epoch=report)
    uncapped = discretize(space, *search.parameters_.probabilities(), max_parameter_free=None)
    arms = {"off": (supernet.encoding.decode(uncapped), shared_score(search, validation, uncapped)),
            "on": (result.best.genotype, result.best.score)}
    rows, trained = [], {}
    for arm, (genotype, score) in arms.items():
        row = {"seed": seed, "remedy": arm, "genotype": str(genotype), "summary": genotype.summary(80),
               "free_normal": parameter_free_share(genotype, ["normal"]), "free_all": parameter_free_share(genotype),
               "shared_score": score, "epochs": result.epochs, "search_seconds": result.seconds}
        if args.retrain_epochs:
            if str(genotype) not in trained:
                say(f"  seed {seed}: retraining ({arm}) {genotype.summary(80)}")
                trained[str(genotype)] = retrain(genotype, split, spec, args, seed)
            row["test_accuracy"], row["retrain_seconds"] = trained[str(genotype)]
        rows.append(row)
    timing = dict(search.timings_, peak_rss_mb=result.peak_memory_mb, seed=seed)
    return rows, epochs, timing


def fmt(value, spec):
    return "—" if value is None else format(value, spec)


def main(argv=None):
    args = parse_args(argv)
    args.operations = [op.strip() for op in args.operations.split(",") if op.strip()]
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    load_before = os.getloadavg()
    rows, epochs, timings = [], {}, []
    for seed in seeds:
        say(f"seed {seed}: searching for {args.budget:.0f}s")
        seed_rows, seed_epochs, timing = run_seed(seed, args)
        rows += seed_rows
        epochs[seed] = seed_epochs
        timings.append(timing)
    print(f"## DARTS collapse on digits: remedy = at most {args.cap} parameter-free ops per normal cell\n")
    print(f"{len(args.operations)} operations, {args.num_blocks} blocks, filters {args.filters}, batch "
          f"{args.batch_size}, search budget {args.budget:.0f}s, arch learning rate {args.arch_learning_rate}, "
          f"retrain {args.retrain_epochs} epochs. Both arms come from the same search (the cap acts only at "
          "discretisation).\n")
    print("| seed | remedy | epochs | free share (normal) | free share (all) | shared-weight score | test acc "
          "(scratch) | derived |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['seed']} | {row['remedy']} | {row['epochs']} | {row['free_normal']:.2f} | "
              f"{row['free_all']:.2f} | {row['shared_score']:.3f} | {fmt(row.get('test_accuracy'), '.3f')} | "
              f"`{row['summary']}` |")
    for arm in ("off", "on"):
        chosen = [row for row in rows if row["remedy"] == arm]
        tested = [row["test_accuracy"] for row in chosen if "test_accuracy" in row]
        print(f"| mean | {arm} | | {np.mean([r['free_normal'] for r in chosen]):.2f} | "
              f"{np.mean([r['free_all'] for r in chosen]):.2f} | {np.mean([r['shared_score'] for r in chosen]):.3f} | "
              f"{fmt(np.mean(tested) if tested else None, '.3f')} | |")
    print("\n### Collapse statistics per epoch (plain argmax)\n")
    print("| seed | epoch | train loss | mixture valid acc | free share (argmax) | free share (capped) | "
          "free op weight | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for seed, records in epochs.items():
        for r in records:
            print(f"| {seed} | {r['epoch']} | {r['train_loss']:.3f} | {r['valid_accuracy']:.3f} | "
                  f"{r['parameter_free_share_uncapped']:.2f} | {r['parameter_free_share']:.2f} | "
                  f"{r['parameter_free_weight']:.3f} | {r['seconds']:.1f} |")
    print("\n### Compile and step times (seconds), peak RSS\n")
    print("| seed | first arch step | first weight step | first predict | arch step | weight step | predict | "
          "peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for t in timings:
        print(f"| {t['seed']} | {fmt(t.get('first_architecture_step'), '.1f')} | "
              f"{fmt(t.get('first_weight_step'), '.1f')} | {fmt(t.get('first_predict'), '.1f')} | "
              f"{fmt(t.get('architecture_step'), '.2f')} | {fmt(t.get('weight_step'), '.2f')} | "
              f"{fmt(t.get('predict'), '.2f')} | {t['peak_rss_mb']:.0f} |")
    print(f"\nLoad average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f} (2 shared cores).")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "rows": rows, "epochs": {str(k): v for k, v in epochs.items()},
                       "timings": timings}, handle, indent=2)


if __name__ == "__main__":
    main()
