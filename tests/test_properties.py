"""Property-based tests (Hypothesis): input validation, genotypes, oracles.

Three properties, each over generated cases:

- input validation: any images (rank, sides, channels, dtype, values), labels and texts either
  are refused with a ValueError before training, or reach the search with consistent data;
  a few accepted ones are fitted for real and predict consistently;
- genotypes: any cell over the operation registry round-trips through JSON exactly, and
  builds a Keras classifier;
- oracles: every autonas oracle, given any scores (NaN and infinite ones too), proposes only
  configurations of its space, and a search saved after k trials and resumed by a fresh oracle
  proposes what the uninterrupted one did.

Real fits and model builds take seconds, so those properties get a handful of examples and
the checks that run before training get hundreds.
"""
import contextlib
import functools
import json
import math
import os
import tempfile
import warnings
from unittest import mock

import keras
import keras_tuner
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from autonas import ImageSearchClassifier, TextSearchClassifier
from autonas.data import images as image_data
from autonas.data.labels import check_labels
from autonas.data.text import check_texts
from autonas.oracles import ORACLE_NAMES, make_oracle
from autonas.oracles.halving import EPOCHS, INITIAL_EPOCH, PARENT, RUNG
from autonas.space import Block, Cell, CellSearchSpace, Genotype
from autonas.space.network import NetworkSize, build_classifier
from autonas.space.operations import operations_for_rank
from autonas.testing import strategy as strategy_helper

# The validation checks are cheap: many examples. A real fit or a model build: a handful.
MANY = settings(max_examples=300, deadline=None, database=None)
SOME = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(max_examples=3, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

IMAGE_TINY = dict(max_trials=1, epochs=1, final_epochs=1, num_blocks=1, search_filters=4, final_filters=4,
                  search_normal_cells=1, final_normal_cells=1, operations=["conv_3x3", "max_pool_3x3", "identity"],
                  batch_size=32, verbose=0, seed=0, retrain=False, warm_start=[])
TEXT_TINY = {**IMAGE_TINY, "operations": ["conv_3", "max_pool_3", "identity"], "embedding_dim": 4}


# ============================================================================ input validation


class _ReachedSearch(Exception):
    """Raised in place of the search: the inputs passed every check that runs before training."""

    def __init__(self, hypermodel, data):
        super().__init__("reached the search")
        self.hypermodel, self.data = hypermodel, data


def _stop_at_search(oracle, space, hypermodel, data, **options):
    raise _ReachedSearch(hypermodel, data)


def _validate(classifier, x, y):
    """`classifier.fit(x, y)` up to the search: the `_ReachedSearch` it got to. Whatever stopped
    it before (a ValueError for bad input, or a bug) propagates."""
    with mock.patch("autonas.tasks.base.run_search", new=_stop_at_search):
        try:
            classifier.fit(x, y)
        except _ReachedSearch as reached:
            return reached
    raise AssertionError("fit returned without searching")


IMAGE_DTYPES = ["uint8", "uint16", "int32", "int64", "float16", "float32", "float64", "bool", "object", "complex64",
                "<U2"]
# Magnitudes a float pixel may have: 0-1 or 0-255 images, odd scales, and values no image holds.
SCALES = [1.0, 255.0, 1e6, 1e17, 1e19, 1e30, 1e300]
SPECIALS = [np.nan, np.inf, -np.inf]


@st.composite
def image_arrays(draw, max_samples=12):
    """Any array a user might pass as images: rank 1-5, sides 0-40, channels 0-5, any dtype,
    values at any scale, a few NaN or infinite pixels."""
    rank = draw(st.integers(1, 5))
    shape = [draw(st.integers(0, max_samples))]
    shape += [draw(st.integers(0, 40)) for _ in range(min(rank - 1, 2))]
    if rank >= 4:
        shape.append(draw(st.integers(0, 5)))
    if rank == 5:
        shape.append(draw(st.integers(0, 3)))
    dtype = np.dtype(draw(st.sampled_from(IMAGE_DTYPES)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype.kind in "ui":
        x = rng.integers(0, 256 if dtype.kind == "u" else 1000, size=shape).astype(dtype)
    elif dtype.kind in "fc":
        scale = draw(st.sampled_from(SCALES))
        with np.errstate(over="ignore"):
            x = (rng.standard_normal(shape) * scale).astype(dtype)
        if x.size and draw(st.booleans()):
            x.flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from(SPECIALS))
    elif dtype.kind == "b":
        x = rng.random(shape) > 0.5
    elif dtype.kind == "O":
        x = rng.integers(0, 256, size=shape).astype(object)
    else:
        x = np.full(shape, "ab", dtype=dtype)
    return x


def images_acceptable(x):
    """The contract of `check_images`, stated on its own: numeric, finite pixels of a sane
    magnitude, in (N, H, W) or (N, H, W, C) with N, H, W, C >= 1 and more than one pixel."""
    if x.ndim not in (3, 4) or x.dtype.kind not in "uif" or x.size == 0 or x.shape[1:3] == (1, 1):
        return False
    if x.dtype.kind == "f":
        with np.errstate(over="ignore"):
            return bool(np.all(np.isfinite(x)) and np.max(np.abs(x)) <= image_data.MAX_PIXEL_MAGNITUDE)
    return True


@MANY
@given(x=image_arrays(), as_list=st.booleans())
def test_images_are_accepted_exactly_when_valid_and_keep_their_shape_and_dtype(x, as_list):
    given_x = list(x) if as_list and x.ndim > 1 else x
    if images_acceptable(x):
        checked = image_data.check_images(given_x)
        assert checked.shape == x.shape and checked.dtype == x.dtype
    else:
        with pytest.raises(ValueError):
            image_data.check_images(given_x)


@MANY
@given(sizes=st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6)), min_size=2, max_size=6))
def test_a_list_of_images_of_different_sizes_is_refused_naming_them(sizes):
    assume(len(set(sizes)) > 1)
    images = [np.zeros(size, np.uint8) for size in sizes]
    with pytest.raises(ValueError, match="different shapes.*resize them"):
        image_data.check_images(images)


