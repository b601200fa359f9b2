"""autonas's image search against its peers, on the same split and the same wall-clock budget.

Systems (each gets the same train/test arrays and the same budget, one after the other, in one
process run, so that machine load hits them alike; timings on a shared machine are noisy, so
compare within one run and read ratios rather than absolute seconds):

- `autonas`: `ImageSearchClassifier(oracle="random", time_limit=budget)`, library defaults
  otherwise (proxy of 16 filters / 1 normal cell per stage in the search, retrained at 32 / 2
  for up to `--final-epochs`; the search gets 70% of the budget and the retraining the rest).
- `kerastuner`: keras-tuner `RandomSearch` over a plain CNN hypermodel (conv blocks, convs per
  block, filters, dense units, dropout, learning rate of Adam). keras-tuner has no time limit:
  a `RandomSearch` subclass raises from the public `pre_create_trial` hook when the mean trial
  time no longer fits in 70% of the budget (autonas's rule and share), then the best
  hyperparameters are retrained on train + validation data for up to `--final-epochs`, stopped
  by the budget (never fewer epochs than a trial had); if not even that fits, the best trial's
  model (trained on the search split) is kept.
- `autokeras`: AutoKeras 3.0.0 `ImageClassifier` (its default greedy image tuner), run in its
  own virtual environment (`--autokeras-python`, default /work/venvs/autokeras/bin/python, see
  benchmarks/README.md) by `benchmarks/_autokeras_worker.py`. The budget clock starts when the
  worker has imported TensorFlow and loaded the data; at the end of the budget the worker is
  killed and the run reported as not finished, with what it had (trials completed, the best
  trial's validation accuracy and that model's test accuracy). Skipped with a note when the
  venv is absent.

All systems hold out 20% of the training data to score trials and train each trial for the same
number of epochs (`--epochs`). The test set is only used for the final score.

Per-trial overhead (autonas and keras-tuner): the tuner's wall time for its best trial, from the
end of the previous trial to the end of this one (so it includes the oracle, building, tracing,
fitting, validation, checkpoints and bookkeeping; for the first trial it is counted from the
start of `fit`/`search`), divided by a plain build + `model.fit` of the same model on the same
data for the same epochs outside any tuner (for autonas: the same tf.data pipelines, batch size,
learning-rate schedule and single validation pass after the last epoch as its trial runner; for
keras-tuner: the same `fit` arguments the search got). The time spent inside the tuner's
`run_trial` and the mean wall time per trial are shown as well. Trial ends of autonas are taken
from its `verbose=1` progress lines, which it prints at the end of every trial. The best trial
and the plain baseline run minutes apart, so a change in machine load skews that ratio; with
`--overhead-rounds R` an interleaved control runs R rounds, alternating (ABBA), of a whole
one-trial search of the same model with the tuner (hyperparameters fixed) and a plain build +
fit, and prints a third table.

Usage (from the repository root):
    python benchmarks/image_vs_peers.py
    python benchmarks/image_vs_peers.py --budget digits=180,fashion=300 --datasets digits,fashion \\
        --systems autonas,kerastuner,autokeras --seed 0 --json results.json
    python benchmarks/image_vs_peers.py --budget 60 --datasets digits --systems autonas,kerastuner

Options (defaults in brackets):
    --datasets       digits,fashion [digits,fashion]; fashion is skipped with a note when the
                     Debian package dataset-fashion-mnist is not installed.
    --systems        autonas,kerastuner,autokeras [all three].
    --budget         seconds per system, one number or per data set [digits=180,fashion=300].
    --epochs         epochs per trial, one number or per data set [digits=8,fashion=2].
    --final-epochs   most epochs of the final retraining (autonas, keras-tuner) [30].
    --max-trials     trial cap for autonas and keras-tuner; the budget normally stops them [200].
    --autokeras-trials  AutoKeras's max_trials [10].
    --fashion-train, --fashion-test  Fashion-MNIST subset sizes [10000, 2000].
    --seed           data split and search seed [0].
    --no-overhead    skip the plain-fit baselines of the per-trial overhead.
    --overhead-repeats  plain build + fit runs per baseline; the ratio uses their mean [2].
    --overhead-rounds R  also run an interleaved control: R rounds (ABBA order) of a one-trial
                     search of the best model with the tuner vs a plain build + fit of it [0 = off;
                     costs about 2 x R trials of the best model per system and data set].
    --json PATH      write every number measured.

Markdown tables go to stdout; progress goes to stderr.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from benchmarks import datasets as bench_data  # noqa: E402

SYSTEMS = ("autonas", "kerastuner", "autokeras")
DEFAULT_BUDGET = {"digits": 180.0, "fashion": 300.0}
DEFAULT_EPOCHS = {"digits": 8, "fashion": 2}
DEFAULT_AUTOKERAS_PYTHON = os.environ.get("AUTOKERAS_PYTHON", "/work/venvs/autokeras/bin/python")
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_autokeras_worker.py")
VALIDATION_SPLIT = 0.2
SEARCH_SHARE = 0.7  # autonas's share of the budget for the search (1 - RETRAIN_SHARE)
BATCH_SIZE = 128
AUTOKERAS_STARTUP_LIMIT = 180.0  # seconds allowed for the worker's imports before the budget starts
AUTOKERAS_EVAL_GRACE = 120.0  # seconds allowed after a finished fit for predict/export


def say(message):
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- arguments
def per_dataset(text, defaults, cast, name):
    """`"180"` -> same value for every data set; `"digits=180,fashion=300"` -> per data set."""
    if text is None:
        return dict(defaults)
    values = dict(defaults)
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    if len(parts) == 1 and "=" not in parts[0]:
        return {key: cast(parts[0]) for key in bench_data.NAMES}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or key not in bench_data.NAMES:
            raise SystemExit(f"--{name}: expected a number or dataset=value pairs ({', '.join(bench_data.NAMES)}), "
                             f"got {part!r}.")
        values[key] = cast(value)
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="digits,fashion")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--budget", default=None, help="seconds per system: N or digits=N,fashion=M")
    parser.add_argument("--epochs", default=None, help="epochs per trial: N or digits=N,fashion=M")
    parser.add_argument("--final-epochs", type=int, default=30)
    parser.add_argument("--max-trials", type=int, default=200)
    parser.add_argument("--autokeras-trials", type=int, default=10)
    parser.add_argument("--autokeras-python", default=DEFAULT_AUTOKERAS_PYTHON)
    parser.add_argument("--fashion-train", type=int, default=10_000)
    parser.add_argument("--fashion-test", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-overhead", action="store_true")
    parser.add_argument("--overhead-repeats", type=int, default=2)
    parser.add_argument("--overhead-rounds", type=int, default=0)
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args(argv)
    args.datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    for name in args.datasets:
        if name not in bench_data.NAMES:
            parser.error(f"unknown data set {name!r}; choose from {', '.join(bench_data.NAMES)}")
    for name in args.systems:
        if name not in SYSTEMS:
            parser.error(f"unknown system {name!r}; choose from {', '.join(SYSTEMS)}")
    args.budget = per_dataset(args.budget, DEFAULT_BUDGET, float, "budget")
    args.epochs = per_dataset(args.epochs, DEFAULT_EPOCHS, int, "epochs")
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    return args


# --------------------------------------------------------------------------- shared helpers
def warm_up():
    """One tiny fit so that TensorFlow's one-off start-up costs hit no system's budget."""
    import keras

    x = np.random.default_rng(0).random((64, 8, 8, 1)).astype("float32")
    y = np.arange(64) % 2
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    keras.backend.clear_session()


def search_split(x, y, seed):
    """The 80/20 train/validation split every system searches on (autonas's own splitter)."""
    from autonas.data.pipeline import split_arrays

    return split_arrays(x, y, VALIDATION_SPLIT, seed)


class LineTimes(io.TextIOBase):
    """A text stream that forwards to `target` and records when each matching line ended."""

    def __init__(self, target, pattern):
        super().__init__()
        self.target = target
        self.pattern = re.compile(pattern)
        self.buffer_text = ""
        self.times = []
        self.lines = []

    def writable(self):
        return True

    def write(self, text):
        now = time.monotonic()
        self.target.write(text)
        self.buffer_text += text
        while "\n" in self.buffer_text:
            line, self.buffer_text = self.buffer_text.split("\n", 1)
            if self.pattern.search(line):
                self.times.append(now)
                self.lines.append(line)
        return len(text)

    def flush(self):
        self.target.flush()


class DeadlineStop:
    """Keras callback factory: stop when the next epoch would end after `end` (monotonic), never
    before `min_epochs`."""

    @staticmethod
    def make(end, min_epochs):
        import keras

        class _Stop(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self._start = time.monotonic()

            def on_epoch_end(self, epoch, logs=None):
                pace = time.monotonic() - self._start
                if epoch + 1 >= min_epochs and time.monotonic() + pace > end:
                    self.model.stop_training = True

        return _Stop()


def repeated(runs):
    """Mean of each timing over repeated plain runs, plus every run."""
    summary = {key: float(np.mean([run[key] for run in runs])) for key in runs[0]}
    summary["plain_runs_s"] = [run["plain_s"] for run in runs]
    return summary


def fmt(value, spec):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value, spec)


# --------------------------------------------------------------------------- autonas
def run_autonas(split, budget, epochs, args):
    import keras

    from autonas import ImageSearchClassifier

    keras.backend.clear_session()
    gc.collect()
    clf = ImageSearchClassifier(max_trials=args.max_trials, epochs=epochs, final_epochs=args.final_epochs,
                                time_limit=budget, oracle="random", seed=args.seed, verbose=1)
    recorder = LineTimes(sys.stderr, r"^trial \d+/\d+ \|")
    start = time.monotonic()
    with contextlib.redirect_stdout(recorder):
        clf.fit(split.x_train, split.y_train)
    wall = time.monotonic() - start
    test_accuracy = float(clf.score(split.x_test, split.y_test))
    board = clf.leaderboard()
    completed = int((board["status"] == "COMPLETED").sum())
    failed = int(len(board) - completed)
    ends = [t - start for t in recorder.times]
    search_seconds = ends[-1] if ends else float("nan")
    retrained = clf.retrained_size_
    if retrained is None:
        final = "kept the best trial's model (no time to retrain)"
    else:
        final = f"retrained at {retrained.filters} filters / {retrained.normal_cells} normal cells"
    best_row = board[board["architecture"] == str(clf.best_genotype_)].iloc[0]
    result = {
        "system": "autonas", "dataset": split.name, "budget_s": budget, "epochs_per_trial": epochs,
        "trials_finished": completed, "trials_failed": failed, "test_accuracy": test_accuracy,
        "params": int(clf.model_.count_params()), "wall_s": wall, "finished": True,
        "search_s": search_seconds, "best_val_accuracy": float(clf.best_score_),
        "best_architecture": str(clf.best_genotype_), "final_model": final,
        "trial_end_s": ends, "trial_seconds_inside": [float(s) for s in board.sort_values("trial")["seconds"]],
        "notes": f"search {search_seconds:.0f}s; {final}" + (f"; {failed} failed trials" if failed else ""),
    }
    if len(ends) != len(board):
        result["notes"] += f"; WARNING: {len(ends)} progress lines for {len(board)} trials"
    overhead = None
    if not args.no_overhead and len(ends) == len(board):
        index = int(best_row["trial"])
        tuner_trial = ends[index] - (ends[index - 1] if index > 0 else 0.0)
        setup = AutonasTrialSetup(clf, split, args.seed)
        plain = repeated([setup.plain_fit(clf.best_genotype_, epochs) for _ in range(args.overhead_repeats)])
        overhead = {
            "system": "autonas", "dataset": split.name, "epochs": epochs, "trial": best_row["trial"],
            "model": str(clf.best_genotype_), "params": int(best_row["params"]),
            "tuner_trial_s": tuner_trial, "tuner_inside_run_trial_s": float(best_row["seconds"]),
            "mean_trial_s": search_seconds / len(ends), "first_trial": index == 0, **plain,
        }
        if args.overhead_rounds:
            genotype = clf.best_genotype_
            overhead["interleaved"] = interleaved(
                "autonas", split.name, epochs, str(genotype), int(best_row["params"]),
                lambda: setup.one_trial_search(genotype, epochs), lambda: setup.plain_fit(genotype, epochs),
                args.overhead_rounds)
    return result, overhead


class AutonasTrialSetup:
    """What one autonas search trial sees: the same split, tf.data pipelines and proxy-size
    hypermodel as `clf.fit` built (rebuilt here from the fitted classifier's parameters)."""

    def __init__(self, clf, split, seed):
        from autonas.data.images import spec_from_array
        from autonas.data.labels import encode_labels, fit_classes
        from autonas.data.pipeline import from_arrays
        from autonas.space import CellHyperModel, CellSearchSpace, NetworkSize
        from autonas.space.operations import IMAGE_OPERATIONS

        x = split.x_train
        classes = fit_classes(split.y_train)
        labels = encode_labels(split.y_train, classes)
        x_train, x_val, y_train, y_val = search_split(x, labels, seed)
        self.data = from_arrays(x_train, y_train, x_val.astype(x.dtype), y_val, batch_size=clf.batch_size, seed=seed)
        self.space = CellSearchSpace(clf.operations or IMAGE_OPERATIONS, num_blocks=clf.num_blocks)
        self.hypermodel = CellHyperModel(
            self.space, inputs_builder=spec_from_array(x).build_inputs, num_classes=len(classes),
            size=NetworkSize(filters=clf.search_filters, normal_cells=clf.search_normal_cells, dropout=clf.dropout),
            learning_rate=clf.learning_rate)
        self.learning_rate = clf.learning_rate

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
        from autonas.tasks.base import OBJECTIVE

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
            outputs = layers.Dense(num_classes, activation="softmax")(x)
            model = keras.Model(inputs, outputs)
            model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
            return model

    return PlainCNN(name="plain_cnn")


class SearchBudgetSpent(Exception):
    pass


def budgeted_random_search(hypermodel, *, search_seconds, **kwargs):
    """A keras-tuner RandomSearch that stops starting trials when the mean trial no longer fits."""
    import keras_tuner

    class BudgetedRandomSearch(keras_tuner.RandomSearch):
        def search(self, *fit_args, **fit_kwargs):
            self.search_start = time.monotonic()
            self.trial_ends = []  # (trial_id, monotonic time), in order
            self.inside = {}  # trial_id -> seconds inside run_trial
            try:
                super().search(*fit_args, **fit_kwargs)
            except SearchBudgetSpent:
                self.on_search_end()

        def pre_create_trial(self):
            times = [self.search_start] + [t for _, t in self.trial_ends]
            expected = (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else 0.0
            if time.monotonic() - self.search_start + expected > search_seconds:
                raise SearchBudgetSpent()

        def run_trial(self, trial, *fit_args, **fit_kwargs):
            start = time.monotonic()
            try:
                return super().run_trial(trial, *fit_args, **fit_kwargs)
            finally:
                self.inside[trial.trial_id] = time.monotonic() - start

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            self.trial_ends.append((trial.trial_id, time.monotonic()))

    return BudgetedRandomSearch(hypermodel, **kwargs)


def run_kerastuner(split, budget, epochs, args):
    import keras
    import keras_tuner

    keras.backend.clear_session()
    gc.collect()
    start = time.monotonic()
    end_of_budget = start + budget
    x, y = split.x_train, split.y_train
    x_train, x_val, y_train, y_val = search_split(x, y, args.seed)
    pixels = np.asarray(x_train, dtype=np.float64)
    mean, variance = [float(pixels.mean())], [float(pixels.var())]
    input_shape = tuple(x.shape[1:])
    num_classes = int(len(np.unique(y)))
    hypermodel = plain_cnn_hypermodel(input_shape, num_classes, mean, variance)
    fit_kwargs = dict(validation_data=(x_val, y_val), epochs=epochs, batch_size=BATCH_SIZE, verbose=0)
    with tempfile.TemporaryDirectory(prefix="kt-bench-") as directory:
        tuner = budgeted_random_search(
            hypermodel, search_seconds=SEARCH_SHARE * budget,
            objective=keras_tuner.Objective("val_accuracy", "max"), max_trials=args.max_trials,
            seed=args.seed + 1,  # keras-tuner treats seed 0 as "no seed"
            directory=directory, project_name="plain_cnn", overwrite=True)
        tuner.search(x_train, y_train, **fit_kwargs)
        search_seconds = time.monotonic() - start
        trials = list(tuner.oracle.trials.values())
        completed = [t for t in trials if str(t.status) == "COMPLETED"]
        best_trial = tuner.oracle.get_best_trials(1)[0]
        best_hp = best_trial.hyperparameters
        ends = dict(tuner.trial_ends)
        ordered = [tuner.search_start] + [t for _, t in tuner.trial_ends]
        index = [tid for tid, _ in tuner.trial_ends].index(best_trial.trial_id)
        best_interval = ordered[index + 1] - ordered[index]
        # Retrain on train + validation within what is left of the budget.
        per_epoch = tuner.inside[best_trial.trial_id] / epochs * len(x) / len(x_train)
        affordable = int((end_of_budget - time.monotonic()) // max(per_epoch, 1e-9))
        if affordable >= epochs:
            keras.backend.clear_session()
            model = hypermodel.build(best_hp)
            history = model.fit(x, y, epochs=min(args.final_epochs, affordable), batch_size=BATCH_SIZE, verbose=0,
                                callbacks=[DeadlineStop.make(end_of_budget, epochs)])
            final = f"retrained {len(history.history['loss'])} epochs on train+val"
        else:
            model = tuner.get_best_models(1)[0]
            final = "kept the best trial's model (no time to retrain)"
        wall = time.monotonic() - start
        test_accuracy = float(model.evaluate(split.x_test, split.y_test, batch_size=256, verbose=0)[1])
        params = int(model.count_params())
    result = {
        "system": "kerastuner", "dataset": split.name, "budget_s": budget, "epochs_per_trial": epochs,
        "trials_finished": len(completed), "trials_failed": len(trials) - len(completed),
        "test_accuracy": test_accuracy, "params": params, "wall_s": wall, "finished": True,
        "search_s": search_seconds, "best_val_accuracy": float(best_trial.score),
        "best_hyperparameters": best_hp.values, "final_model": final,
        "trial_end_s": [t - start for t in ends.values()],
        "notes": f"search {search_seconds:.0f}s; {final}",
    }
    overhead = None
    if not args.no_overhead:
        runs = []
        for _ in range(args.overhead_repeats):
            keras.backend.clear_session()
            gc.collect()
            plain_start = time.monotonic()
            model = hypermodel.build(best_hp)
            built = time.monotonic()
            history = model.fit(x_train, y_train, **fit_kwargs)
            plain_end = time.monotonic()
            runs.append({"plain_build_s": built - plain_start, "plain_fit_s": plain_end - built,
                         "plain_s": plain_end - plain_start,
                         "plain_val_accuracy": float(history.history["val_accuracy"][-1])})
        overhead = {
            "system": "kerastuner", "dataset": split.name, "epochs": epochs, "trial": best_trial.trial_id,
            "model": ", ".join(f"{k}={v:.2g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in best_hp.values.items()),
            "params": int(model.count_params()), "tuner_trial_s": best_interval,
            "tuner_inside_run_trial_s": tuner.inside[best_trial.trial_id],
            "mean_trial_s": (ordered[-1] - ordered[0]) / max(len(ordered) - 1, 1), "first_trial": index == 0,
            **repeated(runs),
        }
        if args.overhead_rounds:
            values = dict(best_hp.values)

            def plain_run():
                keras.backend.clear_session()
                gc.collect()
                begin = time.monotonic()
                hypermodel.build(best_hp).fit(x_train, y_train, **fit_kwargs)
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
                    check.search(x_train, y_train, **fit_kwargs)
                    elapsed = time.monotonic() - begin
                (inside,) = check.inside.values()
                return {"tuner_s": elapsed, "inside_s": inside}

            overhead["interleaved"] = interleaved("kerastuner", split.name, epochs, overhead["model"],
                                                  overhead["params"], tuner_run, plain_run, args.overhead_rounds)
    return result, overhead


# --------------------------------------------------------------------------- AutoKeras
def read_progress(path):
    events = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                with contextlib.suppress(json.JSONDecodeError):
                    events.append(json.loads(line))
    return events


def summarise_autokeras(events):
    """Trials and fits from the worker's progress events."""
    trials, current, final_fit = [], None, None
    searching = True
    for event in events:
        kind = event["event"]
        if kind == "trial_begin":
            current = {"trial": event["trial"], "block_type": event.get("block_type"), "status": "RUNNING",
                       "begin_t": event["t"]}
            trials.append(current)
        elif kind == "fit_end":
            if searching and current is not None:
                current.update(params=event.get("params"), epochs=event.get("epochs"),
                               test_accuracy=event.get("test_accuracy"), fit_seconds=event.get("fit_seconds"))
            else:
                final_fit = event
        elif kind == "trial_end" and current is not None:
            current.update(status=event["status"], metrics=event.get("metrics", {}), end_t=event["t"],
                           message=event.get("message", ""))
        elif kind == "search_end":
            searching = False
    return trials, final_fit


def run_autokeras(split, budget, epochs, args):
    base = {"system": "autokeras", "dataset": split.name, "budget_s": budget, "epochs_per_trial": epochs,
            "trials_finished": None, "trials_failed": None, "test_accuracy": None, "params": None,
            "wall_s": None, "finished": False}
    if not os.path.exists(args.autokeras_python):
        base["skipped"] = True
        base["notes"] = (f"SKIPPED: no AutoKeras environment at {args.autokeras_python} "
                         "(see benchmarks/README.md to create it, or pass --autokeras-python)")
        return base, None
    with tempfile.TemporaryDirectory(prefix="ak-bench-") as tmp:
        data_path = os.path.join(tmp, "split.npz")
        np.savez(data_path, x_train=split.x_train, y_train=split.y_train, x_test=split.x_test, y_test=split.y_test)
        out_path, progress_path = os.path.join(tmp, "result.json"), os.path.join(tmp, "progress.jsonl")
        log_path = os.path.join(tmp, "worker.log")
        command = [args.autokeras_python, WORKER, "--data", data_path, "--out", out_path, "--progress", progress_path,
                   "--directory", os.path.join(tmp, "autokeras"), "--max-trials", str(args.autokeras_trials),
                   "--epochs", str(epochs), "--seed", str(args.seed)]
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["TF_CPP_MIN_LOG_LEVEL"] = "2"
        with open(log_path, "w") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=tmp, env=env,
                                       start_new_session=True)
        launched = time.monotonic()
        ready_at, killed, why = None, False, None
        while process.poll() is None:
            time.sleep(0.5)
            now = time.monotonic()
            events = read_progress(progress_path)
            if ready_at is None:
                if any(e["event"] == "ready" for e in events):
                    ready_at = now
                elif now - launched > AUTOKERAS_STARTUP_LIMIT:
                    killed, why = True, f"did not start within {AUTOKERAS_STARTUP_LIMIT:.0f}s"
                    break
                continue
            fit_done = any(e["event"] == "final_fit_end" for e in events)
            if now - ready_at > budget + (AUTOKERAS_EVAL_GRACE if fit_done else 0.0):
                killed, why = True, "budget spent"
                break
        if killed:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        end = time.monotonic()
        events = read_progress(progress_path)
        result_json = None
        if os.path.exists(out_path):
            with open(out_path, encoding="utf-8") as handle:
                result_json = json.load(handle)
        with open(log_path, errors="replace") as handle:
            log_tail = handle.read()[-3000:]
        if result_json is None and not killed:
            shutil.copy(log_path, os.path.join(tempfile.gettempdir(), f"autokeras-worker-{split.name}.log"))
    trials, final_fit = summarise_autokeras(events)
    completed = [t for t in trials if t["status"] == "COMPLETED"]
    failed = [t for t in trials if t["status"] in ("FAILED", "INVALID")]
    result = dict(base)
    result.update(trials_finished=len(completed), trials_failed=len(failed), trials=trials,
                  wall_s=(end - ready_at) if ready_at is not None else None,
                  startup_s=(ready_at - launched) if ready_at is not None else None)
    kinds = ", ".join(f"{t['trial']}:{t['block_type']}" + ("" if t["status"] == "COMPLETED" else f"({t['status']})")
                      for t in trials)
    notes = [f"trials {kinds}"] if trials else []
    for t in failed:
        last = (t.get("message") or "").strip().splitlines()[-1:] or [""]
        notes.append(f"trial {t['trial']} ({t['block_type']}) failed: {last[0][:160]}")
    if result_json is not None and "error" not in result_json and "test_accuracy" in result_json:
        result.update(finished=True, test_accuracy=result_json["test_accuracy"], params=result_json["params"],
                      fit_s=result_json.get("fit_seconds"), wall_s=result_json.get("fit_seconds", result["wall_s"]),
                      best_block_type=result_json.get("best_block_type"))
        if final_fit is not None and final_fit.get("test_accuracy") is not None:
            result["final_fit_test_accuracy"] = final_fit["test_accuracy"]
            notes.append(f"final fit on train+val reached test acc {final_fit['test_accuracy']:.4f}, but "
                         "predict()/export_model() return the best search trial's model")
    else:
        if killed:
            notes.insert(0, f"DID NOT FINISH: killed after {end - (ready_at or launched):.0f}s ({why})")
            running = [t for t in trials if t["status"] == "RUNNING"]
            if running:
                t = running[-1]
                # The worker's clock starts about when it was launched.
                notes.append(f"trial {t['trial']} ({t['block_type']}) was still running after "
                             f"{(end - launched) - t['begin_t']:.0f}s")
        if result_json is not None and "error" in result_json:
            notes.insert(0, f"ERROR: {result_json['error'].splitlines()[0][:300]}")
            result["error"] = result_json["error"]
            result["traceback"] = result_json.get("traceback")
        elif not killed:
            notes.insert(0, f"ERROR: worker exited with code {process.returncode}")
            result["log_tail"] = log_tail
        if completed:
            best = max(completed, key=lambda t: t.get("metrics", {}).get("val_accuracy", -1))
            result["partial"] = best
            notes.append(f"best completed trial {best['trial']} ({best['block_type']}): val acc "
                         f"{fmt(best.get('metrics', {}).get('val_accuracy'), '.4f')}, its model's test acc "
                         f"{fmt(best.get('test_accuracy'), '.4f')}, {best.get('params')} params "
                         "(search-split model; fit never returned one)")
    result["notes"] = "; ".join(notes)
    return result, None


# --------------------------------------------------------------------------- report
def results_table(split, rows):
    lines = [f"### {split.name}: {split.description}", "",
             "| system | budget (s) | trials finished | test accuracy | params | wall (s) | notes |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        trials = "—" if r.get("trials_finished") is None else str(r["trials_finished"])
        if r.get("trials_failed"):
            trials += f" (+{r['trials_failed']} failed)"
        accuracy = fmt(r.get("test_accuracy"), ".4f")
        if r.get("test_accuracy") is None and not r.get("skipped"):
            accuracy = "— (not finished)"
        params = "—" if r.get("params") is None else f"{r['params']:,}"
        notes = (r.get("notes") or "").replace("|", "/")
        lines.append(f"| {r['system']} | {r['budget_s']:.0f} | {trials} | {accuracy} | {params} | "
                     f"{fmt(r.get('wall_s'), '.0f')} | {notes} |")
    return "\n".join(lines)


def overhead_table(rows):
    lines = ["### Per-trial overhead: tuner wall time of the best trial / plain build + fit of the same model", "",
             "| system | dataset | epochs | params | tuner trial wall (s) | "
             "plain build+fit, mean (range) (s) | ratio | "
             "inside run_trial (s) | ratio | mean trial wall (s) | model |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        first = " (1st trial, incl. set-up)" if r["first_trial"] else ""
        runs = r.get("plain_runs_s", [])
        spread = f" ({min(runs):.1f}–{max(runs):.1f})" if len(runs) > 1 else ""
        lines.append(
            f"| {r['system']} | {r['dataset']} | {r['epochs']} | {r['params']:,} | {r['tuner_trial_s']:.1f}{first} | "
            f"{r['plain_s']:.1f}{spread} | {r['tuner_trial_s'] / r['plain_s']:.2f} | "
            f"{r['tuner_inside_run_trial_s']:.1f} | "
            f"{r['tuner_inside_run_trial_s'] / r['plain_s']:.2f} | {r['mean_trial_s']:.1f} | "
            f"{r['model'][:70].replace('|', '/')} |")
    return "\n".join(lines)


def interleaved_table(rows):
    lines = ["### Interleaved control: one-trial tuner search vs plain build + fit of the same model, "
             "alternating (ABBA)", "",
             "| system | dataset | epochs | rounds | tuner one-trial search (s), mean (range) | "
             "inside run_trial (s) | plain build+fit (s), mean (range) | ratio (search) | ratio (run_trial) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]

    def spread(values):
        return f"{np.mean(values):.1f} ({min(values):.1f}–{max(values):.1f})"

    for r in rows:
        plain = float(np.mean(r["plain_s"]))
        lines.append(f"| {r['system']} | {r['dataset']} | {r['epochs']} | {r['rounds']} | {spread(r['tuner_s'])} | "
                     f"{np.mean(r['inside_s']):.1f} | {spread(r['plain_s'])} | {np.mean(r['tuner_s']) / plain:.2f} | "
                     f"{np.mean(r['inside_s']) / plain:.2f} |")
    return "\n".join(lines)


def versions(args):
    info = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    for name in ("tensorflow", "keras", "keras_tuner", "autonas", "sklearn"):
        with contextlib.suppress(Exception):
            info[name] = __import__(name).__version__
    info["autokeras_python"] = args.autokeras_python if os.path.exists(args.autokeras_python) else None
    return info


def main(argv=None):
    args = parse_args(argv)
    started = time.monotonic()
    load_before = os.getloadavg()
    say(f"load average before: {load_before[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    warm_up()
    runners = {"autonas": run_autonas, "kerastuner": run_kerastuner, "autokeras": run_autokeras}
    report = {"config": {k: v for k, v in vars(args).items()}, "environment": versions(args),
              "datasets": {}, "results": [], "overhead": [], "skipped_datasets": {}}
    tables = []
    for name in args.datasets:
        try:
            split = bench_data.load(name, seed=args.seed, fashion_train=args.fashion_train,
                                    fashion_test=args.fashion_test)
        except bench_data.DatasetUnavailable as error:
            say(f"SKIPPING {name}: {error}")
            report["skipped_datasets"][name] = str(error)
            tables.append(f"### {name}: skipped\n\n{error}")
            continue
        report["datasets"][name] = split.description
        rows = []
        for system in args.systems:
            budget, epochs = args.budget[name], args.epochs[name]
            say(f"== {name} / {system}: budget {budget:.0f}s, {epochs} epochs per trial")
            try:
                result, overhead = runners[system](split, budget, epochs, args)
            except Exception as error:  # one system's crash must not lose the others' numbers
                import traceback

                say(traceback.format_exc())
                result = {"system": system, "dataset": name, "budget_s": budget, "epochs_per_trial": epochs,
                          "finished": False, "error": repr(error), "notes": f"CRASHED: {error!r}"[:300]}
                overhead = None
            brief = {k: result.get(k) for k in ("trials_finished", "test_accuracy", "params", "wall_s", "notes")}
            say(f"   -> {json.dumps(brief, default=str)}")
            rows.append(result)
            report["results"].append(result)
            if overhead is not None:
                report["overhead"].append(overhead)
                say(f"   overhead: tuner {overhead['tuner_trial_s']:.1f}s vs plain {overhead['plain_s']:.1f}s "
                    f"= {overhead['tuner_trial_s'] / overhead['plain_s']:.2f}x")
        tables.append(results_table(split, rows))
    if report["overhead"]:
        tables.append(overhead_table(report["overhead"]))
        checks = [o["interleaved"] for o in report["overhead"] if "interleaved" in o]
        if checks:
            tables.append(interleaved_table(checks))
    load_after = os.getloadavg()
    report["environment"]["loadavg_before"] = load_before
    report["environment"]["loadavg_after"] = load_after
    report["total_s"] = time.monotonic() - started
    footer = (f"_Machine: {os.cpu_count()} CPUs, load average {load_before[0]:.1f} before / {load_after[0]:.1f} "
              f"after (shared machine: compare systems within this run). Total {report['total_s'] / 60:.1f} min._")
    print("\n\n".join(tables + [footer]), flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2, default=str)
        say(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
