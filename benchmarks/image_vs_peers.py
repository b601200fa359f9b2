"""autonas's image search against its peers, on the same split and the same wall-clock budget.

Systems (each gets the same train/test arrays and the same budget, one after the other, in one
process run, so that machine load hits them alike; timings on a shared machine are noisy, so
compare within one run and read ratios rather than absolute seconds):

- `autonas`: `ImageSearchClassifier(time_limit=budget, seed=seed, verbose=1,
  max_trials=--max-trials)`, the library's defaults otherwise (oracle, epochs per trial,
  retraining epochs, network sizes; the search gets 70% of the budget and the retraining the
  rest). `--autonas-epochs` / `--autonas-final-epochs` / `--autonas-optimizer` force `epochs` /
  `final_epochs` / `optimizer`. The epochs each trial trained are read from its leaderboard,
  never assumed.
- `autonas-parallel`: the same with `parallel_trials="auto"` (one single-threaded trial per
  core at once on CPU, one per GPU on a GPU machine); the retraining runs in the fit's process.
- `autonas-rungs`: the same with `successive_halving=True` (the top third of each rung's trials
  go on to train three times their epochs from their weights, `autonas.oracles.halving`).
- `autonas-first` (ablation): the same with `max_trials=1`: the architecture autonas's search
  starts from, trained alone, its retraining getting the rest of the budget. Did the search
  beat its own starting point?
- `kerastuner`: keras-tuner `RandomSearch` over a plain CNN hypermodel (conv blocks, convs per
  block, filters, dense units, dropout, learning rate of Adam), `--epochs` per trial.
- `kerastuner-hyperband`: keras-tuner `Hyperband` over the same hypermodel: `max_epochs` 3 x
  `--epochs` (at least 3), factor 3, 10,000 iterations (the budget ends it, not the brackets).
  Both keras-tuner systems run through one budgeted search: keras-tuner has no time limit, so
  the tuner raises from the public `pre_create_trial` hook when the mean trial time no longer
  fits in 70% of the budget (autonas's rule and share), then the best hyperparameters are
  retrained on train + validation data for up to `--final-epochs`, stopped by the budget (never
  fewer epochs than the best trial's model had); if not even that fits, the best trial's model
  (trained on the search split) is kept.
- `autokeras`: AutoKeras 3.0.0 `ImageClassifier` (its default greedy image tuner), run in its
  own virtual environment (`--autokeras-python`, default /work/venvs/autokeras/bin/python, see
  benchmarks/README.md) by `benchmarks/_autokeras_worker.py`, `--epochs` per trial. The budget
  clock starts when the worker has imported TensorFlow and loaded the data; at the end of the
  budget the worker is killed and the run reported as not finished, with what it had (trials
  completed, the best trial's validation accuracy and that model's test accuracy). Skipped with
  a note when the venv is absent.

All systems hold out 20% of the training data to score trials. The test set is only used for
the final score. Every system runs for every seed (`--seeds`) and data set; the seed fixes the
data split and the search. Besides one table per data set and seed, a summary table per data
set gives each system's mean test accuracy over the seeds (and each seed's), mean trials, mean
wall seconds against the budget and the largest wall/budget ratio.

Per-trial overhead (autonas, kerastuner, kerastuner-hyperband): the tuner's wall time for its
best trial, from the end of the previous trial to the end of this one (so it includes the
oracle, building, tracing, fitting, validation, checkpoints and bookkeeping; for the first trial
it is counted from the start of `fit`/`search`), divided by a plain build + `model.fit` of the
same model on the same data for the epochs that trial trained (autonas: its leaderboard's
epochs; Hyperband: `tuner/epochs` - `tuner/initial_epoch`), outside any tuner (for autonas: the
same tf.data pipelines, batch size, learning-rate schedule and single validation pass after the
last epoch as its trial runner; for keras-tuner: the same `fit` arguments the search got). The
time spent inside the tuner's `run_trial` and the mean wall time per trial are shown as well.
Trial ends of autonas are taken from its `verbose=1` progress lines, which it prints at the end
of every trial. The best trial and the plain baseline run minutes apart, so a change in machine
load skews that ratio; with `--overhead-rounds R` an interleaved control runs R rounds,
alternating (ABBA), of a whole one-trial search of the same model with the tuner
(hyperparameters fixed; not for kerastuner-hyperband, whose brackets cannot run one fixed trial)
and a plain build + fit, and prints a third table.

Usage (from the repository root):
    python benchmarks/image_vs_peers.py
    python benchmarks/image_vs_peers.py --budget digits=120,fashion=300 --datasets digits,fashion \\
        --systems autonas,autonas-first,kerastuner,kerastuner-hyperband,autokeras --seeds 0,1 \\
        --json results.json
    python benchmarks/image_vs_peers.py --budget 60 --datasets digits --systems autonas,kerastuner --seed 0

Options (defaults in brackets):
    --datasets       digits,fashion,cifar10 [all three]; fashion and cifar10 are skipped with a
                     note when their files are not installed (benchmarks/datasets.py).
    --systems        autonas,autonas-parallel,autonas-rungs,autonas-first,kerastuner,kerastuner-hyperband,autokeras
                     [all seven].
    --budget         seconds per system, one number or per data set
                     [digits=120,fashion=300,cifar10=600].
    --epochs         epochs per trial of kerastuner and autokeras (Hyperband's max_epochs is 3x),
                     one number or per data set [digits=8,fashion=2,cifar10=2].
    --autonas-epochs, --autonas-final-epochs  force autonas's `epochs` (one number or per data
                     set) / `final_epochs` [the library's defaults].
    --autonas-optimizer  force autonas's `optimizer`, adam or sgd [the library's default].
    --final-epochs   most epochs of the keras-tuner retraining [30].
    --max-trials     trial cap for autonas and keras-tuner; the budget normally stops them [200].
    --autokeras-trials  AutoKeras's max_trials [10].
    --fashion-train, --fashion-test  Fashion-MNIST subset sizes [10000, 2000].
    --seeds          comma-separated seeds, each a data split and search seed [0];
                     `--seed N` is `--seeds N`.
    --no-overhead    skip the plain-fit baselines of the per-trial overhead.
    --overhead-repeats  plain build + fit runs per baseline; the ratio uses their mean [2].
    --overhead-rounds R  also run an interleaved control: R rounds (ABBA order) of a one-trial
                     search of the best model with the tuner vs a plain build + fit of it [0 = off;
                     costs about 2 x R trials of the best model per system, data set and seed].
    --json PATH      write every number measured.

Markdown tables go to stdout; progress goes to stderr.
"""
from __future__ import annotations

