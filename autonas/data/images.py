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
# The model normalises pixels in float32, with their variance as a float32 constant: pixels of
# 1e20 made fit fail inside Keras ("Can't convert Python sequence with a value out of range"),
# and larger ones overflowed the statistics to NaN. A bound far inside float32's 3.4e38 for the
# variance (at most the square of the largest magnitude) refuses them before training.
MAX_PIXEL_MAGNITUDE = 1e18


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
        self.check_sample_shape(x.shape[1:], name)
        self.check_dtype(x.dtype, name)
        return x.astype(self.dtype, copy=False)

    def check_dataset(self, dataset, batch_size, name="x"):
        """Validate a `tf.data.Dataset` of images (or `(image, ...)` tuples), batched or not,
        for prediction; returns a dataset of image batches. Dimensions the dataset leaves
        unknown (a generator's) are left to the model."""
        check_finite_dataset(dataset, name)
        if isinstance(dataset.element_spec, tuple):
            dataset = dataset.map(lambda image, *rest: image)
        element = dataset.element_spec
        self.check_dtype(element.dtype.as_numpy_dtype, name)
        if element.shape.rank is None:
            return dataset
        batched = element.shape.rank != len(self.shape)  # any other rank reads as batches
        sample_shape = element.shape[1:] if batched else element.shape
        if not sample_shape.is_compatible_with(self.shape):
            self.check_sample_shape(tuple(sample_shape), name)
        return dataset if batched else dataset.batch(batch_size)

    def check_sample_shape(self, shape, name):
        """Raise ValueError unless one image of `shape` is shaped as in training."""
        if tuple(shape) != tuple(self.shape):
            raise ValueError(
                f"{name} has images of shape {tuple(shape)}, but the model was trained on {tuple(self.shape)}: "
                "pass images of the training's size and channel count (resize them, and add, drop or convert "
                "the channel axis as the training images had it)."
            )

    def check_dtype(self, dtype, name):
        """Raise ValueError unless pixels of `dtype` convert to the trained dtype without changing
        kind (float64 to float32 does; float to uint8 would scale 0-1 pixels to 0)."""
        dtype = np.dtype(dtype)
        check_pixel_dtype(dtype, name)
        if not np.can_cast(dtype, self.dtype, casting="same_kind"):
            raise ValueError(f"{name} has dtype {dtype}, but the model was trained on {self.dtype} pixels: pass "
                             f"pixels in the training's dtype and range, e.g. x.astype('{self.dtype}') when the "
                             "values already are in it.")


def check_images(x, name="x"):
    """Return `x` as a numpy array of images, (N, H, W) or (N, H, W, C), finite and numeric.

    Bool pixels are refused rather than read as 0/1: a mask passed for 0-255 pixels would train
    (or predict) on values the user did not mean, so the conversion is theirs to write.

    Raises:
        ValueError: for empty input, images of different shapes, a wrong rank, non-numeric,
            non-finite or huge (above `MAX_PIXEL_MAGNITUDE`) pixels, empty or single-pixel
            images, images without channels.
    """
    try:
        x = np.asarray(x)
    except ValueError:  # ragged nested lists
        raise ValueError(f"{name} holds images of different shapes {_distinct_shapes(x)}: resize them to one size "
                         "(and one channel count) first, e.g. with tf.image.resize, then stack them.") from None
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{name} is empty: pass at least one image per class.")
    check_pixel_dtype(x.dtype, name)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{name} must have shape (N, H, W) or (N, H, W, C), got {x.shape}. "
            "Reshape flat vectors first, e.g. x.reshape(-1, 8, 8); pass a single image as x[None]."
        )
    check_image_sides(x.shape[1:], name)
    if x.dtype.kind == "f":
        bad = np.count_nonzero(~np.isfinite(x))
        if bad:
            raise ValueError(f"{name} contains {bad} NaN or infinite pixel values; clean or drop those images.")
        largest = max(float(x.max()), -float(x.min()))  # no copy of a large array, as abs() would make
        if largest > MAX_PIXEL_MAGNITUDE:
            raise ValueError(f"{name} has pixel values up to {largest:.3g} in magnitude, beyond the "
                             f"{MAX_PIXEL_MAGNITUDE:.0e} the model's float32 normalisation can hold: rescale the "
                             "pixels first, e.g. x / np.abs(x).max().")
    return x


def check_pixel_dtype(dtype, name):
    """Raise ValueError unless `dtype` holds numeric pixels, with the fix for what it holds."""
    dtype = np.dtype(dtype)
    if dtype.kind in "uif":
        return
    if dtype.kind == "b":
        raise ValueError(f"{name} holds bool pixels; convert them to numbers first: x.astype('uint8') for 0/1, "
                         "or x.astype('uint8') * 255 for black and white.")
    if dtype.kind == "O":
        raise ValueError(f"{name} is an array of Python objects (dtype object), not of pixels: stack equally sized "
                         "numeric images into one array, e.g. np.stack(images).astype('uint8').")
    raise ValueError(f"{name} must hold numeric pixels (uint8 or float), got dtype {dtype}. "
                     "Decode images to arrays first, e.g. with keras.utils.load_img.")


def _distinct_shapes(images):
    """The first few distinct shapes among `images`, for an error message."""
    shapes = []
    for image in images:
        shape = np.shape(image) if not isinstance(image, (list, tuple)) else _list_shape(image)
        if shape not in shapes:
            shapes.append(shape)
    return ", ".join(str(shape) for shape in shapes[:4])


def _list_shape(value):
    try:
        return np.asarray(value).shape
    except ValueError:
        return "ragged"


def check_image_sides(shape, name):
    """Raise ValueError for images (of `shape`, (H, W) or (H, W, C)) without rows, columns or
    channels, or of a single pixel: cells search convolutions over space, and a 1x1 image has
    none (a model trained on it means nothing)."""
    sides = tuple(shape)[:2]
    if len(shape) == 3 and shape[2] < 1:
        raise ValueError(f"{name} has images of shape {tuple(shape)}, without channels: pass (N, H, W) for one "
                         "channel, or (N, H, W, C) with at least one channel.")
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
    check_finite_dataset(dataset, "The dataset")
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
    check_image_sides(tuple(sample_shape), "Dataset images")
    check_pixel_dtype(image_spec.dtype.as_numpy_dtype, "Dataset images")
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


def check_finite_dataset(dataset, name):
    """Raise ValueError for a dataset that repeats forever: fit reads it to the end once (for
    the labels and the pixel statistics) and predict reads it all, so either would never return."""
    if dataset.cardinality() == tf.data.INFINITE_CARDINALITY:
        raise ValueError(f"{name} is infinite (it repeats forever, e.g. after .repeat()), so it would be read "
                         "without end: pass the dataset without .repeat(), or cut it with .take(n); epochs are "
                         "the classifier's to repeat.")


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
