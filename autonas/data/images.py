"""Image inputs: validation, per-channel statistics, and the model's preprocessing layers.

Pixels reach the model raw (the dtype the user trained with) and are normalised inside it, so
an exported model serves raw pixels.
"""
from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from autonas.data.labels import check_labels

_CHUNK = 4096


@dataclasses.dataclass(frozen=True)
class ImageInputSpec:
    """What one input image looks like, and the statistics the model normalises with.

    Attributes:
        shape: one image as the user passes it, `(H, W)` or `(H, W, C)`.
        dtype: numpy dtype name of the pixels, e.g. "uint8" or "float32".
        mean, variance: per-channel statistics of the training images.
    """

    shape: tuple
    dtype: str
    mean: tuple
    variance: tuple

    def build_inputs(self):
        """`(inputs, features)`: a raw-pixel Keras Input and the normalised float tensor."""
        inputs = keras.Input(shape=self.shape, dtype=self.dtype, name="pixels")
        x = inputs
        if len(self.shape) == 2:
            x = layers.Reshape((*self.shape, 1), name="add_channel")(x)
        x = layers.Normalization(axis=-1, mean=list(self.mean), variance=list(self.variance), name="normalize")(x)
        return inputs, x

    @property
    def spatial_shape(self):
        """The shape the cells see, without channels: (height, width)."""
        return tuple(self.shape[:2])

    def to_dict(self):
        return {"shape": list(self.shape), "dtype": self.dtype}

    def check(self, x, name="x"):
        """Validate images for prediction against this spec; returns them in the trained dtype."""
        x = check_images(x, name=name)
        if x.shape[1:] != tuple(self.shape):
            raise ValueError(
                f"{name} has images of shape {x.shape[1:]}, but the model was trained on {tuple(self.shape)}."
            )
        if x.dtype != np.dtype(self.dtype):
            if not np.can_cast(x.dtype, self.dtype, casting="same_kind"):
                raise ValueError(
                    f"{name} has dtype {x.dtype}, but the model was trained on {self.dtype} pixels; "
                    f"convert with x.astype('{self.dtype}')."
                )
            x = x.astype(self.dtype)
        return x


def check_images(x, name="x"):
    """Return `x` as a numpy array of images, (N, H, W) or (N, H, W, C), finite and numeric.

    Raises:
        ValueError: for empty input, a wrong rank, non-numeric or non-finite pixels.
    """
    try:
        x = np.asarray(x)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"{name} must be an array of equally sized images: {error}") from None
    if x.size == 0:
        raise ValueError(f"{name} is empty: pass at least one image per class.")
    if x.dtype.kind not in "uif":
        raise ValueError(
            f"{name} must hold numeric pixels (uint8 or float), got dtype {x.dtype}. "
            "Decode images to arrays first, e.g. with keras.utils.load_img."
        )
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{name} must have shape (N, H, W) or (N, H, W, C), got {x.shape}. "
            "Reshape flat vectors first, e.g. x.reshape(-1, 8, 8)."
        )
    if x.dtype.kind == "f":
        bad = np.count_nonzero(~np.isfinite(x))
        if bad:
            raise ValueError(f"{name} contains {bad} NaN or infinite pixel values; clean or drop those images.")
    check_image_sides(x.shape[1:3], name)
    return x


def check_image_sides(sides, name):
    """Raise ValueError for images without rows or columns, or of a single pixel: cells search
    convolutions over space, and a 1x1 image has none (a model trained on it means nothing)."""
    if min(sides) < 1:
        raise ValueError(f"{name} has empty images of shape {tuple(sides)}: every image needs at least one row "
                         "and one column.")
    if tuple(sides) == (1, 1):
        raise ValueError(f"{name} holds single-pixel images (1x1): there is no spatial structure to search "
                         "convolutions over. Pass the images at their real size, or use a tabular model for "
                         "per-sample feature vectors.")


def spec_from_array(x):
    """An `ImageInputSpec` for validated images `x`, with per-channel mean and variance."""
    stats = _RunningMoments()
    for start in range(0, len(x), _CHUNK):
        stats.add(x[start:start + _CHUNK])
    mean, variance = stats.result()
    return ImageInputSpec(shape=tuple(int(s) for s in x.shape[1:]), dtype=x.dtype.name, mean=mean, variance=variance)


