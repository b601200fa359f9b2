"""The architectures a search tries first, so that it starts from a good plain network.

A search that starts from random cells can spend its whole budget below what a plain CNN gets.
So evolution and reinforce (the oracles that take starting points) first try a plain residual
convolution cell built for the space (`plain_cell`), then every published cell that fits the
space (`autonas.space.published`; those have 5 blocks, so they fit `num_blocks=5`). The search can
then only improve on them.

Example:
    >>> from autonas.space.hypermodel import CellSearchSpace
    >>> [str(genotype.normal) for genotype in starting_cells(CellSearchSpace(num_blocks=2))]
    ['[conv_3x3(1) + identity(1)] [conv_3x3(2) + identity(2)] -> concat[3]']
"""
from __future__ import annotations

from autonas.space.genotype import Block, Cell, Genotype
from autonas.space.published import PUBLISHED_CELLS

# The plain convolution of each rank's operation list (`autonas.space.operations`).
PLAIN_CONVOLUTIONS = {2: "conv_3x3", 1: "conv_3"}


def plain_cell(num_blocks, convolution):
    """A residual chain: block k adds `convolution` of the state before it to that state itself.

    Block 0 reads the newer cell input; in a reduction cell both of its edges carry the stride
    (`identity` becomes a factorized reduction). It is a plain ResNet-style stack of
    `num_blocks` convolutions per cell, the kind of network a hand-written baseline is.
    """
    return Cell.from_blocks(Block(k + 1, convolution, k + 1, "identity") for k in range(num_blocks))


def starting_cells(space):
    """Genotypes for `space` to try first: the plain cell (when the space has its convolution
    and `identity`), then the published cells that fit it, in `PUBLISHED_CELLS` order."""
    cells = []
    convolution = PLAIN_CONVOLUTIONS.get(space.rank)
    if convolution in space.operations and "identity" in space.operations:
        cell = plain_cell(space.num_blocks, convolution)
        cells.append(Genotype(normal=cell, reduce=cell if "reduce" in space.cell_types else None))
    for genotype in PUBLISHED_CELLS.values():
        try:
            space.values(genotype)
        except ValueError:
            continue
        cells.append(genotype)
    return cells