import argparse
import copy
import gc
import math
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from benchmarks import _harness as harness  # noqa: E402
from benchmarks import datasets as bench_data  # noqa: E402
from benchmarks._harness import BATCH_SIZE, budgeted_random_search, say, search_split  # noqa: E402

SYSTEMS = ("autonas", "autonas-parallel", "autonas-rungs", "autonas-first", "kerastuner", "kerastuner-hyperband",
           "autokeras")
DEFAULT_BUDGET = {"digits": 120.0, "fashion": 300.0, "cifar10": 600.0}  # cifar10: issue 15's budget
DEFAULT_EPOCHS = {"digits": 8, "fashion": 2, "cifar10": 2}  # keras-tuner's and AutoKeras's epochs per trial
HYPERBAND_FACTOR = 3
HYPERBAND_ITERATIONS = 10_000  # far more than any budget here allows: the budget ends the search


# --------------------------------------------------------------------------- arguments
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    harness.add_common_arguments(parser, bench_data.NAMES, SYSTEMS)
    parser.add_argument("--autonas-epochs", default=None,
                        help="force autonas's epochs per trial: N or digits=N,fashion=M [library default]")
    parser.add_argument("--autonas-optimizer", choices=("adam", "sgd"), default=None,
                        help="force autonas's optimizer [library default]")
    parser.add_argument("--autonas-final-epochs", type=int, default=None,
                        help="force autonas's final_epochs [library default]")
    parser.add_argument("--fashion-train", type=int, default=10_000)
    parser.add_argument("--fashion-test", type=int, default=2_000)
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", default=None, help="comma-separated seeds [0]")
    seeds.add_argument("--seed", type=int, default=None, help="one seed (same as --seeds N)")
    parser.add_argument("--no-overhead", action="store_true")
    parser.add_argument("--overhead-repeats", type=int, default=2)
    parser.add_argument("--overhead-rounds", type=int, default=0)
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args(argv)
    if args.seeds is not None:
        try:
            args.seeds = [int(part) for part in args.seeds.split(",") if part.strip()]
        except ValueError:
            parser.error(f"--seeds: expected comma-separated integers, got {args.seeds!r}")
        if not args.seeds or len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
            parser.error("--seeds: give distinct seeds >= 0")
    else:
        args.seeds = [0 if args.seed is None else args.seed]
    args.seed = args.seeds[0]  # each run gets its own copy of args with its seed
    args.autonas_epochs = harness.per_dataset(args.autonas_epochs, {name: None for name in bench_data.NAMES}, int,
                                              "autonas-epochs", bench_data.NAMES)
    if any(e is not None and e < 1 for e in args.autonas_epochs.values()) or (
            args.autonas_final_epochs is not None and args.autonas_final_epochs < 1):
        parser.error("--autonas-epochs and --autonas-final-epochs must be >= 1")
    return harness.check_common_arguments(parser, args, bench_data.NAMES, SYSTEMS, DEFAULT_BUDGET, DEFAULT_EPOCHS)