LABEL_KINDS = ["int-list", "int32-array", "str-list", "str-array", "bool-array", "integral-float-array",
               "series-of-str", "non-integral-float", "nan", "inf", "none", "int-and-str-list", "bytes",
               "complex", "two-columns", "column", "wrong-length"]
# Label values fit takes ("wrong-length" holds one label too many: only its length is wrong).
VALID_LABEL_KINDS = ("int-list", "int32-array", "str-list", "str-array", "bool-array", "integral-float-array",
                     "series-of-str", "wrong-length")


@st.composite
def label_sets(draw, n, kinds=tuple(LABEL_KINDS), balanced=False):
    """`(y, valid)`: `n` labels (one class, two, or many) in one of `LABEL_KINDS`, and whether
    `fit` takes such values (ints, strings, bools, integral floats, 1-D) when there are as many as
    samples. `balanced`: two classes, alternating."""
    kind = draw(st.sampled_from(kinds))
    if balanced:
        classes, index = 2, np.arange(n) % 2
    else:
        classes = 2 if kind == "bool-array" else draw(st.sampled_from([1, 2, 3, max(n // 2, 1), max(n, 1)]))
        index = draw(st.one_of(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n),
                               st.just(np.arange(n) % classes)))  # any classes, or as many of each
    index = np.asarray(index, dtype=np.int64)
    words = np.array(["cat", "dog", "eel", "fox", "gnu", "hen", "ibis", "jay", "kea", "lynx", "mole", "newt"])
    if kind == "int-list":
        y = [int(i) * 7 - 3 for i in index]
    elif kind == "int32-array":
        y = index.astype(np.int32)
    elif kind in ("str-list", "str-array", "series-of-str"):
        y = words[index % len(words)] if classes <= len(words) else np.char.add("c", index.astype(str))
        y = {"str-list": list, "str-array": np.asarray, "series-of-str": pd.Series}[kind](y)
    elif kind == "bool-array":
        y = index.astype(bool)
    elif kind == "integral-float-array":
        y = index.astype(np.float64)
    elif kind in ("non-integral-float", "nan", "inf"):
        y = index.astype(np.float64)
        if n:
            y[draw(st.integers(0, n - 1))] = {"non-integral-float": 0.5, "nan": np.nan, "inf": np.inf}[kind]
    elif kind == "none":
        y = [None] + [int(i) for i in index[1:]] if n else []
    elif kind == "int-and-str-list":
        y = [int(i) if j % 2 else str(i) for j, i in enumerate(index)]
    elif kind == "bytes":
        y = [str(i).encode() for i in index]
    elif kind == "complex":
        y = index.astype(np.complex128)
    elif kind == "two-columns":
        y = np.stack([index, index], axis=1)
    elif kind == "column":
        y = index[:, None]
    else:  # wrong-length
        y = np.append(index, 0)
    # A list with fewer than two items cannot mix int and str; an empty one holds no bad label.
    valid = kind in VALID_LABEL_KINDS or (kind == "int-and-str-list" and n < 2) or (
        kind in ("non-integral-float", "nan", "inf", "none", "bytes") and n == 0)
    return y, valid


def _classes(y):
    values = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    return np.unique(values.astype(float) if values.dtype.kind == "f" else values.astype(str)
                     if values.dtype.kind in "OU" else values, return_counts=True)


@MANY
@given(data=st.data(), n=st.integers(0, 30))
def test_labels_are_accepted_exactly_when_valid_and_come_back_one_per_sample(data, n):
    y, valid = data.draw(label_sets(n))
    n_samples = n + 1 if data.draw(st.booleans(), label="x has one sample more") else n
    valid = valid and 0 < len(y) == n_samples
    if valid:
        labels = check_labels(y, n_samples)
        assert labels.shape == (len(y),) and labels.dtype.kind in "biuU"
        assert len(np.unique(labels)) == len(_classes(y)[0])
    else:
        with pytest.raises(ValueError):
            check_labels(y, n_samples)


def _fit_labels(data, n):
    """`(y, valid)` for a fit on `n` samples: any labels, or labels of a valid kind, or two
    balanced classes of a valid kind (so that many examples get past the labels)."""
    # One column of labels, shape (n, 1), is left out: what fit makes of it is scikit-learn's
    # convention, checked with its conformance (tests/test_sklearn_checks.py).
    kinds = tuple(kind for kind in LABEL_KINDS if kind != "column")
    return data.draw(st.one_of(label_sets(n, kinds=kinds), label_sets(n, kinds=VALID_LABEL_KINDS),
                               label_sets(n, kinds=VALID_LABEL_KINDS, balanced=True)), label="y")


def _labels_acceptable(y, n, labels_valid):
    """Whether `fit` on `n` samples takes labels `y`: valid, one per sample, at least two
    classes, and two samples of each (one to train on, one to score trials with)."""
    if not (labels_valid and len(y) == n):
        return False
    _, counts = _classes(y)
    return len(counts) >= 2 and counts.min() >= 2


@st.composite
def valid_images(draw, min_samples=1, max_samples=16):
    """Images `fit` takes: (N, H, W) or (N, H, W, C), integer pixel values in a numeric dtype."""
    n = draw(st.integers(min_samples, max_samples))
    shape = (n, draw(st.integers(2, 9)), draw(st.integers(1, 9))) + draw(st.sampled_from([(), (1,), (3,)]))
    dtype = draw(st.sampled_from(["uint8", "float32", "float16", "int64"]))
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(0, 256, size=shape).astype(dtype)


@settings(SOME, max_examples=200)
@given(data=st.data(), x=st.one_of(image_arrays(max_samples=16), valid_images()))
def test_fit_refuses_bad_images_and_labels_before_training_and_passes_good_ones_on_intact(data, x):
    y, labels_valid = _fit_labels(data, len(x))
    acceptable = images_acceptable(x) and _labels_acceptable(y, len(x), labels_valid)
    try:
        reached = _validate(ImageSearchClassifier(**IMAGE_TINY), x, y)
    except ValueError as error:
        assert not acceptable, f"refused valid input: {error}"
        event("refused")
        return
    event("reached the search")
    assert acceptable, "accepted invalid input"
    hypermodel, prepared = reached.hypermodel, reached.data
    assert prepared.train_size + prepared.validation_size == len(x)
    assert prepared.train_size >= 1 and prepared.validation_size >= 1
    assert hypermodel.num_classes == len(_classes(y)[0])
    inputs, features = hypermodel.inputs_builder()
    assert tuple(inputs.shape[1:]) == x.shape[1:] and np.dtype(inputs.dtype) == x.dtype
    images, labels = next(iter(prepared.train))
    assert tuple(images.shape[1:]) == x.shape[1:] and set(labels.numpy()) <= set(range(hypermodel.num_classes))


@st.composite
def valid_image_problems(draw):
    """Images and labels that `fit` takes: 8-16 samples, 2-3 classes of at least 2 each."""
    x = draw(valid_images(min_samples=8))
    n = len(x)
    classes = draw(st.integers(2, 3))
    index = np.arange(n) % classes
    kind = draw(st.sampled_from(["int", "str", "bool", "integral-float"]))
    if kind == "bool":
        index = np.arange(n) % 2
    y = {"int": lambda: index * 10 + 1, "str": lambda: np.array(["ant", "bee", "cow"])[index],
         "bool": lambda: index.astype(bool), "integral-float": lambda: index.astype(float) - 1}[kind]()
    return x, y


def _assert_predicts_consistently(clf, x, y):
    """predict gives one of `classes_` per sample, of the labels' kind; predict_proba is a
    distribution over `classes_`."""
    labels = np.asarray(y)
    predicted = clf.predict(x)
    assert predicted.shape == (len(x),)
    assert set(predicted.tolist()) <= set(clf.classes_.tolist())
    assert set(clf.classes_.tolist()) == set(labels.tolist())
    # Integral float labels come back as ints (check_labels documents it); others keep their dtype.
    expected_dtype = np.dtype(np.int64) if labels.dtype.kind == "f" else labels.dtype
    assert predicted.dtype == expected_dtype
    probabilities = clf.predict_proba(x)
    assert probabilities.shape == (len(x), len(clf.classes_))
    assert np.all(np.isfinite(probabilities)) and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


@pytest.mark.endtoend
@FEW
@given(problem=valid_image_problems())
def test_accepted_images_fit_and_predict_one_known_class_per_sample(problem):
    x, y = problem
    clf = ImageSearchClassifier(**IMAGE_TINY).fit(x, y)
    _assert_predicts_consistently(clf, x, y)


# ---- texts

_WORDS = ["good", "bad", "film", "plot", "Über", "文字", "ok!", "a-b"]
TEXT_ITEMS = st.one_of(
    st.text(max_size=20),
    st.lists(st.sampled_from(_WORDS), min_size=1, max_size=5).map(" ".join),
    st.sampled_from(["", " ", "...", "\n"]),
    st.none(),
    st.just(float("nan")),
    st.binary(max_size=6),
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.lists(st.sampled_from(_WORDS), max_size=3),
)


@st.composite
def text_inputs(draw, max_size=16):
    """`(x, items)`: texts as a user might pass them (a list, a numpy array, a Series, a column
    or two, a single string) and the items they hold (None when not one column of them)."""
    items = draw(st.one_of(st.lists(TEXT_ITEMS, max_size=max_size),
                           st.lists(st.one_of(st.text(max_size=20), st.sampled_from(_WORDS)), max_size=max_size)))
    form = draw(st.sampled_from(["list", "object-array", "series", "column", "two-columns", "one-string"]))
    if form == "one-string":
        return "good film", None
    array = np.empty(len(items), dtype=object)
    array[:] = items
    if form == "list":
        return items, items
    if form == "object-array":
        return array, items
    if form == "series":
        return pd.Series(array, dtype=object), items
    if form == "column":
        return array[:, None], items
    return np.stack([array, array], axis=1), None


def _texts_acceptable(items):
    return items is not None and len(items) > 0 and all(isinstance(item, str) for item in items)


def _one_column(items):
    """Items that are each a one-string list read as one column of texts (like `df[["text"]]`)."""
    return bool(items) and all(isinstance(item, list) and len(item) == 1 for item in items)


@MANY
@given(given_texts=text_inputs())
def test_texts_are_accepted_exactly_when_one_string_per_sample(given_texts):
    x, items = given_texts
    if isinstance(x, list) and _one_column(items):
        items = [item[0] for item in items]
    try:
        texts = check_texts(x)
    except ValueError:
        assert not _texts_acceptable(items)
        return
    assert _texts_acceptable(items)
    assert texts.shape == (len(items),) and list(texts) == list(items)


def _has_a_word(text):
    return any(character.isalnum() for character in text)


@settings(SOME, max_examples=150)
@given(data=st.data(), given_texts=text_inputs())
def test_text_fit_refuses_bad_texts_and_labels_before_training_and_passes_good_ones_on(data, given_texts):
    x, items = given_texts
    if isinstance(x, list) and _one_column(items):
        items = [item[0] for item in items]
    n = len(items) if items is not None else 1
    y, labels_valid = _fit_labels(data, n)
    acceptable = _texts_acceptable(items) and _labels_acceptable(y, n, labels_valid)
    try:
        reached = _validate(TextSearchClassifier(**TEXT_TINY), x, y)
    except ValueError as error:
        # Texts without words refused: only when some text has none (the training split may
        # hold just those); anything else only for input outside the contract.
        no_words = "contain no words" in str(error) and not all(_has_a_word(t) for t in items)
        assert not acceptable or no_words, f"refused valid input: {error}"
        event("refused")
        return
    event("reached the search")
    assert acceptable, "accepted invalid input"
    assert reached.data.train_size + reached.data.validation_size == n
    assert reached.hypermodel.num_classes == len(_classes(y)[0])


@st.composite
def valid_text_problems(draw):
    n = draw(st.integers(8, 14))
    words = draw(st.lists(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6).map(" ".join),
                          min_size=n, max_size=n))
    extra = draw(st.lists(st.text(max_size=12), min_size=n, max_size=n))
    texts = [f"{w} {e}" for w, e in zip(words, extra)]
    labels = np.array(["neg", "pos"])[np.arange(n) % 2]
    return texts, (labels if draw(st.booleans()) else (np.arange(n) % 2))


@pytest.mark.endtoend
@settings(FEW, max_examples=2)
@given(problem=valid_text_problems())
def test_accepted_texts_fit_and_predict_one_known_class_per_sample(problem):
    x, y = problem
    clf = TextSearchClassifier(**TEXT_TINY).fit(x, y)
    _assert_predicts_consistently(clf, x, y)


# ============================================================================ genotypes

IMAGE_OPS = operations_for_rank(2)
SEQUENCE_OPS = operations_for_rank(1)


@st.composite
def cells(draw, operations, num_blocks=None, nasnet_concat=None):
    """Any valid cell over `operations`: each block reads any earlier state; the output
    concatenates the unused block outputs (NASNet) or any other non-empty set of states."""
    count = num_blocks or draw(st.integers(1, 5))
    blocks = [Block(draw(st.integers(0, 1 + b)), draw(st.sampled_from(operations)),
                    draw(st.integers(0, 1 + b)), draw(st.sampled_from(operations))) for b in range(count)]
    if nasnet_concat if nasnet_concat is not None else draw(st.booleans()):
        return Cell.from_blocks(blocks)
    concat = draw(st.lists(st.integers(0, 1 + count), min_size=1, max_size=4, unique=True))
    return Cell(blocks=tuple(blocks), concat=tuple(concat))


@st.composite
def genotypes(draw, operations=IMAGE_OPS, num_blocks=None, nasnet_concat=None, reduce=None):
    normal = draw(cells(operations, num_blocks, nasnet_concat))
    with_reduce = draw(st.booleans()) if reduce is None else reduce
    return Genotype(normal=normal,
                    reduce=draw(cells(operations, num_blocks, nasnet_concat)) if with_reduce else None)


@MANY
@given(genotype=st.one_of(genotypes(IMAGE_OPS), genotypes(SEQUENCE_OPS)))
def test_every_genotype_round_trips_through_json_exactly(genotype):
    text = genotype.to_json()
    restored = Genotype.from_json(text)
    assert restored == genotype and hash(restored) == hash(genotype)
    assert restored.to_json() == text and str(restored) == str(genotype)
    assert Genotype.from_dict(json.loads(json.dumps(genotype.to_dict()))) == genotype


@MANY
@given(blocks=st.integers(1, 5), data=st.data())
def test_every_nasnet_genotype_encodes_as_hyperparameters_and_back(blocks, data):
    genotype = data.draw(genotypes(IMAGE_OPS, num_blocks=blocks, nasnet_concat=True, reduce=True))
    space = CellSearchSpace(IMAGE_OPS, num_blocks=blocks)
    hp = space.hyperparameters()
    hp.values.update(space.values(genotype))
    assert space.declare(hp) == genotype


@MANY
@given(count=st.integers(1, 4), data=st.data())
def test_a_block_reading_a_state_that_does_not_exist_yet_is_refused(count, data):
    states = [data.draw(st.integers(-2, count + 2)) for _ in range(2 * count)]
    blocks = [Block(states[2 * b], "identity", states[2 * b + 1], "identity") for b in range(count)]
    valid = all(0 <= states[2 * b + slot] < 2 + b for b in range(count) for slot in (0, 1))
    if valid:
        assert Cell.from_blocks(blocks).blocks == tuple(blocks)
    else:
        with pytest.raises(ValueError, match="reads state"):
            Cell.from_blocks(blocks)


@pytest.mark.parametrize("state", ["1", 1.5, None, True])
def test_a_state_that_is_not_an_integer_is_refused_naming_it(state):
    # Before: "1" raised a TypeError from comparing str and int; 1.5 and True passed as states.
    with pytest.raises(ValueError, match=r"Block 0: its inputs must be state indices \(ints\), got"):
        Cell(blocks=(Block(state, "identity", 0, "identity"),), concat=(2,))
    with pytest.raises(ValueError, match=r"concat must list state indices \(ints\)"):
        Cell(blocks=(Block(0, "identity", 1, "identity"),), concat=(state,))


@MANY
@given(genotype=genotypes(IMAGE_OPS), seed=st.integers(0, 2**32 - 1))
def test_a_genotype_of_numpy_integers_writes_to_json_as_plain_ints(genotype, seed):
    # Before: to_json failed with "Object of type int64 is not JSON serializable" (so did a
    # search's records and export with such a genotype in warm_start).
    as_numpy = Genotype(**{name: Cell(blocks=tuple(Block(np.int64(b.input_a), b.op_a, np.int32(b.input_b), b.op_b)
                                                   for b in cell.blocks), concat=np.asarray(cell.concat))
                           for name, cell in genotype.cells.items()})
    assert as_numpy == genotype and Genotype.from_json(as_numpy.to_json()) == genotype


@st.composite
def buildable(draw):
    """A genotype, the input it is built on (8x8 images or 12-step sequences) and a class count."""
    rank = draw(st.sampled_from([2, 2, 1]))
    operations = IMAGE_OPS if rank == 2 else SEQUENCE_OPS
    genotype = draw(genotypes(operations, num_blocks=draw(st.integers(1, 3)), reduce=rank == 2))
    shape = (8, 8, 1) if rank == 2 else (12, 4)
    return genotype, shape, draw(st.integers(2, 5))


@settings(FEW, max_examples=6)
@given(case=buildable())
def test_every_genotype_builds_a_classifier_of_class_probabilities(case):
    genotype, shape, num_classes = case
    inputs = keras.Input(shape)
    model = build_classifier(genotype, inputs=inputs, features=inputs, num_classes=num_classes,
                             size=NetworkSize(filters=4, normal_cells=1))
    assert model.output_shape == (None, num_classes)
    probabilities = model(np.random.default_rng(0).standard_normal((2, *shape)).astype("float32")).numpy()
    assert np.all(np.isfinite(probabilities)) and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


# ============================================================================ oracles

SCORES = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.0, 1.0, math.nan, math.inf, -math.inf]))
CELL_SPACE = functools.partial(CellSearchSpace, ["conv_3x3", "max_pool_3x3", "identity"], num_blocks=2)