class _RunningMoments:
    """Per-channel mean and variance accumulated over batches, in float64."""

    def __init__(self):
        self.count = 0
        self.total = None
        self.total_sq = None

    def add(self, batch):
        batch = np.asarray(batch, dtype=np.float64)
        flat = batch.reshape(-1, 1) if batch.ndim == 3 else batch.reshape(-1, batch.shape[-1])
        self.count += flat.shape[0]
        total, total_sq = flat.sum(axis=0), np.square(flat).sum(axis=0)
        self.total = total if self.total is None else self.total + total
        self.total_sq = total_sq if self.total_sq is None else self.total_sq + total_sq

    def result(self):
        mean = self.total / self.count
        variance = np.maximum(self.total_sq / self.count - np.square(mean), 0.0)
        return tuple(float(v) for v in mean), tuple(float(v) for v in variance)


def scan_image_dataset(dataset):
    """One pass over a `tf.data.Dataset` of `(image, label)`, batched or not.

    Returns:
        `(spec, labels, batched)`: the input spec with statistics, all labels as a numpy
        array, and whether the dataset yields batches.

    Raises:
        ValueError: for a dataset that does not yield (image, label) pairs, non-numeric or
            non-finite pixels, or bad labels.
    """
    spec = dataset.element_spec
    if not (isinstance(spec, tuple) and len(spec) == 2):
        raise ValueError(
            "A tf.data.Dataset for fit must yield (image, label) pairs; got elements of "
            f"{spec}. Use dataset.map(lambda x, y: (x, y)) to shape it."
        )
    image_spec, label_spec = spec
    if label_spec.shape.rank not in (0, 1):
        raise ValueError(f"Dataset labels must be scalars (or batches of scalars), got shape {label_spec.shape}.")
    batched = label_spec.shape.rank == 1
    sample_shape = image_spec.shape[1:] if batched else image_spec.shape
    if sample_shape.rank not in (2, 3) or not sample_shape.is_fully_defined():
        raise ValueError(
            f"Dataset images must have a fixed shape (H, W) or (H, W, C), got {sample_shape}. "
            "Resize them in the pipeline first, e.g. with tf.image.resize."
        )
    check_image_sides(sample_shape[:2], "Dataset images")
    if not (image_spec.dtype.is_integer or image_spec.dtype.is_floating):
        raise ValueError(f"Dataset images must hold numeric pixels, got dtype {image_spec.dtype.name}.")
    stats = _RunningMoments()
    labels = []
    for images, batch_labels in dataset.as_numpy_iterator() if batched else dataset.batch(256).as_numpy_iterator():
        check_images(images, name="the dataset's images")
        stats.add(images)
        labels.append(np.asarray(batch_labels))
    if not labels:
        raise ValueError("The dataset is empty: it must yield at least one (image, label) pair per class.")
    labels = np.concatenate(labels)
    if labels.dtype.kind == "O":  # tf.string labels arrive as bytes
        labels = np.array([v.decode("utf-8") if isinstance(v, bytes) else v for v in labels])
    labels = check_labels(labels)
    mean, variance = stats.result()
    shape = tuple(int(s) for s in sample_shape)
    spec = ImageInputSpec(shape=shape, dtype=np.dtype(image_spec.dtype.as_numpy_dtype).name, mean=mean,
                          variance=variance)
    return spec, labels, batched


def label_lookup(classes):
    """A TF function mapping raw labels (as in `classes`) to their integer index."""
    if classes.dtype.kind == "U":
        keys = tf.constant(classes.astype(str))
    else:
        keys = tf.constant(classes.astype(np.int64))
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(keys, tf.range(len(classes), dtype=tf.int64)), default_value=-1)

    def lookup(label):
        if keys.dtype == tf.string:
            return table.lookup(tf.strings.as_string(label) if label.dtype != tf.string else label)
        return table.lookup(tf.cast(label, tf.int64))

    return lookup