# --------------------------------------------------------------------------- shared helpers
def repeated(runs):
    """Mean of each timing over repeated plain runs, plus every run."""
    summary = {key: float(np.mean([run[key] for run in runs])) for key in runs[0]}
    summary["plain_runs_s"] = [run["plain_s"] for run in runs]
    return summary


def epoch_range(values):
    """`"8"` or `"1–9"`: the epochs per trial of a run, for the tables."""
    values = [int(v) for v in values if v is not None]
    if not values:
        return "—"
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}–{high}"


def trial_epochs_of(result):
    """The epochs each trial of a run trained, as far as known (AutoKeras: the epochs it was told)."""
    return result.get("trial_epochs") or [result.get("epochs_per_trial")]


# --------------------------------------------------------------------------- autonas
def autonas_overrides(args, dataset):
    """What autonas is told beyond its defaults: only what the user forced."""
    kwargs = {}
    if args.autonas_epochs[dataset] is not None:
        kwargs["epochs"] = args.autonas_epochs[dataset]
    if args.autonas_final_epochs is not None:
        kwargs["final_epochs"] = args.autonas_final_epochs
    if args.autonas_optimizer is not None:
        kwargs["optimizer"] = args.autonas_optimizer
    return kwargs


def run_autonas(split, budget, epochs, args, *, system="autonas"):
    """`ImageSearchClassifier` with its defaults (`system="autonas-first"`: `max_trials=1`;
    `"autonas-parallel"`: `parallel_trials="auto"`; `"autonas-rungs"`: `successive_halving=True`).
    `epochs` is only reported (None: the library's default); the epochs each trial trained come
    from the leaderboard."""
    import keras
    import pandas as pd

    from autonas import ImageSearchClassifier

    keras.backend.clear_session()
    gc.collect()
    first_only = system == "autonas-first"
    clf = ImageSearchClassifier(time_limit=budget, seed=args.seed, verbose=1,
                                max_trials=1 if first_only else args.max_trials,
                                parallel_trials="auto" if system == "autonas-parallel" else 1,
                                successive_halving=system == "autonas-rungs",
                                **autonas_overrides(args, split.name))
    result, board, ends = harness.fit_autonas(clf, split, budget, epochs)
    best_row = board[board["architecture"] == str(clf.best_genotype_)].iloc[0]
    best_epochs = None if pd.isna(best_row["epochs"]) else int(best_row["epochs"])
    result.update(system=system, epochs_per_trial=best_epochs,
                  autonas_kwargs=autonas_overrides(args, split.name),
                  retrained_size=None if clf.retrained_size_ is None else {
                      "filters": clf.retrained_size_.filters, "normal_cells": clf.retrained_size_.normal_cells})
    result["notes"] += f"; best val acc {result['best_val_accuracy']:.4f}"
    overhead = None
    if first_only or system in ("autonas-parallel", "autonas-rungs") or args.no_overhead:
        return result, overhead
    if len(ends) != len(board) or best_epochs is None:
        say(f"   no overhead measurement: {len(ends)} progress lines for {len(board)} trials, "
            f"best trial's epochs {best_epochs}")
        return result, overhead
    search_seconds = result["search_s"]
    index = int(best_row["trial"])
    tuner_trial = ends[index] - (ends[index - 1] if index > 0 else 0.0)
    setup = AutonasTrialSetup(clf, split, args.seed)
    plain = repeated([setup.plain_fit(clf.best_genotype_, best_epochs) for _ in range(args.overhead_repeats)])
    overhead = {
        "system": system, "dataset": split.name, "seed": args.seed, "epochs": best_epochs, "trial": best_row["trial"],
        "model": str(clf.best_genotype_), "params": int(best_row["params"]),
        "tuner_trial_s": tuner_trial, "tuner_inside_run_trial_s": float(best_row["seconds"]),
        "mean_trial_s": search_seconds / len(ends), "first_trial": index == 0, **plain,
    }
    if args.overhead_rounds:
        genotype = clf.best_genotype_
        overhead["interleaved"] = interleaved(
            system, split.name, best_epochs, str(genotype), int(best_row["params"]),
            lambda: setup.one_trial_search(genotype, best_epochs), lambda: setup.plain_fit(genotype, best_epochs),
            args.overhead_rounds)
    return result, overhead


