"""One worker of a two-process MultiWorkerMirroredStrategy search (TF_CONFIG set by the caller).

Usage: TF_CONFIG=... python multi_worker_search.py DIRECTORY OUTPUT.json
Writes the error `fit` raised (autonas refuses multi-worker training, which Keras 3's fit cannot
do: keras-team/keras#20585) and whether anything was written to DIRECTORY.
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
clf = ImageSearchClassifier(max_trials=1, epochs=2, num_blocks=2, search_filters=8,
                            operations=["conv_3x3", "max_pool_3x3", "identity"], batch_size=16, verbose=0, seed=0,
                            retrain=False, directory=directory, distribution_strategy="multi_worker_mirrored")
try:
    clf.fit(images[:400], digits.target[:400])
    error = None
except ValueError as raised:
    error = str(raised)
with open(output_path, "w", encoding="utf-8") as handle:
    json.dump({"error": error, "directory_written": os.path.exists(directory)}, handle)
