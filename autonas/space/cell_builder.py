"""Turn a `Cell` genotype into Keras layers (functional API), and the parts a supernet cell shares.

`input_projection` and `input_stride` are the cell's rules that do not depend on the
architecture; `autonas.oneshot`'s supernet cell uses them too, so a child and the supernet that
holds it project and stride their inputs the same way.
"""
from keras import layers

from autonas.layers import FactorizedReduce
from autonas.space.genotype import NUM_CELL_INPUTS
from autonas.space.operations import BATCHNORM_MOMENTUM, ReluConvBN, apply_operation


def input_projection(filters, *, reduce, name):
    """The layer bringing a cell input to `filters` channels: a 1x1 ReLU-conv-BN, or a
    FactorizedReduce when the input has twice the cell's spatial size (`reduce`)."""
    if reduce:
        return FactorizedReduce(filters, batchnorm_momentum=BATCHNORM_MOMENTUM, name=name)
    return ReluConvBN(filters, 1, name=name)


def input_stride(state, reduction):
    """The stride an operation reads `state` with: 2 for a cell input of a reduction cell, else 1."""
    return 2 if reduction and state < NUM_CELL_INPUTS else 1


def build_cell(older, newer, cell, *, filters, reduction, older_is_larger, name):
    """Apply `cell` to its two inputs and return the concatenated output.

    Both inputs are first projected to `filters` channels (`input_projection`). In a reduction
    cell, operations reading a cell input use stride 2, and cell inputs that appear in the
    output are reduced the same way.

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
    states = [input_projection(filters, reduce=older_is_larger, name=f"{name}_pre0")(older),
              input_projection(filters, reduce=False, name=f"{name}_pre1")(newer)]
    for index, block in enumerate(cell.blocks):
        branches = [apply_operation(op, states[state], filters=filters, strides=input_stride(state, reduction),
                                    name=f"{name}_b{index}{slot}")
                    for slot, (state, op) in zip("ab", block.pairs())]
        states.append(layers.Add(name=f"{name}_b{index}_add")(branches))
    outputs = []
    for state in cell.concat:
        out = states[state]
        if input_stride(state, reduction) == 2:
            out = FactorizedReduce(filters, batchnorm_momentum=BATCHNORM_MOMENTUM,
                                   name=f"{name}_out{state}_reduce")(out)
        outputs.append(out)
    if len(outputs) == 1:
        return outputs[0]
    return layers.Concatenate(axis=-1, name=f"{name}_concat")(outputs)
