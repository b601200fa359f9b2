"""ENAS's derived candidates, with DARTS's remedy against collapse to parameter-free cells.

A controller trained on shared weights drifts to identity and pooling (they score well early,
before any convolution has learned), and a child that is mostly parameter-free retrains poorly.
As DARTS's derivation does (`autonas.oneshot.parameter_free.cap_parameter_free`), each
candidate keeps at most `max_parameter_free` parameter-free operations in its normal cell; the
slots that chose one with the weakest preference take the operation with weights that the
controller picks most often there. The controller's per-slot preferences are estimated from a
pool of its samples (its decisions are sequential, so it has no per-slot marginals in closed form).
"""
from __future__ import annotations

import numpy as np

from autonas.oneshot.parameter_free import cap_parameter_free, parameter_free
from autonas.oneshot.supernet.architecture_vector import FIELDS_PER_BLOCK

OP_FIELDS = (1, 3)  # op_a and op_b within a block's four entries


def normal_op_columns(encoding):
    """The vector entries holding the normal cell's operations."""
    cell = encoding.cell_slice("normal")
    return np.array([index for index in range(cell.start, cell.stop)
                     if (index - cell.start) % FIELDS_PER_BLOCK in OP_FIELDS])


def operation_frequencies(encoding, pool):
    """Per normal-cell op entry, how often `pool` (controller samples, one vector per row)
    picks each operation, smoothed by one count each so no operation has probability 0."""
    columns = normal_op_columns(encoding)
    num_operations = len(encoding.space.operations)
    counts = np.stack([np.bincount(pool[:, column], minlength=num_operations) for column in columns]) + 1.0
    return counts / counts.sum(axis=1, keepdims=True)


def cap_normal_cell(encoding, vectors, frequencies, max_parameter_free):
    """`vectors` (rows) with at most `max_parameter_free` parameter-free operations in the
    normal cell each (None: unchanged); `frequencies` from `operation_frequencies`."""
    vectors = np.array(vectors, dtype=np.int32, ndmin=2)
    if max_parameter_free is None or "normal" not in encoding.space.cell_types:
        return vectors
    free = parameter_free(encoding.space.operations)
    columns = normal_op_columns(encoding)
    for vector in vectors:
        vector[columns] = cap_parameter_free(vector[columns], frequencies, free, max_parameter_free)
    return vectors
