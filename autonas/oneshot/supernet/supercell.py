"""One supernet cell: pre-projections, an `Edge` per (block, slot), and a masked output.

The input projections and strides are the child cell's (`autonas.space.cell_builder`). A child
cell outputs the concatenation of the block outputs no block reads, so its width depends on the
architecture. The supernet cell instead always outputs every block output, with the read ones
multiplied by zero. Whatever consumes a cell output (the next cells' 1x1 pre-projections or
FactorizedReduce, the head's dense layer after global pooling) is linear in its input channels
after an elementwise ReLU, so it computes the same as the child's layer on the narrower
concatenation when it holds weights for every block output (see
`autonas.testing.supernet.load_child_weights`): zeroed channels contribute nothing, and shapes
stay static.
"""
from __future__ import annotations

from keras import layers, ops

from autonas.oneshot.supernet.edges import Edge
from autonas.oneshot.supernet.architecture_vector import FIELDS_PER_BLOCK
from autonas.space.cell_builder import input_projection, input_stride
from autonas.space.genotype import NUM_CELL_INPUTS
from autonas.space.hypermodel import SLOTS


def unused_blocks(choices, num_blocks):
    """A float mask over the blocks: 1 where no block reads the block's output.

    Args:
        choices: a cell's int vector, `[input_a, op_a, input_b, op_b]` per block.
        num_blocks: blocks in the cell.
    """
    inputs = ops.take(ops.reshape(choices, (num_blocks, FIELDS_PER_BLOCK)), [0, 2], axis=1)
    states = ops.arange(NUM_CELL_INPUTS + num_blocks, dtype="int32")
    read = ops.any(ops.equal(ops.reshape(inputs, (-1, 1)), states), axis=0)
    return ops.cast(ops.logical_not(read[NUM_CELL_INPUTS:]), "float32")


def expected_unused(input_weights, num_blocks):
    """The relaxed `unused_blocks`: per block, the probability that no later slot reads its output.

    Reading each slot's input weights as independent probabilities, block k's output is unused
    with probability `prod over later blocks b and slots s of (1 - input_weights[b, s, 2 + k])`;
    for one-hot weights that is the child's 0/1 mask, so the relaxed cell output equals the child's.

    Args:
        input_weights: shape `(num_blocks, 2, NUM_CELL_INPUTS + num_blocks - 1)`.
        num_blocks: blocks in the cell.
    """
    reads = input_weights[:, :, NUM_CELL_INPUTS:NUM_CELL_INPUTS + num_blocks - 1]
    later = ops.cast(ops.greater(ops.arange(num_blocks)[:, None], ops.arange(num_blocks - 1)[None, :]), reads.dtype)
    unused = ops.prod(1.0 - reads * later[:, None, :], axis=(0, 1))
    return ops.concatenate([unused, ops.ones((1,), reads.dtype)], axis=0)


class SuperCell(layers.Layer):
    """Every architecture of one cell position in the network, with shared weights.

    Args:
        operations: the space's operation names.
        num_blocks: blocks per cell.
        filters: channels of every state in this cell.
        reduction: whether this cell halves the spatial size (cell inputs read with stride 2).
        older_is_larger: whether the older input has twice the newer one's spatial size.
        shared: the supernet's `SharedComputations`.
    """

    def __init__(self, operations, num_blocks, *, filters, reduction, older_is_larger, shared, **kwargs):
        super().__init__(**kwargs)
        self.operations = tuple(operations)
        self.num_blocks = int(num_blocks)
        self.filters = int(filters)
        self.reduction = bool(reduction)
        self.pre0 = input_projection(filters, reduce=older_is_larger, name="pre0")
        self.pre1 = input_projection(filters, reduce=False, name="pre1")
        self.edges = []
        for block in range(self.num_blocks):
            strides = [input_stride(state, self.reduction) for state in range(NUM_CELL_INPUTS + block)]
            self.edges.append([Edge(operations, filters=filters, input_strides=strides, shared=shared,
                                    name=f"b{block}{slot}")
                               for slot in SLOTS])

    @property
    def output_channels(self):
        """Channels of the cell output: every block output, used or not."""
        return self.num_blocks * self.filters

    def build(self, older_shape, newer_shape):
        self.pre0.build(older_shape)
        self.pre1.build(newer_shape)
        state_shape = tuple(newer_shape[:-1]) + (self.filters,)
        for pair in self.edges:
            for edge in pair:
                edge.build(state_shape)

    def call(self, older, newer, choices, training=None):
        """The cell for the architecture `choices` (`[input_a, op_a, input_b, op_b]` per block).

        Returns:
            A tensor with `output_channels` channels; the blocks some block reads are zero.
        """
        states = self.project(older, newer, training)
        for block, (edge_a, edge_b) in enumerate(self.edges):
            field = FIELDS_PER_BLOCK * block
            states.append(edge_a(states, choices[field], choices[field + 1], training=training)
                          + edge_b(states, choices[field + 2], choices[field + 3], training=training))
        return self.concat(states[NUM_CELL_INPUTS:], unused_blocks(choices, self.num_blocks))

    def relax(self, older, newer, input_weights, op_weights, training=None):
        """The cell under the factorised relaxation of `Edge.relax` (what `autonas.oneshot.darts` trains).

        Args:
            input_weights: shape `(num_blocks, 2, NUM_CELL_INPUTS + num_blocks - 1)`: per block and
                slot, a distribution over the states it can read (zero past them).
            op_weights: shape `(num_blocks, 2, len(operations))`: per block and slot, a
                distribution over the operations.

        Returns:
            Every block output, each scaled by the probability that no block reads it
            (`expected_unused`).
        """
        states = self.project(older, newer, training)
        for block, pair in enumerate(self.edges):
            states.append(sum(edge.relax(states, input_weights[block, slot], op_weights[block, slot], training=training)
                              for slot, edge in enumerate(pair)))
        return self.concat(states[NUM_CELL_INPUTS:], expected_unused(input_weights, self.num_blocks))

    def concat(self, block_outputs, block_weights):
        """Concatenate every block output, each scaled by its weight (a 0/1 mask when sampling)."""
        return ops.concatenate(block_outputs, axis=-1) * ops.repeat(block_weights, self.filters)

    def project(self, older, newer, training=None):
        """The cell's first two states: its inputs brought to `filters` channels."""
        return [self.pre0(older, training=training), self.pre1(newer, training=training)]
