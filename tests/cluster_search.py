"""One process of a multi-worker search on digits (its part given by the KERASTUNER_* variables).

Usage: KERASTUNER_TUNER_ID=... KERASTUNER_ORACLE_IP=... KERASTUNER_ORACLE_PORT=...
       python cluster_search.py DIRECTORY OUTPUT.json ORACLE MAX_TRIALS {classifier,tuner}

"classifier" searches with `ImageSearchClassifier.fit`, "tuner" with `SearchTuner` directly.
Writes what this process saw: on the chief every trial (id, status, values, score) and which
worker each was given to; on a worker the trials it ran (and, for the classifier, what `predict`
says).
"""
import glob
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from autonas import ImageSearchClassifier  # noqa: E402
from autonas.data.images import spec_from_array  # noqa: E402
from autonas.data.pipeline import from_arrays  # noqa: E402
from autonas.engine.tuner import SearchTuner  # noqa: E402
from autonas.oracles import make_oracle  # noqa: E402
from autonas.space.hypermodel import CellHyperModel, CellSearchSpace  # noqa: E402
from autonas.space.network import NetworkSize  # noqa: E402

OPERATIONS = ["conv_3x3", "max_pool_3x3", "identity", "sep_conv_3x3"]

directory, output_path, oracle_name, max_trials, mode = sys.argv[1:6]
max_trials = int(max_trials)
digits = load_digits()
images = (digits.images * (255 / 16)).round().astype(np.uint8)
x, y = images[:300], digits.target[:300]


def trial_record(trial):
    return {"id": trial.trial_id, "status": str(trial.status), "values": dict(trial.hyperparameters.values),
            "score": trial.score}


def with_classifier():
    clf = ImageSearchClassifier(max_trials=max_trials, epochs=1, final_epochs=1, num_blocks=1, search_filters=4,
                                final_filters=4, operations=OPERATIONS, batch_size=32, seed=0, oracle=oracle_name,
                                directory=directory, overwrite=True, verbose=1)
    clf.fit(x, y)
    result = {"role": clf.search_role_}
    if clf.search_role_ == "worker":
        result["trials_run"] = clf.worker_trials_
        try:
            clf.predict(x[:2])
            result["predict"] = "worked"
        except NotFittedError as error:
            result["predict"] = f"NotFittedError: {error}"
        return result
    # The trials as keras-tuner saved them in the shared directory (the leaderboard shows
    # architectures, not hyperparameter values).
    trials = [trial_record(keras_tuner.engine.trial.Trial.load(path))
              for path in sorted(glob.glob(os.path.join(directory, clf.project_name, "trial_*", "trial.json")))]
    result.update(trials=trials, leaderboard_trials=sorted(clf.leaderboard()["trial"]),
                  trial_workers=clf.trial_workers_, best_score=float(clf.best_score_),
                  train_accuracy=float(clf.score(x, y)))
    return result


def with_tuner():
    spec = spec_from_array(x)
    data = from_arrays(x[:240], y[:240], x[240:], y[240:], batch_size=32, seed=0)
    space = CellSearchSpace(OPERATIONS, num_blocks=1)
    hypermodel = CellHyperModel(space, inputs_builder=spec.build_inputs, num_classes=10,
                                size=NetworkSize(filters=4, normal_cells=1))
    oracle = make_oracle(oracle_name, objective=keras_tuner.Objective("val_accuracy", "max"), max_trials=max_trials,
                         seed=0, hyperparameters=space.hyperparameters())
    tuner = SearchTuner(hypermodel, oracle, directory=directory, project_name="tuner_search", overwrite=True)
    tuner.search(data.train, validation_data=data.validation, epochs=1, verbose=0)
    if tuner.cluster.is_worker:
        return {"role": "worker", "trials_run": [t.trial_id for t in tuner.finished_trials]}
    return {"role": tuner.cluster.role, "trials": [trial_record(t) for t in tuner.oracle.trials.values()],
            "trial_workers": tuner.trial_workers,
            "best_score": tuner.oracle.get_best_trials(1)[0].score}


result = with_classifier() if mode == "classifier" else with_tuner()
with open(output_path, "w", encoding="utf-8") as handle:
    json.dump(result, handle)
print("done", flush=True)
