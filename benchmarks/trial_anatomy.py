"""Where a search trial's time goes: build, first step (tracing), steady steps, validation,
checkpoint and the runner's bookkeeping, for autonas's default proxy and the baseline's plain CNN.

Both run real trials through autonas's trial runner (`SearchTuner`, keras-tuner's RandomSearch
oracle over the model's own space), on the same split, tf.data pipelines and batch size as
`ImageSearchClassifier` with its defaults; only `--epochs` differs from the default (10), to keep
28x28 proxies affordable: the steady part grows with epochs, the fixed parts do not.

    python benchmarks/trial_anatomy.py --datasets digits,fashion --trials 3 --epochs 2 --json out.json

Parts of a trial, seconds (mean over trials) and share of the trial:
- build: `hypermodel.build` (model construction, compile, optimizer slots);
- first step: `fit` start to the end of its first batch (tracing the train step);
- steady: the rest of `fit` (every later batch, epoch ends);
- validation: the one validation pass after the last epoch (tracing it included);
- checkpoint: `model.save_weights`;
- bookkeeping: the rest of the trial's wall time, oracle calls before it included (clearing the
  session, oracle and tuner state files, keras-tuner's trial records).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import datasets  # noqa: E402

PARTS = ("build", "first_step", "steady", "validation", "checkpoint", "bookkeeping")


class Clock:
    """Accumulates the seconds spent in wrapped calls, per part, for the current trial."""

    def __init__(self):
        self.parts = dict.fromkeys(PARTS, 0.0)

    def wrap(self, part, function):
        def timed(*args, **kwargs):
            start = time.monotonic()
            try:
                return function(*args, **kwargs)
            finally:
                self.parts[part] += time.monotonic() - start
        return timed


def fit_timer(clock):
    """A Keras callback splitting `fit` into its first step and the rest."""
    import keras

    class FitTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start, self.first = time.monotonic(), None

        def on_train_batch_end(self, batch, logs=None):
            if self.first is None:
                self.first = time.monotonic()

        def on_train_end(self, logs=None):
            end = time.monotonic()
            first = self.first or end
            clock.parts["first_step"] += first - self.start
            clock.parts["steady"] += end - first

    return FitTimer()


def measure(hypermodel, space_values, data, *, epochs, trials, seed, learning_rate):
    """Run `trials` trials of `hypermodel` through `SearchTuner`; one dict of part seconds per trial.

    `learning_rate` is the peak of autonas's per-epoch cosine schedule; None trains without it.
    """
    import keras
    import keras_tuner

    import autonas.engine.tuner as tuner_module
    from autonas.engine.budget import CosineEpochs
    from autonas.engine.search import OBJECTIVE

    clock, rows = Clock(), []
    hypermodel.build = clock.wrap("build", hypermodel.build)
    original_evaluate, original_save = tuner_module.evaluate_scores, keras.Model.save_weights
    tuner_module.evaluate_scores = clock.wrap("validation", original_evaluate)
    keras.Model.save_weights = clock.wrap("checkpoint", original_save)
    try:
        with tempfile.TemporaryDirectory(prefix="autonas-anatomy-") as directory:
            oracle = keras_tuner.oracles.RandomSearchOracle(objective=OBJECTIVE, max_trials=trials, seed=seed + 1,
                                                            hyperparameters=space_values)
            marks = {"last_end": None}

            def trial_done(tuner, trial):
                now = time.monotonic()
                wall = now - marks["last_end"]
                marks["last_end"] = now
                measured = {part: clock.parts[part] for part in PARTS if part != "bookkeeping"}
                measured["bookkeeping"] = wall - sum(measured.values())
                measured["total"] = wall
                measured["params"] = int(trial.metrics.get_last_value("params"))
                measured["val_accuracy"] = float(trial.metrics.get_last_value("val_accuracy"))
                rows.append(measured)
                clock.parts = dict.fromkeys(PARTS, 0.0)

            tuner = tuner_module.SearchTuner(hypermodel, oracle, on_trial_done=trial_done, directory=directory,
                                             project_name="anatomy", overwrite=True)
            clock.parts = dict.fromkeys(PARTS, 0.0)
            marks["last_end"] = time.monotonic()
            # autonas's trials anneal from the proxy's peak rate; the CNN's rate is its own hyperparameter.
            schedule = [] if learning_rate is None else [CosineEpochs(learning_rate, epochs)]
            tuner.search(data.train, validation_data=data.validation, epochs=epochs, verbose=0,
                         callbacks=[*schedule, fit_timer(clock)])
    finally:
        tuner_module.evaluate_scores, keras.Model.save_weights = original_evaluate, original_save
    return rows


def models_for(split, seed):
    """(name, hypermodel, its keras-tuner space, learning rate) for the default proxy and the plain CNN."""
    import keras_tuner
    import numpy as np

    from autonas import ImageSearchClassifier
    from image_vs_peers import AutonasTrialSetup, plain_cnn_hypermodel

    setup = AutonasTrialSetup(ImageSearchClassifier(), split, seed)
    pixels = np.asarray(split.x_train, dtype=np.float64)  # normalised as image_vs_peers.py does
    cnn = plain_cnn_hypermodel(tuple(split.x_train.shape[1:]), split.num_classes, [float(pixels.mean())],
                               [float(pixels.var())])
    cnn_space = keras_tuner.HyperParameters()
    cnn.build(cnn_space)  # declares its hyperparameters
    return setup.data, [("autonas default proxy", setup.hypermodel, setup.space.hyperparameters(),
                         setup.learning_rate),
                        ("plain CNN (keras-tuner baseline)", cnn, cnn_space, None)]


def table(dataset, name, rows):
    """Markdown lines: one row of mean seconds and shares for `rows` (trials of one model)."""
    def mean(key):
        return sum(row[key] for row in rows) / len(rows)

    total = mean("total")
    cells = [f"{mean(part):.2f} ({100 * mean(part) / total:.0f}%)" for part in PARTS]
    return (f"| {dataset} | {name} | {len(rows)} | {mean('params'):,.0f} | " + " | ".join(cells)
            + f" | {total:.2f} | {mean('val_accuracy'):.3f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="digits,fashion", help=f"comma-separated, of {datasets.NAMES}")
    parser.add_argument("--trials", type=int, default=3, help="trials per model and data set")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per trial (autonas's default is 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write every trial's parts here")
    args = parser.parse_args(argv)
    header = ("| data set | model | trials | params | " + " | ".join(PARTS)
              + " | trial s | val acc |\n|" + "---|" * (len(PARTS) + 6))
    lines, report = [header], {"epochs": args.epochs, "trials": args.trials, "seed": args.seed, "results": []}
    for name in args.datasets.split(","):
        split = datasets.load(name, seed=args.seed)
        data, models = models_for(split, args.seed)
        for model_name, hypermodel, space_values, learning_rate in models:
            print(f"{name}: {model_name} ...", file=sys.stderr, flush=True)
            rows = measure(hypermodel, space_values, data, epochs=args.epochs, trials=args.trials, seed=args.seed,
                           learning_rate=learning_rate)
            lines.append(table(name, model_name, rows))
            report["results"].append({"dataset": name, "model": model_name, "trials": rows})
            print(lines[-1], file=sys.stderr, flush=True)
    print(f"Trial anatomy, {args.epochs} epochs per trial, seconds per trial (share), mean of {args.trials} "
          f"trials, seed {args.seed}:\n")
    print("\n".join(lines))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
