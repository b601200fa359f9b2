"""A tiny `ImageSearchClassifier` search that can SIGKILL itself at a chosen point.

Usage: python resume_search.py DIRECTORY ORACLE OUTPUT.json [--kill WHERE] [--max-trials N]
    [--epochs E]

WHERE is one of
    in-trial:N     during the first epoch of trial N (0-based), after its first batch;
    ending:N       as trial N ends, once its file says COMPLETED and before `oracle.json` does;
    after-trial:N  once N trials have ended and been saved (between trials);
    retrain        during the first epoch of the final retraining.

Every run appends the id of each trial it starts to DIRECTORY/runs.txt. Without --kill the
search runs to the end and OUTPUT.json gets what the test compares: every trial (id,
architecture, status, score), the oracle's saved state, the trial directories on disk, the
runs and the best genotype. A killed run writes nothing.

Trial scores are a hash of the trial's hyperparameters, not the trained model's accuracy: the
models are still built, trained and saved (so the kills land inside real training), but the
search's decisions depend only on the oracle, whose resume is what is under test. Training on
CPU is not bit-reproducible across processes (unseeded weight initialisation, a shuffle order
that depends on how many times the dataset was iterated), so real scores would make an
uninterrupted run differ from itself after the first learning step.
"""
import argparse
import hashlib
import json
import os
import signal
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from autonas import ImageSearchClassifier  # noqa: E402
from autonas.engine.tuner import SearchTuner  # noqa: E402
from autonas.oracles.evolution import RegularizedEvolutionOracle  # noqa: E402
from autonas.oracles.recovery import RecoverableOracle  # noqa: E402
from autonas.tasks import base  # noqa: E402  (the classifier calls the engine's functions through it)

OBJECTIVE = keras_tuner.Objective("val_accuracy", direction="max")


def pseudo_score(values):
    """A score in [0, 1) that depends only on the hyperparameter values."""
    text = json.dumps(values, sort_keys=True)
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 16**8


def die():
    os.kill(os.getpid(), signal.SIGKILL)


class KillAfterFirstBatch(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        die()


def install_hooks(kill, runs_path):
    """Patch the tuner, oracle and classifier: pseudo-scores, a log of runs, and `kill`."""
    where, _, number = (kill or "").partition(":")
    original_run_trial = SearchTuner.run_trial
    original_on_trial_end = SearchTuner.on_trial_end
    original_write_trial_file = RecoverableOracle.write_trial_file
    original_retrain_best = base.retrain_best

    def run_trial(self, trial, *args, callbacks=(), **kwargs):
        with open(runs_path, "a", encoding="utf-8") as handle:
            handle.write(f"{trial.trial_id}\n")
        if where == "in-trial" and int(trial.trial_id) == int(number):
            callbacks = [*callbacks, KillAfterFirstBatch()]
        metrics = original_run_trial(self, trial, *args, callbacks=callbacks, **kwargs)
        metrics["val_accuracy"] = pseudo_score(trial.hyperparameters.values)
        return metrics

    def on_trial_end(self, trial):
        original_on_trial_end(self, trial)
        if where == "after-trial" and len(self.oracle.end_order) == int(number):
            die()

    def write_trial_file(self, trial):
        original_write_trial_file(self, trial)
        if where == "ending" and int(trial.trial_id) == int(number) and trial.status == "COMPLETED":
            die()

    def retrain_best(*args, **kwargs):
        if where == "retrain":
            original_fit = keras.Model.fit
            keras.Model.fit = lambda model, *a, callbacks=(), **k: original_fit(
                model, *a, callbacks=[*callbacks, KillAfterFirstBatch()], **k)
        return original_retrain_best(*args, **kwargs)

    SearchTuner.run_trial = run_trial
    SearchTuner.on_trial_end = on_trial_end
    RecoverableOracle.write_trial_file = write_trial_file
    base.retrain_best = retrain_best


def make_oracle(name, max_trials):
    if name == "evolution":
        # A population smaller than max_trials, so that the search evolves after a few trials.
        return RegularizedEvolutionOracle(objective=OBJECTIVE, max_trials=max_trials, population_size=2,
                                          sample_size=2, seed=0)
    return name


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("oracle", choices=["evolution", "reinforce", "random"])
    parser.add_argument("output")
    parser.add_argument("--kill", default=None)
    parser.add_argument("--max-trials", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args(argv)
    os.makedirs(args.directory, exist_ok=True)
    runs_path = os.path.join(args.directory, "runs.txt")
    install_hooks(args.kill, runs_path)
    digits = load_digits()
    images = (digits.images[:300] * (255 / 16)).round().astype(np.uint8)
    clf = ImageSearchClassifier(max_trials=args.max_trials, epochs=args.epochs, final_epochs=1,
                                oracle=make_oracle(args.oracle, args.max_trials), num_blocks=1, search_filters=4,
                                final_filters=4, operations=["conv_3x3", "max_pool_3x3", "identity"],
                                batch_size=32, verbose=0, seed=0, directory=args.directory)
    clf.fit(images, digits.target[:300])
    project = os.path.join(args.directory, clf.project_name)
    with open(os.path.join(project, "oracle.json"), encoding="utf-8") as handle:
        state = json.load(handle)
    with open(runs_path, encoding="utf-8") as handle:
        runs = handle.read().split()
    trials = clf.leaderboard_.sort_values("trial")[["trial", "architecture", "score", "status"]]
    result = {
        "trials": trials.to_dict("records"),
        "start_order": state["start_order"],
        "end_order": state["end_order"],
        "oracle_state": state.get("autonas"),
        "seed_state": state["seed_state"],
        "trial_dirs": sorted(d for d in os.listdir(project) if d.startswith("trial_")),
        "runs": runs,
        "best": str(clf.best_genotype_),
        "best_score": clf.best_score_,
    }
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