def run_autonas_first(split, budget, epochs, args):
    return run_autonas(split, budget, epochs, args, system="autonas-first")


def run_autonas_parallel(split, budget, epochs, args):
    return run_autonas(split, budget, epochs, args, system="autonas-parallel")


def run_autonas_rungs(split, budget, epochs, args):
    return run_autonas(split, budget, epochs, args, system="autonas-rungs")


class AutonasTrialSetup:
    """What one autonas search trial sees: the same split, tf.data pipelines and proxy-size
    hypermodel as `clf.fit` built (rebuilt here from the fitted classifier's parameters)."""

    def __init__(self, clf, split, seed):
        from autonas.data.images import spec_from_array
        from autonas.data.labels import encode_labels, fit_classes
        from autonas.data.pipeline import from_arrays
        from autonas.space import CellHyperModel, CellSearchSpace, NetworkSize
        from autonas.space.network import default_reductions
        from autonas.space.operations import IMAGE_OPERATIONS

        x = split.x_train
        classes = fit_classes(split.y_train)
        labels = encode_labels(split.y_train, classes)
        x_train, x_val, y_train, y_val = search_split(x, labels, seed)
        self.data = from_arrays(x_train, y_train, x_val.astype(x.dtype), y_val, batch_size=clf.batch_size, seed=seed)
        spec = spec_from_array(x)
        self.space = CellSearchSpace(clf.operations or IMAGE_OPERATIONS, num_blocks=clf.num_blocks,
                                     reduction_cell=default_reductions(spec.spatial_shape) > 0)
        self.hypermodel = CellHyperModel(
            self.space, inputs_builder=spec.build_inputs, num_classes=len(classes),
            size=NetworkSize(filters=clf.search_filters, normal_cells=clf.search_normal_cells, dropout=clf.dropout),
            optimizer=clf.optimizer, learning_rate=clf.learning_rate)
        self.learning_rate = self.hypermodel.learning_rate

    def plain_fit(self, genotype, epochs):
        """Build the genotype's proxy model and `fit` it as autonas's trial runner does, outside
        any tuner: same data, batch size, schedule and one validation pass after the last epoch."""
        import keras

        from autonas.engine.budget import CosineEpochs

        keras.backend.clear_session()
        gc.collect()
        start = time.monotonic()
        model = self.hypermodel.build_genotype(genotype)
        built = time.monotonic()
        history = model.fit(self.data.train, validation_data=self.data.validation, epochs=epochs,
                            validation_freq=epochs, shuffle=False, verbose=0,
                            callbacks=[CosineEpochs(self.learning_rate, epochs)])
        end = time.monotonic()
        return {"plain_build_s": built - start, "plain_fit_s": end - built, "plain_s": end - start,
                "plain_val_accuracy": float(history.history["val_accuracy"][-1])}

    def one_trial_search(self, genotype, epochs):
        """A whole one-trial search of the genotype with autonas's trial runner (`SearchTuner`):
        tuner set-up, oracle, build, fit, validation, weights, bookkeeping."""
        import keras
        import keras_tuner

        from autonas.engine.budget import CosineEpochs
        from autonas.engine.tuner import SearchTuner
        from autonas.engine.search import OBJECTIVE

        keras.backend.clear_session()
        gc.collect()
        with tempfile.TemporaryDirectory(prefix="autonas-check-") as directory:
            start = time.monotonic()
            oracle = keras_tuner.oracles.RandomSearchOracle(
                objective=OBJECTIVE, max_trials=1, hyperparameters=fixed_hyperparameters(self.space.values(genotype)),
                tune_new_entries=False)
            tuner = SearchTuner(self.hypermodel, oracle, directory=directory, project_name="check", overwrite=True)
            tuner.search(self.data.train, validation_data=self.data.validation, epochs=epochs, verbose=0,
                         callbacks=[CosineEpochs(self.learning_rate, epochs)])
            end = time.monotonic()
            (trial,) = tuner.oracle.trials.values()
        if str(trial.status) != "COMPLETED":
            raise RuntimeError(f"the check trial did not complete: {trial.message}")
        return {"tuner_s": end - start, "inside_s": float(trial.metrics.get_last_value("seconds"))}