def _cell_space():
    return CELL_SPACE().hyperparameters()


def _mixed_space():
    return strategy_helper.mixed_problem().build_space()


SPACES = {"cells": _cell_space, "mixed": _mixed_space}


def _scored_problem(space, scores, direction):
    """A `StrategyProblem` over `space` whose score is one of `scores`, picked by the values
    (so a resumed search scores a configuration as the uninterrupted one did)."""

    def score(values):
        key = json.dumps({k: v for k, v in values.items() if not k.startswith("tuner/")}, sort_keys=True)
        return scores[int.from_bytes(key.encode(), "little") % len(scores)]

    return strategy_helper.StrategyProblem(name=f"scores-{direction}", build_space=SPACES[space], score=score,
                                           metric="score", direction=direction, optimum={},
                                           optimum_score=math.nan, size=0)


def _factory(name, halving):
    """`make_oracle(name)` under the strategy helper's factory signature, with no limit on failed
    trials in a row (NaN scores fail them; keras-tuner would otherwise stop after 3)."""

    def factory(**arguments):
        oracle = make_oracle(name, successive_halving=halving, **arguments)
        oracle.max_consecutive_failed_trials = 10**6
        return oracle

    return factory


def _allowed(hyperparameter, value):
    """Whether `value` is one `hyperparameter` (a Choice, Boolean, Int or Float) can take."""
    config = hyperparameter.get_config()
    if "values" in config:  # Choice
        return value in config["values"]
    if "min_value" not in config:  # Boolean
        return isinstance(value, bool)
    if value is None or not config["min_value"] <= value <= config["max_value"]:
        return False
    step = config.get("step")
    if step and not config.get("sampling") in ("log", "reverse_log"):
        offset = (value - config["min_value"]) / step
        return math.isclose(offset, round(offset), abs_tol=1e-6)
    return True


