"""One worker of a two-process MultiWorkerMirroredStrategy search (TF_CONFIG set by the caller).

Usage: TF_CONFIG=... python multi_worker_search.py DIRECTORY OUTPUT.json
Runs a two-trial search with retraining on digits, with seed=None (the chief's seed is shared),
and writes what the test compares across workers: the leaderboard, the chosen architecture,
the final model's predictions, and where the search was written.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from autonas import ImageSearchClassifier  # noqa: E402

directory, output_path = sys.argv[1:3]
digits = load_digits()
images = (digits.images * (255 / 16)).round().astype(np.uint8)
# 577 training samples: the last global batch of 32 holds one, which would leave one worker's share
# empty: training must leave that batch out rather than fail.
x_train, y_train, x_test, y_test = images[:721], digits.target[:721], images[1200:], digits.target[1200:]
clf = ImageSearchClassifier(max_trials=2, epochs=3, final_epochs=3, num_blocks=2, search_filters=8, final_filters=8,
                            operations=["conv_3x3", "max_pool_3x3", "identity"], batch_size=16, verbose=0,
                            oracle="evolution", directory=directory, distribution_strategy="multi_worker_mirrored",
                            time_limit=3600)  # the budget checks run, and must agree across workers
clf.fit(x_train, y_train)
board = clf.leaderboard()
result = {
    "scores": board["score"].tolist(),
    "completed": int((board["status"] == "COMPLETED").sum()),
    "genotype": clf.best_genotype_.to_dict(),
    "retrained": clf.retrained_size_ is not None,
    "test_accuracy": float(clf.score(x_test, y_test)),
    "probabilities": clf.predict_proba(x_test[:20]).round(6).tolist(),
    "written": sorted(os.listdir(directory)),
}
with open(output_path, "w", encoding="utf-8") as handle:
    json.dump(result, handle)
