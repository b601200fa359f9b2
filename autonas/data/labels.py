"""Class labels: validation, the sorted class list, and integer encoding."""
import numbers

import numpy as np


def check_labels(y, n_samples=None):
    """Return `y` as a 1-D numpy array of int, str or bool labels.

    Raises:
        ValueError: on empty, multi-dimensional, missing (None/NaN) or float labels, mixed label
            types, or a length different from `n_samples`.
    """
    if y is None:
        raise ValueError("y is missing: pass one class label per sample.")
    values = _label_array(y)
    if values.ndim != 1:
        raise ValueError(
            f"y must be 1-D, one class label per sample; got shape {values.shape}. "
            "For one-hot labels pass y.argmax(axis=1)."
        )
    if values.size == 0:
        raise ValueError("y is empty: pass at least one labelled sample per class.")
    if n_samples is not None and len(values) != n_samples:
        raise ValueError(f"x has {n_samples} samples but y has {len(values)} labels; they must match.")
    if values.dtype.kind == "f":
        if not np.all(np.isfinite(values)):
            raise ValueError("y contains NaN or infinite labels; drop or fill those samples first.")
        if not np.all(values == np.round(values)):
            raise ValueError("y holds non-integer floats; class labels must be ints, strings or bools.")
        values = values.astype(np.int64)
    if values.dtype.kind == "O":
        kinds = {_label_kind(v) for v in values}
        if None in kinds:
            raise ValueError("y contains None/NaN labels; drop or fill those samples first.")
        if len(kinds) > 1:
            raise ValueError(f"y mixes label types ({sorted(kinds)}); use one type (all ints or all strings).")
        kind = kinds.pop()
        values = values.astype({"str": str, "int": np.int64, "bool": bool}[kind])
    if values.dtype.kind not in "biuU":
        raise ValueError(f"Unsupported label dtype {values.dtype}; use ints, strings or bools.")
    return values


def _label_array(y):
    """`y` as a numpy array; a list goes through dtype object (sorted out by `_label_kind`),
    because numpy would turn `[1, "a"]` into the strings "1" and "a" and hide the mixed types."""
    if hasattr(y, "to_numpy"):
        return np.asarray(y.to_numpy())
    if isinstance(y, np.ndarray):
        return y
    return np.asarray(y, dtype=object)


def _label_kind(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, str):
        return "str"
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return "int"
    raise ValueError(f"Unsupported label {value!r} of type {type(value).__name__}; use ints, strings or bools.")


def fit_classes(labels):
    """The sorted distinct classes of `labels`; at least two are required."""
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError(
            f"y has a single class ({classes[0]!r}); a classifier needs at least two classes."
        )
    return classes


def encode_labels(labels, classes, name="validation y"):
    """Integer indices of `labels` into `classes`; unknown labels are an error, since a class
    the model was not trained on can only be scored as wrong."""
    _check_same_kind(labels, classes, name)
    indices = np.searchsorted(classes, labels)
    indices = np.clip(indices, 0, len(classes) - 1)
    unknown = classes[indices] != labels
    if np.any(unknown):
        raise ValueError(f"{name} has labels not seen in training: {_preview(np.unique(labels[unknown]))}; the "
                         f"classes are {_preview(classes)}. Every class must have training samples: add them to "
                         "the training data, or drop those samples.")
    return indices.astype(np.int64)


def check_scored_labels(labels, classes, name="y"):
    """A ValueError when `labels` cannot be another sample of the model's classes: of another
    kind (ints for a model trained on strings) or with none of them (another model's classes),
    which would score 0 without a word. A few unseen labels only count as wrong, as in
    scikit-learn's classifiers (an unstratified fold may hold a class its training lacked)."""
    _check_same_kind(labels, classes, name)
    if not np.any(np.isin(labels, classes)):
        raise ValueError(f"{name} has none of the model's classes: it has {_preview(np.unique(labels))}, the "
                         f"classes are {_preview(classes)}; score with labels of the classes the model was "
                         "trained on (another model's labels?).")


def _check_same_kind(labels, classes, name):
    if (labels.dtype.kind == "U") != (classes.dtype.kind == "U"):
        raise ValueError(f"{name} holds {_kind_name(labels)} labels but the model's classes are "
                         f"{_kind_name(classes)}: {_preview(classes)}; pass labels of the same kind as in training.")


def _kind_name(values):
    return "string" if values.dtype.kind == "U" else "numeric"


def _preview(values, count=5):
    """The first `count` of `values` as a list, for an error message."""
    shown = np.asarray(values)[:count].tolist()
    return f"{shown}{' ...' if len(values) > count else ''}"


def check_splittable(labels, classes):
    """Raise ValueError when a class has a single sample, so a validation split cannot both train
    on it and score trials with it. `labels` are `encode_labels`'s indices into `classes`."""
    counts = np.bincount(labels, minlength=len(classes))
    if counts.min() < 2:
        lonely = np.asarray(classes)[counts < 2][:5].tolist()
        raise ValueError(f"{int((counts < 2).sum())} class(es) have a single sample (e.g. {lonely}): a class needs "
                         "at least 2, one to train on and one to score trials with; add samples, drop those "
                         "classes, or pass validation_data.")
