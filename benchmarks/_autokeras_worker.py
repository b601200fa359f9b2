"""Run AutoKeras's ImageClassifier or TextClassifier on one split; called by `image_vs_peers.py` and
`text_vs_peers.py` (through `_harness.run_autokeras`) in AutoKeras's own venv.

Not meant to be run by hand (see benchmarks/README.md for the venv). It never imports autonas:
AutoKeras 3.0.0 needs keras 3.12, autonas's environment has a newer one.

    <autokeras venv>/bin/python benchmarks/_autokeras_worker.py --data split.npz --out result.json \
        --progress progress.jsonl --directory /tmp/ak --max-trials 10 --epochs 8 --seed 0 [--task text]

`--task image` (the default): `ak.ImageClassifier` with its `ImageClassifierTuner`; x arrays are
images. `--task text`: `ak.TextClassifier` with its `TextClassifierTuner`; x arrays are fixed-width
unicode arrays of raw texts. For text the worker also checks, after `fit`, whether the exported
model serves raw strings: `clf.export_model()`, `model.export(dir, format="tf_saved_model")`,
`tf.saved_model.load(dir).serve(tf.constant(texts))`, compared with the probabilities of the
model on AutoKeras's own preprocessing of those texts (`serves_raw_strings`, `serve_note`).

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
import contextlib
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


def describe(values, text):
    """A short name of a trial's model: the image block type, or the text block's main choices."""
    if not text:
        return values.get("image_block_1/block_type")
    block = {key.split("/", 1)[1]: value for key, value in values.items() if key.startswith("text_block_1/")}
    return (f"conv k{block.get('conv_block_1/kernel_size')}x{block.get('conv_block_1/num_blocks')}/"
            f"{block.get('spatial_reduction_1/reduction_type')}, vocab {block.get('max_tokens')}, "
            f"lr {values.get('learning_rate')}")


def class_probabilities(outputs):
    """Model outputs as one column per class (a binary head has one sigmoid column)."""
    outputs = np.asarray(outputs, dtype="float64")
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        outputs = np.concatenate([1.0 - outputs, outputs], axis=1)
    return outputs


def serving_check(clf, model, texts, directory):
    """Whether the exported model serves raw strings: export, load, call `serve` on raw texts and
    compare with the model's probabilities on AutoKeras's own preprocessing of the same texts."""
    import tensorflow as tf

    check = {"serve_inputs": len(texts)}
    try:
        model.export(directory, format="tf_saved_model", verbose=False)
    except Exception as error:  # noqa: BLE001 - reported, not raised
        return dict(check, serves_raw_strings=False, serve_note=f"no: model.export failed: {first_line(error)}")
    loaded = None
    try:
        loaded = tf.saved_model.load(directory)
        served = loaded.serve(tf.constant(texts))
    except Exception as error:  # noqa: BLE001
        note = f"no: serve(raw strings) failed: {first_line(error).split(' due to ')[0][:160]}"
        signature = None
        with contextlib.suppress(Exception):  # what the endpoint takes instead, when it loaded
            signature = str(loaded.serve.input_signature)[:300]
            note += f" (serve takes {signature.replace(', name=' + repr('keras_tensor'), '')})"
        return dict(check, serves_raw_strings=False, serve_input_signature=signature, serve_error=str(error)[-1000:],
                    serve_note=note)
    served = class_probabilities(served.numpy() if hasattr(served, "numpy") else served)
    try:
        inputs = clf.tuner.get_best_pipeline().transform_x(texts)
        expected = class_probabilities(model.predict(inputs, verbose=0))
        difference = float(np.max(np.abs(served - expected)))
    except Exception as error:  # noqa: BLE001
        return dict(check, serves_raw_strings=True,
                    serve_note=f"yes (not compared with predict: {first_line(error)})")
    return dict(check, serves_raw_strings=True, serve_max_abs_diff=difference,
                serve_note=f"yes (max abs diff vs predict {difference:.1e})")


def first_line(error):
    lines = [line for line in str(error).strip().splitlines() if line.strip()] or [""]
    return f"{type(error).__name__}: {lines[0]}"[:300]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help=".npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--out", required=True)
    parser.add_argument("--progress", required=True)
    parser.add_argument("--directory", required=True)
    parser.add_argument("--max-trials", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--task", choices=("image", "text"), default="image")
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
    text = args.task == "text"
    task_tuner = task_specific.TextClassifierTuner if text else task_specific.ImageClassifierTuner

    class ProgressTuner(task_tuner):
        """AutoKeras's own tuner for the task, plus progress records through keras-tuner's public hooks."""

        pipeline = None  # the preprocessing pipeline of the fit under way (text: tokenizer)

        def _prepare_model_build(self, hp, **kwargs):
            built = super()._prepare_model_build(hp, **kwargs)
            ProgressTuner.pipeline = built[0]
            return built

        def on_trial_begin(self, trial):
            super().on_trial_begin(trial)
            values = trial.hyperparameters.values
            log(progress, "trial_begin", trial=trial.trial_id, block_type=describe(values, text),
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
                inputs = ProgressTuner.pipeline.transform_x(x_test) if text else x_test.astype("float32")
                probabilities = class_probabilities(self.model.predict(inputs, batch_size=256, verbose=0))
                record["test_accuracy"] = float(np.mean(classes[np.argmax(probabilities, axis=1)] == y_test))
            except Exception as error:  # report, do not disturb AutoKeras's run
                record["test_accuracy_error"] = repr(error)[:300]
            log(progress, "fit_end", **record)

    log(progress, "ready", autokeras=ak.__version__, keras=keras.__version__)
    result = {"autokeras": ak.__version__, "keras": keras.__version__}
    start = time.monotonic()
    try:
        classifier = ak.TextClassifier if text else ak.ImageClassifier
        clf = classifier(
            max_trials=args.max_trials,
            directory=args.directory,
            project_name=f"{args.task}_vs_peers",
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
            result["best_block_type"] = describe(values, text)
        if text:
            labels, counts = np.unique(predictions.astype(str), return_counts=True)
            result["predicted_class_counts"] = dict(zip(labels.tolist(), counts.tolist()))
            result.update(serving_check(clf, model, x_test[:200], os.path.join(args.directory, "export")))
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
