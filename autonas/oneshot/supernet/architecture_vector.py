"""Architectures of a `CellSearchSpace` as integer vectors.

A supernet takes the sampled architecture as a tensor, so every architecture must have the same
form: one integer per hyperparameter of the space, in the space's declaration order
(`{cell}_b{k}_input_a`, `{cell}_b{k}_op_a`, `{cell}_b{k}_input_b`, `{cell}_b{k}_op_b`, for each
cell type and block). An input entry is the index of the state read (which equals the state
number); an op entry is the index into `space.operations`.

Example:
    >>> from autonas.space import CellSearchSpace
    >>> space = CellSearchSpace(["conv_3x3", "identity"], num_blocks=1, reduction_cell=False)
    >>> encoding = ArchitectureEncoding(space)
    >>> encoding.decode([1, 0, 0, 1]).normal.blocks[0]
    Block(input_a=1, op_a='conv_3x3', input_b=0, op_b='identity')
    >>> encoding.encode(encoding.decode([1, 0, 0, 1])).tolist()
    [1, 0, 0, 1]
"""
from __future__ import annotations

import keras_tuner
import numpy as np

FIELDS_PER_BLOCK = 4  # input_a, op_a, input_b, op_b


class ArchitectureEncoding:
    """The integer-vector view of one `CellSearchSpace`.

    Args:
        space: a `autonas.space.CellSearchSpace`.

    Attributes:
        names: hyperparameter names, one per vector entry.
        options: the choice values of each entry (state numbers or operation names).
        sizes: the number of options of each entry.
    """

    def __init__(self, space):
        self.space = space
        declared = space.hyperparameters().space
        self.names = tuple(hp.name for hp in declared)
        self.options = tuple(tuple(hp.values) for hp in declared)
        self.sizes = np.array([len(values) for values in self.options], dtype=np.int32)
        self.cell_length = space.num_blocks * FIELDS_PER_BLOCK
        if len(self.names) != self.cell_length * len(space.cell_types):
            raise ValueError(f"Unexpected hyperparameters for a cell space: {self.names}.")

    def __len__(self):
        return len(self.names)

    def cell_slice(self, cell_type):
        """The slice of the vector that encodes `cell_type` ("normal" or "reduce")."""
        start = self.space.cell_types.index(cell_type) * self.cell_length
        return slice(start, start + self.cell_length)

    def check(self, vector):
        """`vector` as a 1-D int32 numpy array, after checking it fits the space.

        Raises:
            ValueError: for a wrong shape or length, non-integer entries, or an index out of range.
        """
        array = np.asarray(vector)
        if array.ndim != 1 or array.shape[0] != len(self):
            raise ValueError(
                f"An architecture is a 1-D vector of {len(self)} integers (one per hyperparameter of the "
                f"space), got shape {array.shape}."
            )
        if array.dtype.kind not in "iu":
            raise ValueError(f"An architecture holds integer indices, got dtype {array.dtype}.")
        bad = np.flatnonzero((array < 0) | (array >= self.sizes))
        if bad.size:
            index = int(bad[0])
            raise ValueError(
                f"Architecture entry {index} ({self.names[index]}) is {int(array[index])}, but it must be in "
                f"0..{int(self.sizes[index]) - 1}."
            )
        return array.astype(np.int32)

    def encode(self, genotype):
        """The vector of `genotype`.

        Raises:
            ValueError: if the genotype does not fit the space (see `CellSearchSpace.values`).
        """
        values = self.space.values(genotype)
        return np.array([options.index(values[name]) for name, options in zip(self.names, self.options)],
                        dtype=np.int32)

    def decode(self, vector):
        """The genotype of `vector`, declared through the space so both views always agree."""
        vector = self.check(vector)
        hp = keras_tuner.HyperParameters()
        hp.values.update({name: options[index] for name, options, index in zip(self.names, self.options, vector)})
        return self.space.declare(hp)

    def sample(self, rng):
        """A uniformly random architecture; `rng` is a `numpy.random.Generator`."""
        return rng.integers(self.sizes).astype(np.int32)
