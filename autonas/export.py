"""Export a fitted model as a TF SavedModel that serves raw inputs, and check it before keeping it."""
from __future__ import annotations

import json
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

METADATA_FILE = "autonas.json"
PARITY_TOLERANCE = 1e-5


def export_saved_model(model, path, *, metadata, probe_inputs, overwrite=False):
    """Write `model` to `path` as a SavedModel with a `serve` signature, plus a JSON sidecar.

    The export is written next to `path`, reloaded with `tf.saved_model.load`, and compared
    with the Keras model on `probe_inputs`; only a model that matches within 1e-5 is moved into
    place, so a failed export leaves nothing at `path`.

    Args:
        model: a Keras model taking raw inputs.
        path: destination directory.
        metadata: JSON-serialisable dict written to `path/autonas.json`.
        probe_inputs: a small batch of raw inputs for the self-check.
        overwrite: replace an existing `path`.

    Returns:
        The absolute path written.

    Raises:
        FileExistsError: `path` exists and `overwrite` is False.
        RuntimeError: the reloaded SavedModel disagrees with the Keras model.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True or choose another path.")
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.partial-", dir=parent)
    try:
        model.export(staging, format="tf_saved_model", verbose=False)
        with open(os.path.join(staging, METADATA_FILE), "w", encoding="utf-8") as handle:
            json.dump(metadata, handle, indent=2, sort_keys=True)
        _check_parity(model, staging, probe_inputs)
        if os.path.exists(path):
            shutil.rmtree(path)
        os.replace(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def _check_parity(model, exported_path, probe_inputs):
    probe = tf.constant(probe_inputs)  # a tensor: Keras cannot predict on numpy string arrays
    expected = np.asarray(model(probe, training=False))
    loaded = tf.saved_model.load(exported_path)  # keep a reference: its variables die with it
    served = loaded.serve(probe).numpy()
    difference = float(np.max(np.abs(expected - served)))
    if not difference <= PARITY_TOLERANCE:
        raise RuntimeError(
            f"The exported SavedModel disagrees with the Keras model (max abs difference {difference:.2e}); "
            "nothing was written. Please report this as a bug."
        )


def jsonable_classes(classes):
    """Classes as plain JSON values (numpy scalars become int / str / bool)."""
    return [c.item() if hasattr(c, "item") else c for c in classes]
