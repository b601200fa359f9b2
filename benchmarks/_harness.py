"""What the `*_vs_peers.py` benchmarks share: arguments, timing helpers, the budgeted keras-tuner
search, running autonas with timed progress lines, running AutoKeras in its own environment and
killing it at the end of the budget, the results table, and the report.

Not a script: `image_vs_peers.py` and `text_vs_peers.py` import it. Every system a benchmark
compares is run one after the other in one process run, so that machine load hits them alike.
"""
from __future__ import annotations

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
import traceback
import types

import numpy as np

VALIDATION_SPLIT = 0.2
SEARCH_SHARE = 0.7  # autonas's share of the budget for the search (autonas.engine.retrain.search_share)
BATCH_SIZE = 128
DEFAULT_AUTOKERAS_PYTHON = os.environ.get("AUTOKERAS_PYTHON", "/work/venvs/autokeras/bin/python")
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_autokeras_worker.py")
AUTOKERAS_STARTUP_LIMIT = 180.0  # seconds allowed for the worker's imports before the budget starts
AUTOKERAS_EVAL_GRACE = 120.0  # seconds allowed after a finished fit for predict/export


def say(message):
    print(message, file=sys.stderr, flush=True)


def print_table(lines, json_path, payload):
    """Print a finished table to stdout and, when `json_path` is given, write `payload` there."""
    print("\n".join(lines), flush=True)
    if json_path:
        with open(json_path, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)


def accuracy(probabilities, labels):
    """The share of rows whose most probable class is their label."""
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


def fmt(value, spec):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value, spec)


def first_line(error, limit=300):
    """The first non-empty line of an exception's message (with its type), cut to `limit`."""
    lines = [line for line in str(error).strip().splitlines() if line.strip()] or [""]
    return f"{type(error).__name__}: {lines[0]}"[:limit]


# --------------------------------------------------------------------------- arguments
def per_dataset(text, defaults, cast, name, names):
    """`"180"` -> same value for every data set; `"digits=180,fashion=300"` -> per data set."""
    if text is None:
        return dict(defaults)
    values = dict(defaults)
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    if len(parts) == 1 and "=" not in parts[0]:
        return {key: cast(parts[0]) for key in names}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or key not in names:
            raise SystemExit(f"--{name}: expected a number or dataset=value pairs ({', '.join(names)}), "
                             f"got {part!r}.")
        values[key] = cast(value)
    return values


def add_common_arguments(parser, names, systems):
    """The options every `*_vs_peers.py` script takes (each adds its own after these)."""
    pairs = f"{names[0]}=N,{names[1]}=M"
    parser.add_argument("--datasets", default=",".join(names))
    parser.add_argument("--systems", default=",".join(systems))
    parser.add_argument("--budget", default=None, help=f"seconds per system: N or {pairs}")
    parser.add_argument("--epochs", default=None, help=f"epochs per trial: N or {pairs}")
    parser.add_argument("--final-epochs", type=int, default=30)
    parser.add_argument("--max-trials", type=int, default=200)
    parser.add_argument("--autokeras-trials", type=int, default=10)
    parser.add_argument("--autokeras-python", default=DEFAULT_AUTOKERAS_PYTHON)


