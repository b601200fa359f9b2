"""Image data sets for the benchmarks, from what is installed locally: nothing is downloaded.

Each loader returns a `Split`: uint8 images `(N, H, W)` and int64 labels, train and test, fixed
by the seed, so every system in a benchmark sees exactly the same arrays.

- `digits`: scikit-learn's 1,797 real 8x8 handwritten digits (pixel values 0..16), split 75/25,
  stratified.
- `fashion`: a stratified subset of Fashion-MNIST (28x28, 10 classes) from the Debian package
  `dataset-fashion-mnist` (`apt-get install dataset-fashion-mnist`), idx files read with numpy;
  the training subset is drawn from the official 60,000 training images and the test subset
  from the official 10,000 test images.
- `cifar10`: a stratified subset of CIFAR-10 (32x32x3, 10 classes) from the JPEG tarball in
  `../shared/data/images/cifar10-images-jpg.tar.gz` (or the path in `CIFAR10_TARBALL`),
  decoded with Pillow; JPEG re-encodings, so pixels are close to, not identical with, the
  original. The training subset comes from its 50,000 training images, the test subset from
  its 10,000 test images.

Example:
    >>> from benchmarks.datasets import load
    >>> split = load("digits", seed=0)
    >>> split.x_train.shape, split.x_test.shape
    ((1347, 8, 8), (450, 8, 8))
"""
from __future__ import annotations

import dataclasses
import gzip
import io
import os
import tarfile

import numpy as np

# Where the Debian package puts the files (`dpkg -L dataset-fashion-mnist`); the environment
# variable FASHION_MNIST_DIR points elsewhere.
FASHION_DIRS = ("/usr/share/datasets/fashion-mnist",)
FASHION_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
CIFAR10_TARBALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "images",
                               "cifar10-images-jpg.tar.gz")
NAMES = ("digits", "fashion", "cifar10")


class DatasetUnavailable(RuntimeError):
    """The data set is not installed on this machine; the message says how to install it."""


@dataclasses.dataclass(frozen=True)
class Split:
    """A fixed train/test split of one data set."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    description: str

    @property
    def num_classes(self):
        return int(len(np.unique(self.y_train)))


def _stratified_indices(labels, size, rng):
    """`size` indices of `labels`, class shares kept (rounded), in random order."""
    if size >= len(labels):
        return rng.permutation(len(labels))
    classes, counts = np.unique(labels, return_counts=True)
    quotas = np.floor(counts / len(labels) * size).astype(int)
    # Hand out what rounding left over to the classes with the largest remainders.
    remainders = counts / len(labels) * size - quotas
    for index in np.argsort(-remainders)[: size - quotas.sum()]:
        quotas[index] += 1
    chosen = [rng.choice(np.flatnonzero(labels == c), q, replace=False) for c, q in zip(classes, quotas)]
    return rng.permutation(np.concatenate(chosen))


def load_digits(seed=0, test_share=0.25):
    """scikit-learn's digits as uint8 (values 0..16), stratified train/test split."""
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    digits = sk_load_digits()
    images = digits.images.astype(np.uint8)
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=test_share, random_state=seed,
                                                        stratify=labels)
    return Split("digits", x_train, y_train, x_test, y_test,
                 f"sklearn digits 8x8, {len(x_train)} train / {len(x_test)} test (stratified, seed {seed})")


