"""Sentence classification data sets for the benchmarks, read from local files: nothing is downloaded.

Each loader returns a `datasets.Split` (the same dataclass as the image loaders): texts as 1-D
numpy object arrays of `str`, labels as int64, the official train/test split, so every system
in a benchmark sees exactly the same arrays.

The files are the sentence sets of `../shared/data/text/sentences/` (Kim 2014's preprocessed
copies): one `label sentence` per line, tokens separated by spaces. The directory is
`data_dir` when given, else the environment variable `AUTONAS_TEXT_DATA`, else
`<repository>/../shared/data/text/sentences`. They are described as Latin-1; the TREC training
file is Latin-1 (it is not valid UTF-8) while the SST-2 files are valid UTF-8 ("café", "joffé"),
so each file is decoded as UTF-8 when it is valid UTF-8 and as Latin-1 otherwise.

- `trec`: TREC question type (Li & Roth 2002), 6 classes: `TREC.train.all` (5,452) /
  `TREC.test.all` (500).
- `sst2`: Stanford Sentiment Treebank, binary, sentences only: the training pool is
  `stsa.binary.train` + `stsa.binary.dev` (6,920 + 872 = 7,792; the dev split is used as extra
  training data, and each system holds out its own 20% of the pool to score trials) / test
  `stsa.binary.test` (1,821).
- `mr` (MR movie reviews, `rt-polarity.all`, 10,662) and `subj` (Subj, `subj.all`, 10,000),
  both binary, have no official test split: a fixed stratified 10% of the file (`TEST_SHARE`,
  `TEST_SEED`, the same whatever a benchmark's seed) is their test split, the rest the pool.
- `passages` (long texts, for time limits): MR's sentences of one class, in file order, joined
  `PASSAGE_SENTENCES` at a time into passages of about 300 tokens (710 passages), with a fixed
  10% test split drawn as for `mr`.

Lines end in "\n"; the Latin-1 files also hold the byte 0x85 inside sentences, which Python's
`str.splitlines` would take for a line break (NEL), so lines are split on "\n" only.

Example:
    >>> from benchmarks.text_datasets import load
    >>> split = load("trec")                                  # doctest: +SKIP
    >>> split.x_train.shape, split.x_test.shape, split.num_classes   # doctest: +SKIP
    ((5452,), (500,), 6)
"""
from __future__ import annotations

import os

import numpy as np

from benchmarks.datasets import DatasetUnavailable, Split

ENVIRONMENT_VARIABLE = "AUTONAS_TEXT_DATA"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DIRECTORY = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data", "text", "sentences"))
NAMES = ("trec", "sst2", "mr", "subj")  # the sentence sets; `passages` is asked for by name
TEST_SHARE = 0.1  # the test split of the sets without an official one (MR, Subj, passages)
TEST_SEED = 0
PASSAGE_SENTENCES = 15
# name -> (training pool files, test file or None, description)
FILES = {
    "trec": (("TREC.train.all",), "TREC.test.all", "TREC question type"),
    "sst2": (("stsa.binary.train", "stsa.binary.dev"), "stsa.binary.test", "SST-2 sentences"),
    "mr": (("rt-polarity.all",), None, "MR movie reviews"),
    "subj": (("subj.all",), None, "Subj subjectivity"),
}
ALL_NAMES = tuple(FILES) + ("passages",)


def data_directory(data_dir=None):
    """`data_dir`, else `$AUTONAS_TEXT_DATA`, else `<repo>/../shared/data/text/sentences`."""
    return data_dir or os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_DIRECTORY


def _decode(raw):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_sentences(path):
    """`(texts, labels)` of a `label sentence` file: an object array of str and an int64 array."""
    with open(path, "rb") as handle:
        lines = _decode(handle.read()).split("\n")
    texts, labels = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        label, _, text = line.strip().partition(" ")
        try:
            labels.append(int(label))
        except ValueError:
            raise ValueError(f"{path}, line {number}: expected `label sentence`, got {line[:80]!r}.") from None
        texts.append(text.strip())
    return np.array(texts, dtype=object), np.array(labels, dtype=np.int64)


def _path(directory, file_name):
    path = os.path.join(directory, file_name)
    if not os.path.isfile(path):
        where = ("the directory does not exist" if not os.path.isdir(directory)
                 else f"{file_name} is not in that directory")
        raise DatasetUnavailable(
            f"Text data not found: {path} ({where}). Pass the directory of the sentence files with --data-dir "
            f"(or set {ENVIRONMENT_VARIABLE}); the default is {DEFAULT_DIRECTORY}.")
    return path


def passages(texts, labels, sentences=PASSAGE_SENTENCES):
    """Each class's `texts`, in order, joined `sentences` at a time (a short remainder is dropped)."""
    joined, joined_labels = [], []
    for label in np.unique(labels):
        of_class = texts[labels == label]
        for start in range(0, len(of_class) - sentences + 1, sentences):
            joined.append(" ".join(of_class[start:start + sentences]))
            joined_labels.append(label)
    return np.array(joined, dtype=object), np.array(joined_labels, dtype=np.int64)


def fixed_test_split(texts, labels):
    """`(x_train, x_test, y_train, y_test)`: a stratified `TEST_SHARE` of the texts as a test split,
    fixed by `TEST_SEED`."""
    from sklearn.model_selection import train_test_split

    return train_test_split(texts, labels, test_size=TEST_SHARE, stratify=labels, random_state=TEST_SEED)


def load(name, *, data_dir=None):
    """The split called `name` (one of `ALL_NAMES`) as a `Split`: the official one, or a fixed
    10% test split where there is none (`mr`, `subj`, `passages`).

    Raises:
        DatasetUnavailable: when the directory or a file is missing (the message names the path
            and the --data-dir option).
        ValueError: for an unknown name or a malformed line.
    """
    if name not in ALL_NAMES:
        raise ValueError(f"Unknown data set {name!r}; choose from {', '.join(ALL_NAMES)}.")
    directory = data_directory(data_dir)
    pool_files, test_file, title = FILES["mr" if name == "passages" else name]
    parts = [read_sentences(_path(directory, f)) for f in pool_files]
    x_train = np.concatenate([texts for texts, _ in parts])
    y_train = np.concatenate([labels for _, labels in parts])
    sizes = " + ".join(f"{len(texts):,} {f}" for (texts, _), f in zip(parts, pool_files))
    pool = f"{len(x_train):,} training pool" + (f" ({sizes})" if len(parts) > 1 else "")
    if name == "passages":
        x_train, y_train = passages(x_train, y_train)
        title = f"{title} joined {PASSAGE_SENTENCES} sentences a passage"
    if test_file is None:
        x_train, x_test, y_train, y_test = fixed_test_split(x_train, y_train)
        pool = f"{len(x_train):,} training pool"
        test = f"{len(x_test):,} test (a fixed stratified {TEST_SHARE:.0%}, no official split)"
    else:
        x_test, y_test = read_sentences(_path(directory, test_file))
        test = f"{len(x_test):,} test ({test_file}, official split)"
    description = f"{title}, {len(np.unique(y_train))} classes, {pool} / {test}"
    return Split(name, x_train, y_train, x_test, y_test, description)