def _assert_valid_proposal(space, values, earlier_ids, halving):
    """`values` are a configuration of `space` (every active hyperparameter, each with a value it
    allows), plus consistent rung entries for a promotion; a cell space's decode to a genotype."""
    hp = SPACES[space]()
    own = {k: v for k, v in values.items() if not k.startswith("tuner/")}
    definitions = {h.name: h for h in hp.space}
    for name, value in own.items():
        assert name in definitions, f"proposed {name!r}, not in the space"
        assert _allowed(definitions[name], value), f"{name}={value!r} is outside its range"
    for h in hp.space:
        if all(c.is_active(own) for c in h.conditions):
            assert h.name in own, f"active {h.name!r} has no value"
    if PARENT in values:
        assert halving and values[PARENT] in earlier_ids
        assert 1 <= values[RUNG] and values[EPOCHS] > values[INITIAL_EPOCH] >= 1
    else:
        assert not any(k.startswith("tuner/") for k in values)
    if space == "cells":
        hp.values.update(own)
        genotype = CELL_SPACE().declare(hp)  # validates every block
        assert CELL_SPACE().values(genotype) == own


ORACLE_CASES = [(name, halving) for name in ORACLE_NAMES for halving in (False, True)]


@settings(max_examples=8, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.parametrize("name, halving", ORACLE_CASES)
@given(space=st.sampled_from(sorted(SPACES)), scores=st.lists(SCORES, min_size=1, max_size=8),
       direction=st.sampled_from(["max", "min"]), n=st.integers(4, 10), data=st.data())
def test_oracles_propose_only_valid_configurations_and_resume_identically(name, halving, space, scores, direction,
                                                                          n, data):
    stop_at = data.draw(st.integers(1, n - 1), label="stop_at")
    problem = _scored_problem(space, scores, direction)
    factory = _factory(name, halving)
    with tempfile.TemporaryDirectory() as directory, _quiet():
        drive = dict(directory=directory, seed=0, trial_epochs=1 if halving else None)
        records = strategy_helper.run_search(factory, problem, n, project_name="whole", **drive)
        # The helper's resume: a fresh oracle from the factory reloads the stopped project.
        head = strategy_helper.run_search(factory, problem, n, project_name="stopped", stop_after=stop_at, **drive)
        resumed = strategy_helper.run_search(factory, problem, n, project_name="stopped", **drive)
        with open(os.path.join(directory, "whole", "oracle.json"), encoding="utf-8") as handle:
            learned = json.load(handle).get("autonas", {}).get("own", {})
    assert len(head) == stop_at
    assert resumed == records, f"resumed after {stop_at} trials, the search went another way"
    assert len(records) == n
    for index, record in enumerate(records):
        _assert_valid_proposal(space, record.values, {r.trial_id for r in records[:index]}, halving)
    # Once every trial has ended, none is left waiting to be learned from.
    assert learned.get("pending", {}) == {}
    assert all(math.isfinite(member["reward"]) for member in learned.get("population", []))


@pytest.mark.parametrize("name", ORACLE_NAMES)
def test_a_trial_scored_infinite_leaves_nothing_pending(tmp_path, name):
    # Before: reinforce kept the controller's decisions for such a trial (a diverged loss under
    # a "min" objective) pending forever, saved with every later state.
    problem = _scored_problem("cells", [math.inf, -math.inf], "min")
    records = strategy_helper.run_search(_factory(name, False), problem, 4, directory=tmp_path, project_name="p")
    assert [record.status for record in records] == ["COMPLETED"] * 4
    with open(tmp_path / "p" / "oracle.json", encoding="utf-8") as handle:
        assert json.load(handle).get("autonas", {}).get("own", {}).get("pending", {}) == {}


@contextlib.contextmanager
def _quiet():
    """keras-tuner prints retries and warns about NaN scores; neither is what is tested here."""
    with warnings.catch_warnings(), open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
