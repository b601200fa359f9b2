"""The architectures a search tries first, so that it starts from a good plain network.

A search that starts from random cells can spend its whole budget below what a plain CNN gets.
So evolution and reinforce (the oracles that take starting points) first try a plain residual
convolution cell built for the space (`plain_cell`), then, in a space that searches how text
networks end, the known-good text designs (`TEXT_STARTS`: TF-IDF + a linear model, and Kim's
parallel convolutions with max-over-time pooling), then every published cell that fits the
space (`autonas.space.published`; those have 5 blocks, so they fit `num_blocks=5`). The search can
then only improve on them.

Example:
    >>> from autonas.space.hypermodel import CellSearchSpace
    >>> [str(genotype.normal) for genotype in starting_cells(CellSearchSpace(num_blocks=2))]
    ['[conv_3x3(1) + identity(1)] [conv_3x3(2) + identity(2)] -> concat[3]']
"""
from __future__ import annotations

import dataclasses

from autonas.space.genotype import Block, Cell, Genotype, Head
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


def parallel_cell(num_blocks, convolutions):
    """Kim (2014)'s text CNN as a cell: block k adds the k-th of `convolutions` (cycled) of the
    newer cell input to that input, and the cell concatenates every block, so its output holds
    convolutions of several widths side by side (max-pooled by a `Head(pooling="max")`)."""
    return Cell.from_blocks(Block(1, convolutions[k % len(convolutions)], 1, "identity") for k in range(num_blocks))


# The known-good ends of a text network, each with the cells it is known with: a linear model
# over TF-IDF word 1-2 grams (the cells unused), and Kim's CNN, whose widths 3, 4, 5 become the
# 1-D operations' 3, 5, 7.
TEXT_STARTS = ((None, Head(ngrams="alone")),
               (("conv_3", "conv_5", "conv_7"), Head(pooling="max")))


def starting_cells(space):
    """Genotypes for `space` to try first: the plain cell (when the space has its convolution
    and `identity`), the `TEXT_STARTS` the space holds, then the published cells that fit it,
    in `PUBLISHED_CELLS` order."""
    cells = []
    convolution = PLAIN_CONVOLUTIONS.get(space.rank)
    if convolution in space.operations and "identity" in space.operations:
        cell = plain_cell(space.num_blocks, convolution)
        cells.append(Genotype(normal=cell, reduce=cell if "reduce" in space.cell_types else None))
    for convolutions, head in TEXT_STARTS:
        if head.pooling not in space.poolings or head.ngrams not in space.ngram_branches:
            continue
        if convolutions is None:  # no cells read: the space's default ones
            cells.append(dataclasses.replace(space.declare(space.hyperparameters()), head=head))
        elif set(convolutions) | {"identity"} <= set(space.operations):
            cell = parallel_cell(space.num_blocks, convolutions)
            cells.append(Genotype(normal=cell, reduce=cell if "reduce" in space.cell_types else None, head=head))
    for genotype in PUBLISHED_CELLS.values():
        try:
            space.values(genotype)
        except ValueError:
            continue
        cells.append(genotype)
    return cells
