"""Stack cells into a classifier: stem, N normal cells per stage with reduction cells between
stages (stride 2, filters doubled), global pooling, dropout and a softmax head (for texts, with
or without a bag-of-n-grams branch).

Where the cells go (`place_cells`), the stem and the head are defined here once: the
functional child (`build_classifier`) and `autonas.oneshot`'s supernet both build from them.
"""
from __future__ import annotations

import dataclasses
import math

import keras
from keras import layers

from autonas.layers import AttentionPooling
from autonas.space.cell_builder import build_cell
from autonas.space.operations import batch_norm, check_operations

MAX_REDUCTIONS = 2
CONVOLUTIONS = {1: layers.Conv1D, 2: layers.Conv2D}


@dataclasses.dataclass(frozen=True)
class NetworkSize:
    """How big a network built from a genotype is.

    Search runs on a small proxy size; the winner is rebuilt at a larger final size.

    Attributes:
        filters: channels per hidden state in the first stage (doubled at each reduction).
        normal_cells: normal cells per stage (N in NASNet).
        reductions: number of reduction cells; None picks it from the input size.
        stem_multiplier: the stem convolution has `stem_multiplier * filters` channels.
        stem_downsamplings: stride-2 convolutions the stem applies before the cells; None
            picks it from the input size (`stem_downsamplings`).
        dropout: dropout rate before the softmax head.
    """

    filters: int = 16
    normal_cells: int = 1
    reductions: int | None = None
    stem_multiplier: int = 2
    dropout: float = 0.2
    stem_downsamplings: int | None = None

    def covers(self, other):
        """Whether this size is at least `other` in every part, so it cannot train faster."""
        return (self.filters >= other.filters and self.normal_cells >= other.normal_cells
                and self.reductions == other.reductions and self.stem_multiplier >= other.stem_multiplier
                and self.stem_downsamplings == other.stem_downsamplings)

    def widened(self, multiplier):
        """This size with `multiplier` times the filters (at least 2); itself for None.

        Example:
            >>> NetworkSize(filters=16).widened(0.25).filters
            4
        """
        if multiplier is None:
            return self
        return dataclasses.replace(self, filters=max(2, round(self.filters * multiplier)))

    def __post_init__(self):
        if self.filters < 2:
            raise ValueError(f"filters must be at least 2, got {self.filters}.")
        if self.normal_cells < 1:
            raise ValueError(f"normal_cells must be at least 1, got {self.normal_cells}.")
        if self.reductions is not None and self.reductions < 0:
            raise ValueError(f"reductions must be >= 0, got {self.reductions}.")
        if self.stem_downsamplings is not None and self.stem_downsamplings < 0:
            raise ValueError(f"stem_downsamplings must be >= 0, got {self.stem_downsamplings}.")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}.")


# Sequences keep at least this many positions: sentence classifiers pool over the whole
# sentence, and two reductions cost 8.4 points of validation accuracy on TREC (16 tokens) and 2.4
# on SST-2 (32), within noise on MR and Subj (docs/how-a-fit-works.md, "Text defaults").
MIN_SEQUENCE_POSITIONS = 32


def default_reductions(spatial_shape):
    """How many reduction cells to stack, at most 2 (as in NASNet-CIFAR).

    Images: as many as keep every side at least 2 long. Sequences (one spatial axis): as many
    as keep at least `MIN_SEQUENCE_POSITIONS` positions, so short texts get none.
    """
    smallest = max(min(int(s) for s in spatial_shape), 1)
    if len(spatial_shape) == 1:
        return max(0, min(MAX_REDUCTIONS, int(math.floor(math.log2(smallest / MIN_SEQUENCE_POSITIONS)))))
    return max(0, min(MAX_REDUCTIONS, int(math.floor(math.log2(smallest))) - 1))


STEM = -1  # `CellPlacement.older` / `newer` value naming the stem as a cell's input


@dataclasses.dataclass(frozen=True)
class CellPlacement:
    """Where one cell sits in the network.

    Attributes:
        name: the cell's layer prefix ("stage0_normal0", "reduce1", ...).
        cell_type: "normal" or "reduce".
        filters: channels of the cell's states.
        reduction: whether the cell halves the spatial size.
        older_is_larger: whether the older input has twice the newer one's spatial size.
        older, newer: index of the placement producing each input, or `STEM`.
    """

    name: str
    cell_type: str
    filters: int
    reduction: bool
    older_is_larger: bool
    older: int
    newer: int


def place_cells(size, reductions):
    """The cells of a network at `size` with `reductions` reduction cells, in order: per stage,
    a reduction cell (stride 2, filters doubled) except in the first, then `size.normal_cells`
    normal cells. Each cell reads the outputs of the two cells before it (the stem at first)."""
    placements = []
    older, newer, older_is_larger, filters = STEM, STEM, False, size.filters
    for stage in range(reductions + 1):
        cells = [(f"stage{stage}_normal{index}", "normal") for index in range(size.normal_cells)]
        if stage > 0:
            filters *= 2
            cells.insert(0, (f"reduce{stage}", "reduce"))
        for name, cell_type in cells:
            reduction = cell_type == "reduce"
            placements.append(CellPlacement(name, cell_type, filters, reduction, older_is_larger, older, newer))
            older, newer, older_is_larger = newer, len(placements) - 1, reduction
    return tuple(placements)


# Images wider than this (on their shorter side) are downsampled by the stem before the first
# cell, NASNet-ImageNet's remedy: a cell's cost grows with its pixels, and at 28x28 or 32x32 the
# default search proxy spent 84-87% of each trial in the full-resolution cells, 35-44 s an epoch
# of 8,000 images on 2 cores against 1-1.3 s for a plain CNN (docs/results.md, "Where a search
# trial's time goes"). Sequences are never downsampled by the stem.
MAX_CELL_SIDE = 16