def _read_idx(path):
    """An idx file (gzip or plain) as a numpy array (the format of the MNIST family)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:  # magic: two zero bytes, then 0x08 = uint8
        raise ValueError(f"{path} is not an idx file of unsigned bytes.")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape} but holds {data.size} values.")
    return data.reshape(shape)


def fashion_directory():
    """The directory holding the Fashion-MNIST idx files, or raise `DatasetUnavailable`."""
    candidates = [os.environ["FASHION_MNIST_DIR"]] if os.environ.get("FASHION_MNIST_DIR") else list(FASHION_DIRS)
    for directory in candidates:
        if all(os.path.exists(os.path.join(directory, name)) for name in FASHION_FILES.values()):
            return directory
    raise DatasetUnavailable(
        "Fashion-MNIST is not installed (looked in " + ", ".join(candidates) + "). Install it with "
        "`apt-get install dataset-fashion-mnist` or point FASHION_MNIST_DIR at a directory with "
        + ", ".join(FASHION_FILES.values()) + ".")


def load_fashion(seed=0, train_size=10_000, test_size=2_000):
    """A stratified random subset of Fashion-MNIST (uint8 28x28)."""
    directory = fashion_directory()
    arrays = {key: _read_idx(os.path.join(directory, name)) for key, name in FASHION_FILES.items()}
    rng = np.random.default_rng(seed)
    train = _stratified_indices(arrays["y_train"], train_size, rng)
    test = _stratified_indices(arrays["y_test"], test_size, rng)
    return Split("fashion", arrays["x_train"][train], arrays["y_train"][train].astype(np.int64),
                 arrays["x_test"][test], arrays["y_test"][test].astype(np.int64),
                 f"Fashion-MNIST 28x28 subset, {len(train)} train (of 60,000) / {len(test)} test (of 10,000), "
                 f"stratified, seed {seed}")


def cifar10_tarball():
    """The CIFAR-10 JPEG tarball's path, or raise `DatasetUnavailable`."""
    path = os.environ.get("CIFAR10_TARBALL") or CIFAR10_TARBALL
    if not os.path.exists(path):
        raise DatasetUnavailable(f"The CIFAR-10 tarball is not at {os.path.abspath(path)}: point CIFAR10_TARBALL at "
                                 "cifar10-images-jpg.tar.gz (train/<class>/NNNN.jpg, test/<class>/NNNN.jpg).")
    return path


def load_cifar10(seed=0, train_size=10_000, test_size=2_000):
    """A stratified random subset of CIFAR-10 (uint8 32x32x3), read from the JPEG tarball in two
    passes: the file names first, then only the chosen images."""
    from PIL import Image

    path = cifar10_tarball()
    with tarfile.open(path, "r:gz") as archive:
        names = sorted(m.name for m in archive if m.isfile() and m.name.endswith(".jpg"))
    classes = sorted({name.split("/")[1] for name in names})
    rng = np.random.default_rng(seed)
    chosen = {}
    for part, size in (("train", train_size), ("test", test_size)):
        files = [name for name in names if name.startswith(part + "/")]
        labels = np.array([classes.index(name.split("/")[1]) for name in files])
        indices = _stratified_indices(labels, size, rng)
        chosen[part] = ([files[i] for i in indices], labels[indices].astype(np.int64))
    wanted = {name for files, _ in chosen.values() for name in files}
    pixels = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            if member.name in wanted:
                with Image.open(io.BytesIO(archive.extractfile(member).read())) as image:
                    pixels[member.name] = np.asarray(image.convert("RGB"), dtype=np.uint8)
    (train_files, y_train), (test_files, y_test) = chosen["train"], chosen["test"]
    return Split("cifar10", np.stack([pixels[name] for name in train_files]), y_train,
                 np.stack([pixels[name] for name in test_files]), y_test,
                 f"CIFAR-10 32x32x3 JPEG subset, {len(train_files)} train (of 50,000) / {len(test_files)} test "
                 f"(of 10,000), stratified, seed {seed}")


def load(name, *, seed=0, fashion_train=10_000, fashion_test=2_000):
    """The split called `name` (one of `NAMES`).

    Raises:
        DatasetUnavailable: when the data set is not installed.
        ValueError: for an unknown name.
    """
    if name == "digits":
        return load_digits(seed)
    if name == "fashion":
        return load_fashion(seed, fashion_train, fashion_test)
    if name == "cifar10":
        return load_cifar10(seed)
    raise ValueError(f"Unknown data set {name!r}; choose from {', '.join(NAMES)}.")
