"""Run AutoKeras's ImageClassifier on one split; called by `image_vs_peers.py` in AutoKeras's own venv.

Not meant to be run by hand (see benchmarks/README.md for the venv). It never imports autonas:
AutoKeras 3.0.0 needs keras 3.12, autonas's environment has a newer one.

    <autokeras venv>/bin/python benchmarks/_autokeras_worker.py --data split.npz --out result.json \
        --progress progress.jsonl --directory /tmp/ak --max-trials 10 --epochs 8 --seed 0

Protocol with the parent:
- `--progress` is a JSON-lines file, appended and flushed as things happen, so the parent can
  read what the run had even when it kills the process at the end of the budget:
  `{"event": "ready"}` once imports and data loading are done (the parent starts the budget
  clock then), `"trial_begin"` / `"fit_end"` / `"trial_end"` per trial, `"search_end"`, then
  `"final_fit_end"`.
- `--out` gets the final JSON result (test accuracy, parameters, trials) when `fit` returns, or
  `{"error": ...}` when AutoKeras raises.
"""
import argparse
import json
import os
import sys
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

START = time.monotonic()


def log(path, event, **fields):
    fields.update(event=event, t=round(time.monotonic() - START, 3))
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(fields, default=str) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help=".npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--out", required=True)
    parser.add_argument("--progress", required=True)
    parser.add_argument("--directory", required=True)
    parser.add_argument("--max-trials", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import autokeras as ak
    import keras
    from autokeras.tuners import task_specific

    data = np.load(args.data)
    x_train, y_train, x_test, y_test = (data[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    # AutoKeras's label encoder orders the classes it finds; for labels 0..K-1 that is 0..K-1
    # (the final result below uses its own `predict`, this is only for models of killed runs).
    classes = np.unique(y_train)
    progress = args.progress

    class ProgressTuner(task_specific.ImageClassifierTuner):
        """AutoKeras's own image tuner, plus progress records through keras-tuner's public hooks."""

        def on_trial_begin(self, trial):
            super().on_trial_begin(trial)
            values = trial.hyperparameters.values
            log(progress, "trial_begin", trial=trial.trial_id,
                block_type=values.get("image_block_1/block_type"),
                hyperparameters={k: v for k, v in values.items() if not k.startswith("classification_head")})

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            trial = self.oracle.get_trial(trial.trial_id)
            metrics = {}
            for name in ("val_loss", "val_accuracy", "loss", "accuracy"):
                if trial.metrics.exists(name):
                    metrics[name] = trial.metrics.get_best_value(name)
            log(progress, "trial_end", trial=trial.trial_id, status=str(trial.status), score=trial.score,
                best_step=trial.best_step, metrics=metrics, message=(trial.message or "")[-2000:])

        def on_search_end(self):
            super().on_search_end()
            log(progress, "search_end")

    class FitRecorder(keras.callbacks.Callback):
        """After every fit (each trial, then the final fit): parameters, epochs, test accuracy."""

        def on_train_begin(self, logs=None):
            self.begin = time.monotonic()
            self.epochs_done = 0

        def on_epoch_end(self, epoch, logs=None):
            self.epochs_done = epoch + 1

        def on_train_end(self, logs=None):
            record = {"params": int(self.model.count_params()), "epochs": self.epochs_done,
                      "fit_seconds": round(time.monotonic() - self.begin, 3)}
            try:
                probabilities = self.model.predict(x_test.astype("float32"), batch_size=256, verbose=0)
                record["test_accuracy"] = float(np.mean(classes[np.argmax(probabilities, axis=1)] == y_test))
            except Exception as error:  # report, do not disturb AutoKeras's run
                record["test_accuracy_error"] = repr(error)[:300]
            log(progress, "fit_end", **record)

    log(progress, "ready", autokeras=ak.__version__, keras=keras.__version__)
    result = {"autokeras": ak.__version__, "keras": keras.__version__}
    start = time.monotonic()
    try:
        clf = ak.ImageClassifier(
            max_trials=args.max_trials,
            directory=args.directory,
            project_name="image_vs_peers",
            overwrite=True,
            tuner=ProgressTuner,
            # keras-tuner (under AutoKeras) treats seed 0 as "no seed"; shift as autonas does.
            seed=args.seed + 1,
        )
        clf.fit(x_train, y_train, epochs=args.epochs, verbose=0, callbacks=[FitRecorder()])
        result["fit_seconds"] = time.monotonic() - start
        log(progress, "final_fit_end")
        predictions = np.asarray(clf.predict(x_test, verbose=0)).reshape(-1)
        result["test_accuracy"] = float(np.mean(predictions.astype(y_test.dtype) == y_test))
        model = clf.export_model()
        result["params"] = int(model.count_params())
        trials = clf.tuner.oracle.trials.values()
        result["trials_completed"] = sum(str(t.status) == "COMPLETED" for t in trials)
        result["trials_failed"] = sum(str(t.status) in ("FAILED", "INVALID") for t in trials)
        best = clf.tuner.oracle.get_best_trials(1)
        if best:
            values = best[0].hyperparameters.values
            result["best_block_type"] = values.get("image_block_1/block_type")
    except BaseException as error:  # noqa: BLE001 - the parent reports whatever AutoKeras raised
        result["error"] = f"{type(error).__name__}: {error}"[-2000:]
        result["traceback"] = traceback.format_exc()[-6000:]
        result["fit_seconds"] = time.monotonic() - start
    result["wall_seconds"] = time.monotonic() - start
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, default=str)
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
