"""Folders of images: checked before anything is trained, read as streamed tf.data pipelines.

A training folder holds one subfolder per class, as `keras.utils.image_dataset_from_directory`
reads it (`images/cat/001.png`, `images/dog/001.png`, ...); Keras decodes and resizes the
images batch by batch, so a folder larger than memory trains too. A folder to predict on may
have class subfolders or not: every image under it is read.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import os

import keras
import tensorflow as tf

from autonas.cli.errors import CommandError

# The formats `keras.utils.image_dataset_from_directory` reads.
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
# Default image size: the first image's, shrunk to fit in this square. The search trains many
# networks; at photo sizes on a CPU a single trial would take most of a 10-minute budget.
DEFAULT_MAX_SIDE = 64
COLOR_MODES = ("grayscale", "rgb", "rgba")
CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


@dataclasses.dataclass(frozen=True)
class ClassFolders:
    """A checked training folder: its class subfolders, images per class, and one image."""

    root: str
    classes: tuple
    counts: tuple
    first_image: str


def image_files(folder):
    """Every image file under `folder` (any depth), sorted."""
    found = []
    for parent, subfolders, files in os.walk(folder):
        subfolders.sort()
        found.extend(os.path.join(parent, name) for name in sorted(files)
                     if name.lower().endswith(IMAGE_EXTENSIONS))
    return found


def check_class_folders(folder):
    """The `ClassFolders` of `folder`.

    Raises:
        CommandError: `folder` is missing or not a folder, has no class subfolders (or one),
            or a class subfolder holds no image.
    """
    if not os.path.exists(folder):
        raise CommandError(f"{folder} does not exist.")
    if not os.path.isdir(folder):
        raise CommandError(f"{folder} is not a folder: give a folder with one subfolder of images per class.")
    classes = sorted(name for name in os.listdir(folder)
                     if os.path.isdir(os.path.join(folder, name)) and not name.startswith("."))
    if not classes:
        loose = len(image_files(folder))
        raise CommandError(f"{folder} has no class subfolders ({loose} images lie in it directly): put each class's "
                           f"images in a subfolder named after the class, e.g. {os.path.join(folder, 'cat', '1.png')}.")
    if len(classes) == 1:
        raise CommandError(f"{folder} has one class subfolder ({classes[0]}): a classifier needs two or more.")
    files = {name: image_files(os.path.join(folder, name)) for name in classes}
    empty = [name for name in classes if not files[name]]
    if empty:
        raise CommandError(f"class folder {os.path.join(folder, empty[0])} holds no images "
                           f"({', '.join(IMAGE_EXTENSIONS)})" + (f"; so do {', '.join(empty[1:])}" if empty[1:] else "")
                           + ".")
    return ClassFolders(root=folder, classes=tuple(classes), counts=tuple(len(files[name]) for name in classes),
                        first_image=files[classes[0]][0])


def first_image_format(path, max_side=DEFAULT_MAX_SIDE):
    """The default `(image_size, color_mode)` from the image at `path`: its size shrunk to fit
    in `max_side` x `max_side` (aspect ratio kept), grayscale for a grey image, else rgb."""
    try:
        height, width, channels = tf.io.decode_image(tf.io.read_file(path), expand_animations=False).shape
    except (tf.errors.OpError, ValueError) as error:
        raise CommandError(f"cannot read the image {path}: {str(error).splitlines()[0]}") from None
    scale = min(1.0, max_side / max(height, width))
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    return size, "grayscale" if channels in (1, 2) else "rgb"


def training_datasets(folders, *, image_size, color_mode, validation_split, seed):
    """`(train, validation)`: unbatched tf.data of `(float32 image, class folder name)`.

    The split is Keras's: the file list shuffled once by `seed`, then cut; training images are
    reshuffled every epoch, validation images are read in a fixed order.
    """
    with contextlib.redirect_stdout(io.StringIO()):  # Keras's "Found N files ...": `autonas fit` says it
        train, validation = keras.utils.image_dataset_from_directory(
            folders.root, labels="inferred", label_mode="int", class_names=list(folders.classes),
            color_mode=color_mode, batch_size=None, image_size=image_size, shuffle=True, seed=seed,
            validation_split=validation_split, subset="both")
    names = tf.constant(folders.classes)

    def named(image, label):
        return image, tf.gather(names, label)

    return train.map(named), validation.map(named)


def prediction_images(folder, *, shape, dtype, batch_size):
    """`(batches, names)`: the images under `folder` as an exported model takes them (`shape`
    and `dtype` from its autonas.json), and each one's path relative to `folder`.

    Raises:
        CommandError: `folder` is missing, not a folder, or holds no image.
    """
    if not os.path.isdir(folder):
        raise CommandError(f"{folder} {'is not a folder' if os.path.exists(folder) else 'does not exist'}: "
                           "this model takes images; give a folder of them (with or without class subfolders).")
    if not image_files(folder):
        raise CommandError(f"{folder} holds no images ({', '.join(IMAGE_EXTENSIONS)}).")
    channels = shape[2] if len(shape) == 3 else 1
    color_mode = {count: mode for mode, count in CHANNELS.items()}.get(channels)
    if color_mode is None:
        raise CommandError(f"the model takes images with {channels} channels; autonas reads 1, 3 or 4.")
    with contextlib.redirect_stdout(io.StringIO()):  # Keras's "Found N files"
        dataset = keras.utils.image_dataset_from_directory(folder, labels=None, color_mode=color_mode,
                                                           batch_size=batch_size, image_size=tuple(shape[:2]),
                                                           shuffle=False)
    target = tf.as_dtype(dtype)

    def as_model_input(images):
        if len(shape) == 2:
            images = images[..., 0]
        if target.is_integer:
            images = tf.clip_by_value(tf.round(images), target.min, target.max)
        return tf.cast(images, target)

    names = [os.path.relpath(path, folder) for path in dataset.file_paths]
    return dataset.map(as_model_input), names
