"""The supernet: one Keras model holding every architecture of a `CellSearchSpace`.

It is built from the parts of `autonas.space.network.build_classifier` (the frontend, the stem,
the cells where `place_cells` puts them, the head), but every edge holds every candidate
operation and the architecture is an int32 tensor input (see `architecture_vector`). A forward
pass computes only the chosen inputs and operations, so sampling a new child per batch costs
neither a model rebuild nor a retrace, and the weights are shared by every child for the whole
search. `relax` computes a continuous relaxation of all children instead, which
`autonas.oneshot.darts` trains.

Example:
    >>> import keras
    >>> import numpy as np
    >>> from autonas.space import CellSearchSpace, NetworkSize
    >>> space = CellSearchSpace(["conv_3x3", "max_pool_3x3"], num_blocks=2)
    >>> def inputs_builder():
    ...     inputs = keras.Input((8, 8, 1))
    ...     return inputs, inputs
    >>> supernet = Supernet(space, inputs_builder=inputs_builder, num_classes=3, size=NetworkSize(filters=4))
    >>> architecture = supernet.encoding.sample(np.random.default_rng(0))
    >>> supernet(np.zeros((2, 8, 8, 1), "float32"), architecture).shape
    TensorShape([2, 3])
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from autonas.oneshot.supernet.architecture_vector import ArchitectureEncoding
from autonas.oneshot.supernet.shared import SharedComputations
from autonas.oneshot.supernet.supercell import SuperCell
from autonas.space.network import (STEM, NetworkSize, head_layers, network_reductions, place_cells, stem_downsamplings,
                                   stem_layers)
from autonas.space.operations import check_operations


class Supernet(keras.Model):
    """Every child of `space` in one model; call it as `supernet(inputs, architecture)`.

    Args:
        space: a `CellSearchSpace`.
        inputs_builder: callable returning `(inputs, features)`, as for `CellHyperModel`: the
            supernet takes the same raw inputs (pixels, strings) as the children.
        num_classes: number of classes.
        size: the `NetworkSize` of the children it holds.

    Raises:
        ValueError: if the features do not match the space's rank, have no static spatial
            shape, or need reduction cells the space does not search.
    """

    def __init__(self, space, *, inputs_builder, num_classes, size=NetworkSize(), name="supernet"):
        super().__init__(name=name)
        if int(num_classes) < 2:
            raise ValueError(f"A classifier needs at least 2 classes, got {num_classes}.")
        check_operations(space.operations, space.rank)
        self.space = space
        self.size = size
        self.num_classes = int(num_classes)
        self.encoding = ArchitectureEncoding(space)
        inputs, features = inputs_builder()
        self.frontend = keras.Model(inputs, features, name="frontend")
        spatial = tuple(features.shape[1:-1])
        if len(spatial) != space.rank or None in spatial:
            raise ValueError(f"The space is {space.rank}-D, but the features have shape {features.shape}; a supernet "
                             "needs a static spatial shape of that rank.")
        reductions = network_reductions(spatial, size)
        if reductions and "reduce" not in space.cell_types:
            raise ValueError(f"This network needs {reductions} reduction cell(s) but the space searches no reduction "
                             "cell; use CellSearchSpace(reduction_cell=True), or NetworkSize(reductions=0).")
        self.placements = place_cells(size, reductions)
        self.stem = stem_layers(space.rank, size, stem_downsamplings(spatial, size))
        self.shared = SharedComputations()
        self.cells = [SuperCell(space.operations, space.num_blocks, filters=p.filters, reduction=p.reduction,
                                older_is_larger=p.older_is_larger, shared=self.shared, name=p.name)
                      for p in self.placements]
        self.head = head_layers(space.rank, self.num_classes, size.dropout)
        self._build_layers(features.shape)

    def _build_layers(self, feature_shape):
        """Create every weight now: a forward pass would only build the chosen operations."""
        stem_shape = tuple(feature_shape)
        for layer in self.stem:
            layer.build(stem_shape)
            stem_shape = layer.compute_output_shape(stem_shape)
        shapes = []
        for placement, cell in zip(self.placements, self.cells):
            older, newer = (stem_shape if i == STEM else shapes[i] for i in (placement.older, placement.newer))
            cell.build(older, newer)
            shapes.append((None,) * (self.space.rank + 1) + (cell.output_channels,))
        self.head[-1].build((None, self.cells[-1].output_channels))
        self.built = True

    def call(self, inputs, architecture, training=None, batch_statistics=False):
        """Class probabilities of the child `architecture` (an int vector, see `architecture_vector`).

        With `batch_statistics`, batch normalisation uses (and updates) the batch's statistics
        as in training, but dropout stays off: how a child is scored with shared weights, since
        the moving statistics are averages over every child trained.

        Raises:
            ValueError: for an architecture of the wrong length, or (when it is a concrete
                value) with an index out of range.
        """
        architecture = self._architecture_tensor(architecture)

        def run_cell(cell, placement, older, newer):
            choices = architecture[self.encoding.cell_slice(placement.cell_type)]
            return cell(older, newer, choices, training=training or batch_statistics)

        return self.forward(inputs, run_cell, training, batch_statistics)

    def relax(self, inputs, input_weights, op_weights, training=None, batch_statistics=False):
        """Class probabilities under the factorised relaxation DARTS trains here (`SuperCell.relax`).

        Args:
            input_weights: `{cell_type: tensor (num_blocks, 2, NUM_CELL_INPUTS + num_blocks - 1)}`:
                per block and slot, a distribution over the states it can read.
            op_weights: `{cell_type: tensor (num_blocks, 2, len(operations))}`: per block and
                slot, a distribution over the operations.
            training: training mode (batch statistics, dropout).
            batch_statistics: batch statistics (updating the moving ones) without dropout, as
                in `call`.
        """

        def run_cell(cell, placement, older, newer):
            return cell.relax(older, newer, input_weights[placement.cell_type], op_weights[placement.cell_type],
                              training=training or batch_statistics)

        return self.forward(inputs, run_cell, training, batch_statistics)

    def forward(self, inputs, run_cell, training=None, batch_statistics=False):
        """Class probabilities, with each cell computed by `run_cell(cell, placement, older, newer)`.

        What surrounds the cells (frontend, stem, head) is the same whichever way the cells
        compute: one child (`call`), or a relaxation of all of them (`relax`).

        Args:
            inputs: raw inputs, as the frontend takes them.
            run_cell: returns the output of `cell` (a `SuperCell` at `placement`) on its inputs.
            training: training mode (batch statistics, dropout).
            batch_statistics: batch statistics in the stem (as `run_cell` should use them in the
                cells) without dropout.
        """
        x = self.frontend(inputs, training=training)
        stem = x
        for layer in self.stem:
            stem = layer(stem, training=training or batch_statistics)
        outputs = []
        for placement, cell in zip(self.placements, self.cells):
            older, newer = (stem if i == STEM else outputs[i] for i in (placement.older, placement.newer))
            outputs.append(run_cell(cell, placement, older, newer))
        x = outputs[-1]
        for layer in self.head:
            x = layer(x, training=training)
        return x

    def _architecture_tensor(self, architecture):
        if isinstance(architecture, tf.Tensor) and not tf.executing_eagerly():
            length = architecture.shape[0] if architecture.shape.rank == 1 else -1
            if architecture.shape.rank != 1 or length not in (None, len(self.encoding)):
                raise ValueError(f"An architecture is a 1-D vector of {len(self.encoding)} integers, got shape "
                                 f"{architecture.shape}.")
            return ops.cast(architecture, "int32")
        return ops.convert_to_tensor(self.encoding.check(architecture), "int32")
