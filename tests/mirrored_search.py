"""Run a small image search under MirroredStrategy over two logical CPU devices, in a fresh
process (logical devices must be configured before TensorFlow starts its runtime).

Usage: python mirrored_search.py EXPORT_DIR OUTPUT.json
Writes the replica count, the global batch size the trials saw, the test accuracy and the
export's parity with predict_proba.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from autonas import ImageSearchClassifier  # noqa: E402

export_dir, output_path = sys.argv[1:3]
digits = load_digits()
images = (digits.images * (255 / 16)).round().astype(np.uint8)
x_train, y_train, x_test, y_test = images[:800], digits.target[:800], images[1200:], digits.target[1200:]

clf = ImageSearchClassifier(max_trials=1, epochs=2, final_epochs=8, num_blocks=2, search_filters=8, final_filters=8,
                            operations=["conv_3x3", "max_pool_3x3", "identity"], batch_size=16, verbose=0, seed=0,
                            distribution_strategy="mirrored")
clf.fit(x_train, y_train)
strategy = clf.model_.distribute_strategy
clf.export(export_dir)
loaded = tf.saved_model.load(export_dir)
served = loaded.serve(tf.constant(x_test[:37])).numpy()
result = {
    "replicas": int(strategy.num_replicas_in_sync),
    "strategy": type(strategy).__name__,
    "trials": int((clf.leaderboard()["status"] == "COMPLETED").sum()),
    "retrained": clf.retrained_size_ is not None,
    "test_accuracy": float(clf.score(x_test, y_test)),
    "export_max_abs_diff": float(np.max(np.abs(served - clf.predict_proba(x_test[:37])))),
}
with open(output_path, "w", encoding="utf-8") as handle:
    json.dump(result, handle)
