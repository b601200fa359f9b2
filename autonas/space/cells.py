"""Turn a `Cell` genotype into Keras layers (functional API)."""
from keras import layers

from autonas.layers import FactorizedReduce
from autonas.space.genotype import NUM_CELL_INPUTS
from autonas.space.operations import BATCHNORM_MOMENTUM, apply_operation, relu_conv_bn


def build_cell(older, newer, cell, *, filters, reduction, older_is_larger, name):
    """Apply `cell` to its two inputs and return the concatenated output.

    Both inputs are first projected to `filters` channels (1x1 ReLU-conv-BN); the older input
    goes through a factorized reduction instead when it is twice the newer one's spatial size
    (the previous cell was a reduction cell). In a reduction cell, operations reading a cell
    input use stride 2, and cell inputs that appear in the output are reduced the same way.

    Args:
        older: output of the cell before the previous one (state 0).
        newer: output of the previous cell (state 1).
        cell: a `Cell`.
        filters: channels of every hidden state in this cell.
        reduction: whether this cell halves the spatial size.
        older_is_larger: whether `older` has twice the spatial size of `newer`.
        name: unique prefix for the cell's layers.

    Returns:
        A tensor with `filters * len(cell.concat)` channels.
    """
    rank = len(newer.shape) - 2
    if older_is_larger:
        older = FactorizedReduce(filters, batchnorm_momentum=BATCHNORM_MOMENTUM, name=f"{name}_pre0")(older)
    else:
        older = relu_conv_bn(older, filters, 1, 1, rank, f"{name}_pre0")
    newer = relu_conv_bn(newer, filters, 1, 1, rank, f"{name}_pre1")
    states = [older, newer]
    for index, block in enumerate(cell.blocks):
        branches = []
        for slot, (state, op) in zip("ab", block.pairs()):
            strides = 2 if reduction and state < NUM_CELL_INPUTS else 1
            branches.append(
                apply_operation(op, states[state], filters=filters, strides=strides, name=f"{name}_b{index}{slot}")
            )
        states.append(layers.Add(name=f"{name}_b{index}_add")(branches))
    outputs = []
    for state in cell.concat:
        out = states[state]
        if reduction and state < NUM_CELL_INPUTS:
            out = FactorizedReduce(filters, batchnorm_momentum=BATCHNORM_MOMENTUM,
                                   name=f"{name}_out{state}_reduce")(out)
        outputs.append(out)
    if len(outputs) == 1:
        return outputs[0]
    return layers.Concatenate(axis=-1, name=f"{name}_concat")(outputs)