def stem_downsamplings(spatial_shape, size=None):
    """How many stride-2 convolutions the stem applies: `size.stem_downsamplings` when set,
    else as many as bring an image's shorter side to at most `MAX_CELL_SIDE` (0 for sequences)."""
    if size is not None and size.stem_downsamplings is not None:
        return size.stem_downsamplings
    if len(spatial_shape) == 1:
        return 0
    side, count = max(min(int(s) for s in spatial_shape), 1), 0
    while side > MAX_CELL_SIDE:
        side, count = math.ceil(side / 2), count + 1
    return count


def cell_input_shape(spatial_shape, size=None):
    """The spatial shape the first cell sees: `spatial_shape` after the stem's downsamplings."""
    factor = 2 ** stem_downsamplings(spatial_shape, size)
    return tuple(math.ceil(int(s) / factor) for s in spatial_shape)


def network_reductions(spatial_shape, size):
    """How many reduction cells a network at `size` stacks on features of `spatial_shape`."""
    if size.reductions is not None:
        return size.reductions
    return default_reductions(cell_input_shape(spatial_shape, size))


def stem_layers(rank, size, downsamplings=0):
    """The stem before the first cell, in order: `downsamplings` times a stride-2 3x3 convolution,
    batch norm and ReLU, then a 3x3 convolution to `size.stem_multiplier * size.filters` channels
    (no bias) and batch norm."""
    channels = size.stem_multiplier * size.filters
    convolution = CONVOLUTIONS[rank]
    stem = []
    for index in range(downsamplings):
        stem += [convolution(channels, 3, strides=2, padding="same", use_bias=False, name=f"stem_down{index}_conv"),
                 batch_norm(f"stem_down{index}_bn"), layers.ReLU(name=f"stem_down{index}_relu")]
    return stem + [convolution(channels, 3, padding="same", use_bias=False, name="stem_conv"), batch_norm("stem_bn")]


_POOLINGS = {"average": {1: layers.GlobalAveragePooling1D, 2: layers.GlobalAveragePooling2D},
             "max": {1: layers.GlobalMaxPooling1D, 2: layers.GlobalMaxPooling2D},
             "attention": {1: AttentionPooling, 2: AttentionPooling}}


def head_layers(rank, num_classes, dropout, pooling="average"):
    """The classification head, in order: ReLU, global `pooling` (one of
    `autonas.space.genotype.POOLINGS`), dropout (when `dropout`), softmax (kept in float32 for
    mixed precision)."""
    head = [layers.ReLU(name="head_relu"), _POOLINGS[pooling][rank](name="head_pool")]
    if dropout:
        head.append(layers.Dropout(dropout, name="head_dropout"))
    head.append(layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities"))
    return head


def build_cell_stack(features, genotype, size):
    """Stem plus cells on `features` (batch, *spatial, channels); returns the last cell output."""
    rank = len(features.shape) - 2
    check_operations(genotype.operations, rank)
    spatial_shape = features.shape[1:-1]
    reductions = network_reductions(spatial_shape, size)
    if reductions and genotype.reduce is None:
        raise ValueError(f"This network needs {reductions} reduction cell(s) but the genotype has no reduction "
                         "cell; give it one, or build with NetworkSize(reductions=0).")
    stem = features
    for layer in stem_layers(rank, size, stem_downsamplings(spatial_shape, size)):
        stem = layer(stem)
    outputs = []
    for placement in place_cells(size, reductions):
        older, newer = (stem if source == STEM else outputs[source] for source in (placement.older, placement.newer))
        outputs.append(build_cell(older, newer, getattr(genotype, placement.cell_type), filters=placement.filters,
                                  reduction=placement.reduction, older_is_larger=placement.older_is_larger,
                                  name=placement.name))
    return outputs[-1]


def build_classifier(genotype, *, inputs, features, num_classes, size, ngrams=None, name="autonas_classifier"):
    """A Keras model from raw `inputs` through `features` (the preprocessed tensor) to class
    probabilities, with the cells of `genotype` at `size` and its head (`genotype.ending`).

    `ngrams` is the bag-of-n-grams vector of the same inputs (texts), which a head with an
    n-gram branch reads: beside the pooled cells, one linear layer over both ("fused"), or
    alone, without the cells.

    Example:
        >>> from autonas.space.published import DARTS_V2
        >>> inputs = keras.Input((8, 8, 1))
        >>> model = build_classifier(DARTS_V2, inputs=inputs, features=inputs, num_classes=10,
        ...                          size=NetworkSize(filters=8))
        >>> model.output_shape
        (None, 10)
    """
    if num_classes < 2:
        raise ValueError(f"A classifier needs at least 2 classes, got {num_classes}.")
    head = genotype.ending
    if head.ngrams != "none" and ngrams is None:
        raise ValueError(f"The genotype's head reads n-grams ({head}), which only text networks have; "
                         "build it from a text input, or give the genotype a head without n-grams.")
    *pooled, probabilities = head_layers(len(features.shape) - 2, num_classes, size.dropout, head.pooling)
    if head.reads_cells:
        x = build_cell_stack(features, genotype, size)
        for layer in pooled:
            x = layer(x)
        if head.ngrams == "fused":
            x = layers.Concatenate(name="head_with_ngrams")([x, ngrams])
    else:
        x = ngrams
    return keras.Model(inputs, probabilities(x), name=name)