def fixed_hyperparameters(values):
    """keras-tuner hyperparameters with every value fixed (a one-point search space)."""
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    for name, value in values.items():
        hp.Fixed(name, value)
    return hp


def interleaved(system, dataset, epochs, model, params, tuner_run, plain_run, rounds):
    """`rounds` pairs of (one-trial tuner search, plain build + fit) of the same model, in ABBA
    order so that a drift in machine load hits both sides alike."""
    tuner_runs, plain_runs = [], []
    for round_index in range(rounds):
        order = (tuner_run, plain_run) if round_index % 2 == 0 else (plain_run, tuner_run)
        for run in order:
            (tuner_runs if run is tuner_run else plain_runs).append(run())
    say(f"   interleaved: tuner {[round(r['tuner_s'], 1) for r in tuner_runs]} "
        f"vs plain {[round(r['plain_s'], 1) for r in plain_runs]}")
    return {"system": system, "dataset": dataset, "epochs": epochs, "model": model, "params": params,
            "rounds": rounds, "tuner_s": [r["tuner_s"] for r in tuner_runs],
            "inside_s": [r["inside_s"] for r in tuner_runs], "plain_s": [r["plain_s"] for r in plain_runs]}


# --------------------------------------------------------------------------- keras-tuner
def plain_cnn_hypermodel(input_shape, num_classes, mean, variance):
    """A keras-tuner HyperModel of plain CNNs: [conv x k, max-pool] x blocks, dense, softmax."""
    import keras
    import keras_tuner
    from keras import layers

    smallest = min(input_shape[:2])
    max_blocks = max(1, min(3, int(math.log2(smallest)) - 1))  # 8x8 -> 2 blocks, 28x28 -> 3

    class PlainCNN(keras_tuner.HyperModel):
        def build(self, hp):
            blocks = hp.Int("conv_blocks", 1, max_blocks)
            convs = hp.Int("convs_per_block", 1, 2)
            filters = hp.Choice("filters", [16, 32, 64])
            units = hp.Choice("dense_units", [64, 128, 256])
            dropout = hp.Float("dropout", 0.0, 0.5, step=0.1)
            learning_rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
            inputs = keras.Input(shape=input_shape)
            x = layers.Reshape((*input_shape, 1))(inputs) if len(input_shape) == 2 else inputs
            x = layers.Normalization(axis=-1, mean=mean, variance=variance)(x)
            for block in range(blocks):
                for _ in range(convs):
                    x = layers.Conv2D(filters * 2**block, 3, padding="same", activation="relu")(x)
                x = layers.MaxPooling2D(2)(x)
            x = layers.Flatten()(x)
            x = layers.Dropout(dropout)(x)
            x = layers.Dense(units, activation="relu")(x)
            x = layers.Dropout(dropout)(x)
            return harness.softmax_classifier(inputs, x, num_classes, learning_rate)

    return PlainCNN(name="plain_cnn")


def hyperband_max_epochs(epochs):
    """Hyperband's `max_epochs`: 3x the data set's epochs per trial, at least 3."""
    return max(3, 3 * int(epochs))


