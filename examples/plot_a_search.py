"""Draw a search: fit digits (bundled, no download) with evolution and with ENAS, and save the
three figures of docs/plots.md. Needs matplotlib (`pip install "autonas[plot]"`).

Run: python examples/plot_a_search.py [FOLDER]   (default: docs/images)
"""
import os
import sys

os.environ.setdefault("AUTONAS_QUIET_START", "1")  # no TensorFlow start-up notices (autonas.quiet_start)

from sklearn.datasets import load_digits  # noqa: E402

import autonas  # noqa: E402


def main(folder):
    os.makedirs(folder, exist_ok=True)
    digits = load_digits()
    x, y = digits.images, digits.target
    trials = autonas.ImageSearchClassifier(time_limit="150s", seed=0, successive_halving=True).fit(x, y)
    autonas.plot_search(trials).savefig(os.path.join(folder, "search.png"), dpi=80)
    autonas.plot_cell(trials.best_genotype_).savefig(os.path.join(folder, "cells.png"), dpi=80)
    one_shot = autonas.ImageSearchClassifier(oracle="enas", time_limit="150s", seed=0).fit(x, y)
    autonas.plot_one_shot(one_shot).savefig(os.path.join(folder, "one_shot.png"), dpi=80)
    print("wrote", ", ".join(os.path.join(folder, name) for name in ("search.png", "cells.png", "one_shot.png")))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join("docs", "images"))
