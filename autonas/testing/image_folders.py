"""Folders of images in the `image_dataset_from_directory` layout, for testing the command line."""
from __future__ import annotations

import os

import numpy as np
import tensorflow as tf


def write_png(path, pixels):
    """`pixels` ((H, W) grey or (H, W, C)) as a PNG at `path`, creating its folder."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pixels = np.asarray(pixels, dtype=np.uint8)
    tf.io.write_file(path, tf.io.encode_png(pixels[..., None] if pixels.ndim == 2 else pixels))


def write_digit_folders(root, digits, classes=(0, 1, 2), per_class=40):
    """`root/<digit>/<n>.png`, 8x8 grey, `per_class` images of each digit in `classes` from
    `digits = (images, labels)`; returns `root`."""
    images, labels = digits
    for digit in classes:
        for n, image in enumerate(images[labels == digit][:per_class]):
            write_png(os.path.join(root, str(digit), f"{n:03d}.png"), image)
    return root