def name_list(parser, text, allowed, kind):
    """The comma-separated names in `text`, each one of `allowed` (else a usage error naming `kind`)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        if name not in allowed:
            parser.error(f"unknown {kind} {name!r}; choose from {', '.join(allowed)}")
    return names


def check_common_arguments(parser, args, names, systems, default_budget, default_epochs):
    """Split the list options, check names and seed, and resolve per-data-set budgets and epochs."""
    args.datasets = name_list(parser, args.datasets, names, "data set")
    args.systems = name_list(parser, args.systems, systems, "system")
    args.budget = per_dataset(args.budget, default_budget, float, "budget", names)
    args.epochs = per_dataset(args.epochs, default_epochs, int, "epochs", names)
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    return args


# --------------------------------------------------------------------------- timing helpers
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


# --------------------------------------------------------------------------- autonas
def fit_autonas(clf, split, budget, epochs):
    """Fit `clf` on the split's training data, timing its `verbose=1` progress lines (printed at
    the end of every trial, sent to stderr), and score it on the test data.

    Returns `(result, board, ends)`: the fields every benchmark reports (the epochs each trial
    trained among them), the leaderboard, and the end of each trial in seconds from the start
    of `fit`.
    """
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
    result = {
        "system": "autonas", "dataset": split.name, "budget_s": budget, "epochs_per_trial": epochs,
        "trials_finished": completed, "trials_failed": failed, "test_accuracy": test_accuracy,
        "params": int(clf.model_.count_params()), "wall_s": wall, "finished": True,
        "search_s": search_seconds, "best_val_accuracy": float(clf.best_score_),
        "best_architecture": str(clf.best_genotype_), "final_model": final,
        "trial_end_s": ends, "trial_seconds_inside": [float(s) for s in board.sort_values("trial")["seconds"]],
        "trial_epochs": [None if e != e else int(e) for e in board.sort_values("trial")["epochs"]],  # NaN: none
        "notes": f"search {search_seconds:.0f}s; {final}" + (f"; {failed} failed trials" if failed else ""),
    }
    if len(ends) != len(board):
        result["notes"] += f"; WARNING: {len(ends)} progress lines for {len(board)} trials"
    return result, board, ends


# --------------------------------------------------------------------------- keras-tuner
class SearchBudgetSpent(Exception):
    pass


def budgeted_tuner(tuner_class, hypermodel, *, search_seconds, trial_cap=None, **kwargs):
    """A keras-tuner tuner of class `tuner_class` (`RandomSearch`, `Hyperband`, ...) that stops
    starting trials, from the public `pre_create_trial` hook, when the mean trial no longer fits in
    `search_seconds` from the start of `search`, or after `trial_cap` trials (None: no cap; for
    tuners without `max_trials`, such as `Hyperband`).

    It records `search_start`, `trial_ends` (`(trial_id, monotonic time)` in order) and `inside`
    (trial_id -> seconds inside `run_trial`). `kwargs` go to `tuner_class`.
    """

    class Budgeted(tuner_class):
        def search(self, *fit_args, **fit_kwargs):
            self.search_start = time.monotonic()
            self.trial_ends = []  # (trial_id, monotonic time), in order
            self.inside = {}  # trial_id -> seconds inside run_trial
            try:
                super().search(*fit_args, **fit_kwargs)
            except SearchBudgetSpent:
                self.on_search_end()

        def pre_create_trial(self):
            if trial_cap is not None and len(self.trial_ends) >= trial_cap:
                raise SearchBudgetSpent()
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

    Budgeted.__name__ = Budgeted.__qualname__ = f"Budgeted{tuner_class.__name__}"
    return Budgeted(hypermodel, **kwargs)


def budgeted_random_search(hypermodel, *, search_seconds, **kwargs):
    """A keras-tuner RandomSearch that stops starting trials when the mean trial no longer fits."""
    import keras_tuner

    return budgeted_tuner(keras_tuner.RandomSearch, hypermodel, search_seconds=search_seconds, **kwargs)


def trial_epochs(trial, epochs):
    """`(trained, total)`: the epochs `trial` trained and the epochs its model has in all. A
    Hyperband trial continues from an earlier trial's checkpoint: it trains from
    `tuner/initial_epoch` to `tuner/epochs`. Any other trial trains `epochs` from scratch."""
    values = trial.hyperparameters.values
    if "tuner/epochs" in values:
        total = int(values["tuner/epochs"])
        return total - int(values.get("tuner/initial_epoch", 0)), total
    return epochs, epochs


def begin_search(split, seed):
    """Clear Keras's state, start the budget clock and split the training data for the search.

    Returns `(start, (x, y), (x_train, x_val, y_train, y_val))`.
    """
    import keras

    keras.backend.clear_session()
    gc.collect()
    start = time.monotonic()
    x, y = split.x_train, split.y_train
    return start, (x, y), search_split(x, y, seed)


def softmax_classifier(inputs, features, num_classes, learning_rate):
    """A softmax layer on `features`, as a model compiled with Adam, sparse categorical
    cross-entropy and accuracy (the head of the keras-tuner hypermodels)."""
    import keras

    outputs = keras.layers.Dense(num_classes, activation="softmax")(features)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def kerastuner_search(hypermodel, split, *, start, budget, epochs, args, project_name, search_args, search_kwargs,
                      full_share, fit_full, evaluate, tuner_class=None, tuner_kwargs=None, system="kerastuner"):
    """A budgeted keras-tuner search of `hypermodel` (`RandomSearch` unless `tuner_class` says
    otherwise), then the best hyperparameters retrained on train + validation data for up to
    `--final-epochs`, stopped by the budget (never fewer epochs than the best trial's model had);
    if not even that fits, the best trial's model is kept.

    Args:
        start: monotonic time the budget started.
        epochs: epochs per trial (a `Hyperband` trial's come from its `tuner/epochs`).
        tuner_class: a keras-tuner `Tuner` class; None: `RandomSearch`.
        tuner_kwargs: what `tuner_class` gets besides the hypermodel, objective, seed and
            directory; None: `max_trials=args.max_trials`. Without `max_trials` there, the search
            stops after `args.max_trials` trials (from `pre_create_trial`).
        system: the row's system name.
        search_args, search_kwargs: what `tuner.search` gets (the search split, epochs, ...).
        full_share: size of train + validation data over the search's training part.
        fit_full: `fit_full(model, epochs, callbacks)` fits on train + validation data and
            returns the History.
        evaluate: `evaluate(model)` returns the test accuracy.

    Returns `(result, run)`: the fields every benchmark reports, and a namespace with the tuner,
    the final model, the best trial and its hyperparameters and the trial times.
    """
    import keras
    import keras_tuner

    end_of_budget = start + budget
    tuner_class = keras_tuner.RandomSearch if tuner_class is None else tuner_class
    tuner_kwargs = {"max_trials": args.max_trials} if tuner_kwargs is None else dict(tuner_kwargs)
    with tempfile.TemporaryDirectory(prefix="kt-bench-") as directory:
        tuner = budgeted_tuner(
            tuner_class, hypermodel, search_seconds=SEARCH_SHARE * budget,
            trial_cap=None if "max_trials" in tuner_kwargs else args.max_trials,
            objective=keras_tuner.Objective("val_accuracy", "max"),
            seed=args.seed + 1,  # keras-tuner treats seed 0 as "no seed"
            directory=directory, project_name=project_name, overwrite=True, **tuner_kwargs)
        tuner.search(*search_args, **search_kwargs)
        search_seconds = time.monotonic() - start
        trials = list(tuner.oracle.trials.values())
        completed = [t for t in trials if str(t.status) == "COMPLETED"]
        best_trial = tuner.oracle.get_best_trials(1)[0]
        best_hp = best_trial.hyperparameters
        ends = dict(tuner.trial_ends)
        ordered = [tuner.search_start] + [t for _, t in tuner.trial_ends]
        index = [tid for tid, _ in tuner.trial_ends].index(best_trial.trial_id)
        epochs_by_trial = {tid: trial_epochs(tuner.oracle.trials[tid], epochs)[0] for tid, _ in tuner.trial_ends}
        best_trained, best_total = trial_epochs(best_trial, epochs)
        # Retrain on train + validation within what is left of the budget.
        per_epoch = tuner.inside[best_trial.trial_id] / max(best_trained, 1) * full_share
        affordable = int((end_of_budget - time.monotonic()) // max(per_epoch, 1e-9))
        if affordable >= best_total:
            keras.backend.clear_session()
            model = hypermodel.build(best_hp)
            history = fit_full(model, min(args.final_epochs, affordable),
                               [DeadlineStop.make(end_of_budget, best_total)])
            final = f"retrained {len(history.history['loss'])} epochs on train+val"
        else:
            model = tuner.get_best_models(1)[0]
            final = "kept the best trial's model (no time to retrain)"
        wall = time.monotonic() - start
        test_accuracy = evaluate(model)
        params = int(model.count_params())
    result = {
        "system": system, "dataset": split.name, "budget_s": budget, "epochs_per_trial": epochs,
        "trials_finished": len(completed), "trials_failed": len(trials) - len(completed),
        "test_accuracy": test_accuracy, "params": params, "wall_s": wall, "finished": True,
        "search_s": search_seconds, "best_val_accuracy": float(best_trial.score),
        "best_hyperparameters": best_hp.values, "final_model": final,
        "trial_end_s": [t - start for t in ends.values()],
        "trial_epochs": list(epochs_by_trial.values()), "best_trial_epochs": best_total,
        "notes": f"search {search_seconds:.0f}s; {final}",
    }
    run = types.SimpleNamespace(tuner=tuner, model=model, best_trial=best_trial, best_hp=best_hp, index=index,
                                ordered=ordered, best_interval=ordered[index + 1] - ordered[index],
                                best_epochs=best_trained)
    return result, run


# --------------------------------------------------------------------------- AutoKeras
def read_progress(path):
    events = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                with contextlib.suppress(json.JSONDecodeError):
                    events.append(json.loads(line))
    return events


def run_budgeted_worker(command, *, progress_path, out_path, log_path, budget, cwd, failed_log_copy=None,
                        startup_limit=AUTOKERAS_STARTUP_LIMIT, grace=AUTOKERAS_EVAL_GRACE):
    """Run a worker (`command`) that logs JSON-lines events to `progress_path` and its result to
    `out_path`; kill its process group when it is over budget.

    The budget clock starts at the worker's `"ready"` event (imports and data loading done); the
    worker gets `startup_limit` seconds to reach it, and `grace` seconds more once it logs
    `"final_fit_end"` (for predict/export). When the worker exits without a result and was not
    killed, its log is copied to `failed_log_copy`.

    Returns a namespace: events, result (the JSON or None), killed, why, launched, ready_at, end
    (monotonic times), returncode, log_tail.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=env,
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
            elif now - launched > startup_limit:
                killed, why = True, f"did not start within {startup_limit:.0f}s"
                break
            continue
        fit_done = any(e["event"] == "final_fit_end" for e in events)
        if now - ready_at > budget + (grace if fit_done else 0.0):
            killed, why = True, "budget spent"
            break
    if killed:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    end = time.monotonic()
    events = read_progress(progress_path)
    result = None
    if os.path.exists(out_path):
        with open(out_path, encoding="utf-8") as handle:
            result = json.load(handle)
    with open(log_path, errors="replace") as handle:
        log_tail = handle.read()[-3000:]
    if result is None and not killed and failed_log_copy:
        shutil.copy(log_path, failed_log_copy)
    return types.SimpleNamespace(events=events, result=result, killed=killed, why=why, launched=launched,
                                 ready_at=ready_at, end=end, returncode=process.returncode, log_tail=log_tail)


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


def as_npz_array(x):
    """Arrays as `np.savez` stores them without pickle: texts (object arrays) as fixed-width unicode."""
    x = np.asarray(x)
    return x.astype(str) if x.dtype == object else x


def run_autokeras(split, budget, epochs, args, task="image"):
    """AutoKeras's classifier for `task` on the split, in its own environment, killed at the end
    of the budget. Returns `(result, worker_result)`: the row, and the worker's JSON (or None)."""
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
        np.savez(data_path, x_train=as_npz_array(split.x_train), y_train=split.y_train,
                 x_test=as_npz_array(split.x_test), y_test=split.y_test)
        out_path, progress_path = os.path.join(tmp, "result.json"), os.path.join(tmp, "progress.jsonl")
        command = [args.autokeras_python, WORKER, "--data", data_path, "--out", out_path, "--progress", progress_path,
                   "--directory", os.path.join(tmp, "autokeras"), "--max-trials", str(args.autokeras_trials),
                   "--epochs", str(epochs), "--seed", str(args.seed)]
        if task != "image":
            command += ["--task", task]
        worker = run_budgeted_worker(
            command, progress_path=progress_path, out_path=out_path, log_path=os.path.join(tmp, "worker.log"),
            budget=budget, cwd=tmp,
            failed_log_copy=os.path.join(tempfile.gettempdir(), f"autokeras-worker-{split.name}.log"))
    events, result_json, killed, end = worker.events, worker.result, worker.killed, worker.end
    launched, ready_at = worker.launched, worker.ready_at
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
            notes.insert(0, f"DID NOT FINISH: killed after {end - (ready_at or launched):.0f}s ({worker.why})")
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
            notes.insert(0, f"ERROR: worker exited with code {worker.returncode}")
            result["log_tail"] = worker.log_tail
        if completed:
            best = max(completed, key=lambda t: t.get("metrics", {}).get("val_accuracy", -1))
            result["partial"] = best
            notes.append(f"best completed trial {best['trial']} ({best['block_type']}): val acc "
                         f"{fmt(best.get('metrics', {}).get('val_accuracy'), '.4f')}, its model's test acc "
                         f"{fmt(best.get('test_accuracy'), '.4f')}, {best.get('params')} params "
                         "(search-split model; fit never returned one)")
    result["notes"] = "; ".join(notes)
    return result, result_json


# --------------------------------------------------------------------------- report
def results_table(title, rows, extra_columns=(), preamble=()):
    """A markdown table of result rows. `extra_columns`: `(header, row -> cell)` pairs shown
    between "wall (s)" and "notes"; `preamble`: lines printed between the title and the table."""
    headers = "".join(f" {header} |" for header, _ in extra_columns)
    aligns = "---|" * len(extra_columns)
    lines = [f"### {title}", ""]
    if preamble:
        lines += [*preamble, ""]
    lines += [f"| system | budget (s) | trials finished | test accuracy | params | wall (s) |{headers} notes |",
              f"|---|---:|---:|---:|---:|---:|{aligns}---|"]
    for r in rows:
        trials = "—" if r.get("trials_finished") is None else str(r["trials_finished"])
        if r.get("trials_failed"):
            trials += f" (+{r['trials_failed']} failed)"
        accuracy = fmt(r.get("test_accuracy"), ".4f")
        if r.get("test_accuracy") is None and not r.get("skipped"):
            accuracy = "— (not finished)"
        params = "—" if r.get("params") is None else f"{r['params']:,}"
        extras = "".join(f" {str(cell(r)).replace('|', '/')} |" for _, cell in extra_columns)
        notes = (r.get("notes") or "").replace("|", "/")
        lines.append(f"| {r['system']} | {fmt(r.get('budget_s'), '.0f')} | {trials} | {accuracy} | {params} | "
                     f"{fmt(r.get('wall_s'), '.0f')} |{extras} {notes} |")
    return "\n".join(lines)


def versions(args):
    info = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    for name in ("tensorflow", "keras", "keras_tuner", "autonas", "sklearn"):
        with contextlib.suppress(Exception):
            info[name] = __import__(name).__version__
    info["autokeras_python"] = args.autokeras_python if os.path.exists(args.autokeras_python) else None
    return info


def run_guarded(runner, system, split, budget, epochs, args):
    """`runner(split, budget, epochs, args)` -> `(result, extra)`; a crash becomes a row saying so,
    so that one system's failure does not lose the others' numbers."""
    per_trial = "the library's default epochs" if epochs is None else f"{epochs} epochs"
    say(f"== {split.name} / {system}: budget {budget:.0f}s, {per_trial} per trial")
    try:
        result, extra = runner(split, budget, epochs, args)
    except Exception as error:
        say(traceback.format_exc())
        result = {"system": system, "dataset": split.name, "budget_s": budget, "epochs_per_trial": epochs,
                  "finished": False, "error": repr(error), "notes": f"CRASHED: {error!r}"[:300]}
        extra = None
    brief = {k: result.get(k) for k in ("trials_finished", "test_accuracy", "params", "wall_s", "notes")}
    say(f"   -> {json.dumps(brief, default=str)}")
    return result, extra


def publish(tables, report, *, started, load_before, json_path):
    """Print the tables and a footer (load average before/after, total minutes) to stdout and
    write the report as JSON to `json_path` (when given)."""
    load_after = os.getloadavg()
    report["environment"]["loadavg_before"] = load_before
    report["environment"]["loadavg_after"] = load_after
    report["total_s"] = time.monotonic() - started
    footer = (f"_Machine: {os.cpu_count()} CPUs, load average {load_before[0]:.1f} before / {load_after[0]:.1f} "
              f"after (shared machine: compare systems within this run). Total {report['total_s'] / 60:.1f} min._")
    print("\n\n".join(tables + [footer]), flush=True)
    if json_path:
        with open(json_path, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2, default=str)
        say(f"wrote {json_path}")
