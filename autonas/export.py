"""Export a fitted model as a TF SavedModel that serves raw inputs, and check it before keeping it.

An export never leaves a half-written directory at its path, whenever it is interrupted (an
exception, Ctrl-C, SIGKILL, a full disk): the SavedModel is written to a staging directory
beside the path, reloaded and checked, and only then swapped in. Where Linux's
`renameat2(RENAME_EXCHANGE)` is available the swap is one atomic step; elsewhere the old model
is first renamed aside (`.<name>.previous`), the new one renamed into place, and the old one
deleted. Each export starts by cleaning up after an interrupted one: an aside copy without a
model at the path is put back, one beside a model is deleted, and the staging directories of
processes that no longer run are removed. So `path` holds the old model or the new one, complete.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import glob
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
    place, so a failed or interrupted export leaves `path` as it was (see the module's docstring).

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
        OSError: the export could not be written (a full disk, a read-only directory); the
            message names `path` and says that what was there is unchanged.
    """
    path = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    recover_interrupted_export(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True or choose another path.")
    had_model = os.path.exists(path)
    staging = None
    try:
        staging = tempfile.mkdtemp(prefix=f"{_staging_prefix(path)}{os.getpid()}-", dir=parent)
        model.export(staging, format="tf_saved_model", verbose=False)
        with open(os.path.join(staging, METADATA_FILE), "w", encoding="utf-8") as handle:
            json.dump(metadata, handle, indent=2, sort_keys=True)
        _check_parity(model, staging, probe_inputs)
        install_directory(staging, path)
    except (OSError, tf.errors.OpError) as error:
        code, reason = _write_failure(error)
        if code is None:
            raise
        kept = f"the model already at {path} is unchanged" if had_model else f"nothing was written to {path}"
        raise OSError(code, f"Could not write the export to {path} ({reason}); {kept}. Free some space or make the "
                      "folder writable, then export again.") from error
    finally:
        if staging is not None and os.path.exists(staging):
            shutil.rmtree(staging, ignore_errors=True)
    return path


def _write_failure(error):
    """(errno, reason) of an error writing files: an OSError's own; for a TensorFlow op that
    failed to write (TensorFlow's file system reports a full disk as ResourceExhaustedError), the
    errno its message names; (None, None) for any other error."""
    if isinstance(error, OSError):
        return error.errno, error.strerror or str(error)
    for code in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
        if os.strerror(code) in str(error):
            return code, os.strerror(code)
    return None, None


def install_directory(staging, path):
    """Put the complete directory `staging` at `path`, replacing what is there, never leaving
    `path` half-written or, once the call returns or raises, missing when it held something.

    Returns once `staging` no longer exists (the old contents, if any, are deleted).
    """
    if not os.path.exists(path):
        os.replace(staging, path)
        return
    if _exchange(staging, path):  # atomic: `staging` now holds the old model
        shutil.rmtree(staging, ignore_errors=True)  # what is left, the next export removes
        return
    aside = _aside_path(path)
    os.replace(path, aside)
    try:
        os.replace(staging, path)
    except BaseException:
        os.replace(aside, path)  # put the old model back
        raise
    shutil.rmtree(aside, ignore_errors=True)  # what is left, the next export removes


def recover_interrupted_export(path):
    """Clean up after an export to `path` that was interrupted (see the module's docstring).

    Returns:
        True when an aside copy of the old model was put back at `path`.
    """
    path = os.path.abspath(os.fspath(path))
    prefix = _staging_prefix(path)
    for staging in glob.glob(glob.escape(prefix) + "*"):
        pid = staging[len(prefix):].partition("-")[0]
        if not (pid.isdigit() and _process_runs(int(pid))):  # another export may be writing it
            shutil.rmtree(staging, ignore_errors=True)
    aside = _aside_path(path)
    if not os.path.exists(aside):
        return False
    if os.path.exists(path):
        shutil.rmtree(aside)  # interrupted after the new model was in place
        return False
    os.replace(aside, path)  # interrupted between moving the old model aside and the new one in
    return True


def _staging_prefix(path):
    """The start of the names of the staging directories of exports to `path` (a pid follows)."""
    return os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.partial-")


def _aside_path(path):
    return os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.previous")


def _process_runs(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by another user
    return True


def _exchange(first, second):
    """Swap two paths atomically with Linux's renameat2(RENAME_EXCHANGE); False where the system
    or the file system does not offer it (nothing is changed then)."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), second)


def _renameat2():
    with contextlib.suppress(OSError, AttributeError, TypeError):
        function = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).renameat2
        function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        return function
    return None


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
