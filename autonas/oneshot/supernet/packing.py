"""Where each candidate's weights sit in an edge's flat weight vectors.

An edge stores the weights of all its candidates in two flat variables (trainable weights and
batch-norm statistics) rather than one Keras variable per weight. Each branch of the edge's
switch then captures one tensor instead of one per variable (`tf.switch_case` gives every
branch the union of all branches' captures, which grows with the square of the candidates),
and the optimizer updates a handful of variables per step instead of thousands.
"""
from __future__ import annotations

import dataclasses
import math

from keras import ops


@dataclasses.dataclass(frozen=True)
class Slot:
    """One weight inside a flat vector: `flat[start:stop]` reshaped to `shape`."""

    start: int
    stop: int
    shape: tuple

    def read(self, flat):
        return ops.reshape(flat[self.start:self.stop], self.shape)


class FlatLayout:
    """Appends weights of given shapes to a flat vector and remembers where each one went."""

    def __init__(self):
        self.size = 0

    def add(self, shape):
        """Reserve room for a weight of `shape`; returns its `Slot`."""
        shape = tuple(int(s) for s in shape)
        slot = Slot(self.size, self.size + math.prod(shape), shape)
        self.size = slot.stop
        return slot


def replace(flat, slots, values):
    """`flat` with the entries of `slots` (in increasing order, contiguous) replaced by `values`."""
    if not slots:
        return flat
    pieces = [ops.reshape(value, (-1,)) for value in values]
    return ops.concatenate([flat[:slots[0].start], *pieces, flat[slots[-1].stop:]], axis=0)
