"""Search an image classifier on scikit-learn's digits (bundled, no download) and export it.

Run: python examples/quickstart.py
The last line printed is one JSON object: test accuracy, trials, seconds, and more.
"""
import json
import os
import tempfile
import time

os.environ.setdefault("AUTONAS_QUIET_START", "1")  # no TensorFlow start-up notices (autonas.quiet_start)

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import autonas  # noqa: E402


def main():
    start = time.monotonic()
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.images, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    # Two minutes: trial epochs and the retraining are sized to it (docs/how-a-fit-works.md).
    clf = autonas.ImageSearchClassifier(time_limit="2m", seed=0)
    clf.fit(x_train, y_train)
    accuracy = clf.score(x_test, y_test)
    print(clf.leaderboard()[["trial", "score", "params", "epochs", "seconds", "status"]].to_string(index=False))
    print("best architecture:", clf.best_genotype_)
    export_dir = os.path.join(tempfile.mkdtemp(prefix="autonas-quickstart-"), "digits_model")
    clf.export(export_dir)
    print("exported SavedModel to", export_dir)
    print(json.dumps({
        "test_accuracy": round(float(accuracy), 4),
        "trials": int((clf.leaderboard()["status"] == "COMPLETED").sum()),
        "seconds": round(time.monotonic() - start, 1),
        "best_val_accuracy": round(clf.best_score_, 4),
        "params": int(clf.model_.count_params()),
        "export_dir": export_dir,
    }))


if __name__ == "__main__":
    main()