def run_kerastuner(split, budget, epochs, args, *, system="kerastuner"):
    """A budgeted keras-tuner search over `plain_cnn_hypermodel`: `RandomSearch` with `epochs`
    per trial, or (`system="kerastuner-hyperband"`) `Hyperband` with `max_epochs` 3x `epochs`."""
    import keras
    import keras_tuner

    hyperband = system == "kerastuner-hyperband"
    if hyperband:
        tuner_class = keras_tuner.Hyperband
        tuner_kwargs = {"max_epochs": hyperband_max_epochs(epochs), "factor": HYPERBAND_FACTOR,
                        "hyperband_iterations": HYPERBAND_ITERATIONS}
        say(f"   Hyperband: max_epochs {tuner_kwargs['max_epochs']}, factor {HYPERBAND_FACTOR}")
    else:
        tuner_class, tuner_kwargs = keras_tuner.RandomSearch, {"max_trials": args.max_trials}
    start, (x, y), (x_train, x_val, y_train, y_val) = harness.begin_search(split, args.seed)
    pixels = np.asarray(x_train, dtype=np.float64)
    mean, variance = [float(pixels.mean())], [float(pixels.var())]
    input_shape = tuple(x.shape[1:])
    num_classes = int(len(np.unique(y)))
    hypermodel = plain_cnn_hypermodel(input_shape, num_classes, mean, variance)
    fit_kwargs = dict(validation_data=(x_val, y_val), epochs=epochs, batch_size=BATCH_SIZE, verbose=0)
    result, run = harness.kerastuner_search(
        hypermodel, split, start=start, budget=budget, epochs=epochs, args=args, project_name="plain_cnn",
        search_args=(x_train, y_train), search_kwargs=fit_kwargs, full_share=len(x) / len(x_train),
        fit_full=lambda model, final_epochs, callbacks: model.fit(
            x, y, epochs=final_epochs, batch_size=BATCH_SIZE, verbose=0, callbacks=callbacks),
        evaluate=lambda model: float(model.evaluate(split.x_test, split.y_test, batch_size=256, verbose=0)[1]),
        tuner_class=tuner_class, tuner_kwargs=tuner_kwargs, system=system)
    if hyperband:
        result["hyperband"] = {key: tuner_kwargs[key] for key in ("max_epochs", "factor", "hyperband_iterations")}
        result["epochs_per_trial"] = None  # each trial's: trial_epochs (trained), best_trial_epochs (its model's)
    result["notes"] += f"; best val acc {result['best_val_accuracy']:.4f}"
    tuner, best_trial, best_hp, index, ordered = run.tuner, run.best_trial, run.best_hp, run.index, run.ordered
    best_interval, best_epochs = run.best_interval, run.best_epochs  # epochs the best trial trained
    overhead = None
    if not args.no_overhead:
        plain_kwargs = dict(fit_kwargs, epochs=best_epochs)
        runs = []
        for _ in range(args.overhead_repeats):
            keras.backend.clear_session()
            gc.collect()
            plain_start = time.monotonic()
            model = hypermodel.build(best_hp)
            built = time.monotonic()
            history = model.fit(x_train, y_train, **plain_kwargs)
            plain_end = time.monotonic()
            runs.append({"plain_build_s": built - plain_start, "plain_fit_s": plain_end - built,
                         "plain_s": plain_end - plain_start,
                         "plain_val_accuracy": float(history.history["val_accuracy"][-1])})
        overhead = {
            "system": system, "dataset": split.name, "seed": args.seed, "epochs": best_epochs,
            "trial": best_trial.trial_id,
            "model": ", ".join(f"{k}={v:.2g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in best_hp.values.items() if not k.startswith("tuner/")),
            "params": int(model.count_params()), "tuner_trial_s": best_interval,
            "tuner_inside_run_trial_s": tuner.inside[best_trial.trial_id],
            "mean_trial_s": (ordered[-1] - ordered[0]) / max(len(ordered) - 1, 1), "first_trial": index == 0,
            **repeated(runs),
        }
        if args.overhead_rounds and not hyperband:
            values = dict(best_hp.values)

            def plain_run():
                keras.backend.clear_session()
                gc.collect()
                begin = time.monotonic()
                hypermodel.build(best_hp).fit(x_train, y_train, **plain_kwargs)
                return {"plain_s": time.monotonic() - begin}

            def tuner_run():
                keras.backend.clear_session()
                gc.collect()
                with tempfile.TemporaryDirectory(prefix="kt-check-") as check_directory:
                    begin = time.monotonic()
                    check = budgeted_random_search(
                        hypermodel, search_seconds=math.inf, objective=keras_tuner.Objective("val_accuracy", "max"),
                        max_trials=1, hyperparameters=fixed_hyperparameters(values), tune_new_entries=False,
                        directory=check_directory, project_name="check", overwrite=True)
                    check.search(x_train, y_train, **plain_kwargs)
                    elapsed = time.monotonic() - begin
                (inside,) = check.inside.values()
                return {"tuner_s": elapsed, "inside_s": inside}

            overhead["interleaved"] = interleaved(system, split.name, best_epochs, overhead["model"],
                                                  overhead["params"], tuner_run, plain_run, args.overhead_rounds)
        elif args.overhead_rounds:
            say("   no interleaved control for Hyperband (its brackets cannot run one fixed trial)")
    return result, overhead


def run_kerastuner_hyperband(split, budget, epochs, args):
    return run_kerastuner(split, budget, epochs, args, system="kerastuner-hyperband")


# --------------------------------------------------------------------------- AutoKeras
def run_autokeras(split, budget, epochs, args):
    result, _ = harness.run_autokeras(split, budget, epochs, args, task="image")
    return result, None


# --------------------------------------------------------------------------- report
def overhead_table(rows):
    lines = ["### Per-trial overhead: tuner wall time of the best trial / plain build + fit of the same model", "",
             "| system | dataset | seed | epochs | params | tuner trial wall (s) | "
             "plain build+fit, mean (range) (s) | ratio | "
             "inside run_trial (s) | ratio | mean trial wall (s) | model |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        first = " (1st trial, incl. set-up)" if r["first_trial"] else ""
        runs = r.get("plain_runs_s", [])
        spread = f" ({min(runs):.1f}–{max(runs):.1f})" if len(runs) > 1 else ""
        lines.append(
            f"| {r['system']} | {r['dataset']} | {r.get('seed', '—')} | {r['epochs']} | {r['params']:,} | "
            f"{r['tuner_trial_s']:.1f}{first} | "
            f"{r['plain_s']:.1f}{spread} | {r['tuner_trial_s'] / r['plain_s']:.2f} | "
            f"{r['tuner_inside_run_trial_s']:.1f} | "
            f"{r['tuner_inside_run_trial_s'] / r['plain_s']:.2f} | {r['mean_trial_s']:.1f} | "
            f"{r['model'][:70].replace('|', '/')} |")
    return "\n".join(lines)


def interleaved_table(rows):
    lines = ["### Interleaved control: one-trial tuner search vs plain build + fit of the same model, "
             "alternating (ABBA)", "",
             "| system | dataset | seed | epochs | rounds | tuner one-trial search (s), mean (range) | "
             "inside run_trial (s) | plain build+fit (s), mean (range) | ratio (search) | ratio (run_trial) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def spread(values):
        return f"{np.mean(values):.1f} ({min(values):.1f}–{max(values):.1f})"

    for r in rows:
        plain = float(np.mean(r["plain_s"]))
        lines.append(f"| {r['system']} | {r['dataset']} | {r.get('seed', '—')} | {r['epochs']} | {r['rounds']} | "
                     f"{spread(r['tuner_s'])} | {np.mean(r['inside_s']):.1f} | {spread(r['plain_s'])} | "
                     f"{np.mean(r['tuner_s']) / plain:.2f} | {np.mean(r['inside_s']) / plain:.2f} |")
    return "\n".join(lines)


def summarise(dataset, systems, seeds, rows):
    """Per system over the seeds: mean test accuracy (and each seed's), mean trials, mean wall
    seconds vs the budget, the largest wall/budget ratio."""
    summary = []
    for system in systems:
        runs = {r["seed"]: r for r in rows if r["system"] == system}
        accuracies = [runs[seed].get("test_accuracy") if seed in runs else None for seed in seeds]
        scored = [a for a in accuracies if a is not None]
        trials = [r["trials_finished"] for r in runs.values() if r.get("trials_finished") is not None]
        walls = [r["wall_s"] for r in runs.values() if r.get("wall_s") is not None]
        ratios = [r["wall_s"] / r["budget_s"] for r in runs.values() if r.get("wall_s") is not None]
        budgets = sorted({r["budget_s"] for r in runs.values()})
        summary.append({
            "system": system, "dataset": dataset, "seeds": list(seeds), "test_accuracy_by_seed": accuracies,
            "mean_test_accuracy": float(np.mean(scored)) if scored else None, "runs_scored": len(scored),
            "mean_trials": float(np.mean(trials)) if trials else None,
            "mean_wall_s": float(np.mean(walls)) if walls else None, "budget_s": budgets[0] if budgets else None,
            "max_wall_over_budget": max(ratios) if ratios else None,
            "epochs_per_trial": epoch_range([e for r in runs.values() for e in trial_epochs_of(r)]),
        })
    return summary


def summary_table(title, summary):
    lines = [f"### Summary, {title}", "",
             "| system | test accuracy, mean (per seed) | trials, mean | epochs / trial | wall (s), mean / budget | "
             "largest wall / budget |",
             "|---|---:|---:|---:|---:|---:|"]
    for s in summary:
        per_seed = ", ".join(harness.fmt(a, ".4f") for a in s["test_accuracy_by_seed"])
        mean = harness.fmt(s["mean_test_accuracy"], ".4f")
        if 0 < s["runs_scored"] < len(s["seeds"]):
            mean += f" ({s['runs_scored']} of {len(s['seeds'])} runs)"
        lines.append(f"| {s['system']} | {mean} ({per_seed}) | {harness.fmt(s['mean_trials'], '.1f')} | "
                     f"{s['epochs_per_trial']} | {harness.fmt(s['mean_wall_s'], '.0f')} / "
                     f"{harness.fmt(s['budget_s'], '.0f')} | {harness.fmt(s['max_wall_over_budget'], '.2f')} |")
    return "\n".join(lines)


RUNNERS = {"autonas": run_autonas, "autonas-parallel": run_autonas_parallel, "autonas-rungs": run_autonas_rungs,
           "autonas-first": run_autonas_first, "kerastuner": run_kerastuner,
           "kerastuner-hyperband": run_kerastuner_hyperband, "autokeras": run_autokeras}


def run_epochs(system, dataset, args):
    """The epochs per trial a system is told (None: autonas's default)."""
    return args.autonas_epochs[dataset] if system.startswith("autonas") else args.epochs[dataset]


def main(argv=None):
    args = parse_args(argv)
    started = time.monotonic()
    load_before = os.getloadavg()
    say(f"load average before: {load_before[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    harness.warm_up()
    report = {"config": {k: v for k, v in vars(args).items()}, "environment": harness.versions(args),
              "datasets": {}, "results": [], "overhead": [], "summary": [], "skipped_datasets": {}}
    tables = []
    for name in args.datasets:
        rows = []
        for seed in args.seeds:
            run_args = copy.copy(args)
            run_args.seed = seed
            try:
                split = bench_data.load(name, seed=seed, fashion_train=args.fashion_train,
                                        fashion_test=args.fashion_test)
            except bench_data.DatasetUnavailable as error:
                say(f"SKIPPING {name}: {error}")
                report["skipped_datasets"][name] = str(error)
                tables.append(f"### {name}: skipped\n\n{error}")
                break
            report["datasets"][name] = split.description
            seed_rows = []
            say(f"==== {name}, seed {seed}")
            for system in args.systems:
                result, overhead = harness.run_guarded(RUNNERS[system], system, split, args.budget[name],
                                                       run_epochs(system, name, args), run_args)
                result["seed"] = seed
                seed_rows.append(result)
                report["results"].append(result)
                if overhead is not None:
                    report["overhead"].append(overhead)
                    say(f"   overhead: tuner {overhead['tuner_trial_s']:.1f}s vs plain {overhead['plain_s']:.1f}s "
                        f"= {overhead['tuner_trial_s'] / overhead['plain_s']:.2f}x")
            rows += seed_rows
            tables.append(harness.results_table(
                f"{split.name}, seed {seed}: {split.description}", seed_rows,
                extra_columns=[("epochs / trial", lambda r: epoch_range(trial_epochs_of(r)))]))
        if rows:
            summary = summarise(name, args.systems, args.seeds, rows)
            report["summary"] += summary
            tables.append(summary_table(f"{name} (seeds {', '.join(map(str, args.seeds))}, "
                                        f"{args.budget[name]:.0f} s per run)", summary))
    if report["overhead"]:
        tables.append(overhead_table(report["overhead"]))
        checks = [dict(o["interleaved"], seed=o["seed"]) for o in report["overhead"] if "interleaved" in o]
        if checks:
            tables.append(interleaved_table(checks))
    harness.publish(tables, report, started=started, load_before=load_before, json_path=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
