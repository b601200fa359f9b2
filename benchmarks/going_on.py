"""Is a short retraining from the winning trial's weights worth running?

When a search leaves less time than its winner trained, the fit can keep the winner's model or go
on from its weights, on training + validation data, for the epochs that fit. This runs one trial
(the first architecture, at the search size) of `--trial-epochs` epochs and then goes on for k
epochs (k = 0 keeps the trial's model), each k a separate fit with the same seed, and prints test
accuracy per k: the evidence behind `autonas.engine.retrain.retrain_best` going on for as little
as one epoch.

    python benchmarks/going_on.py --dataset digits --trial-epochs 10 --ks 0,1,3,10 --seeds 0,1,2
    python benchmarks/going_on.py --dataset fashion --trial-epochs 3 --ks 0,1,2,3 --seeds 0,1,2
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import datasets  # noqa: E402


def test_accuracy(split, trial_epochs, k, seed, directory):
    """Test accuracy of one trial of `trial_epochs` gone on for `k` epochs (0: the trial's model)."""
    from autonas import ImageSearchClassifier

    clf = ImageSearchClassifier(max_trials=1, epochs=trial_epochs, final_epochs=max(k, 1), retrain=k > 0,
                                search_filters=16, final_filters=16, search_normal_cells=1, final_normal_cells=1,
                                seed=seed, verbose=0, overwrite=True, directory=directory)
    clf.fit(split.x_train, split.y_train)
    return float(np.mean(clf.predict(split.x_test) == split.y_test))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits", choices=datasets.NAMES)
    parser.add_argument("--trial-epochs", type=int, default=10)
    parser.add_argument("--ks", default="0,1,3,10", help="epochs to go on for, comma-separated")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    scores = {k: [] for k in ks}
    with tempfile.TemporaryDirectory() as directory:
        for seed in seeds:
            split = datasets.load(args.dataset, seed=seed)
            for k in ks:
                scores[k].append(test_accuracy(split, args.trial_epochs, k, seed, directory))
                print(f"seed {seed}, k {k}: {scores[k][-1]:.4f}", file=sys.stderr, flush=True)
    print(f"| epochs gone on (trial: {args.trial_epochs}) | test accuracy, mean (per seed) |")
    print("|---:|---|")
    for k in ks:
        per_seed = ", ".join(f"{s:.4f}" for s in scores[k])
        label = f"{k} (the trial's model, kept)" if k == 0 else str(k)
        print(f"| {label} | {np.mean(scores[k]):.4f} ({per_seed}) |")


if __name__ == "__main__":
    main()
