"""Architectures as plain frozen data.

A cell has two inputs (state 0: the output of the cell before the previous one; state 1: the
output of the previous cell) and B blocks. Block b reads two earlier states (any index below
2 + b), applies one operation to each and adds the results, producing state 2 + b. The cell's
output concatenates the states listed in `concat` (by default every block output that no other
block reads, as in NASNet).

Example:
    >>> cell = Cell.from_blocks([Block(0, "sep_conv_3x3", 1, "identity"),
    ...                          Block(2, "max_pool_3x3", 1, "conv_3x3")])
    >>> cell.concat
    (3,)
    >>> genotype = Genotype(normal=cell, reduce=cell)
    >>> Genotype.from_json(genotype.to_json()) == genotype
    True
"""
from __future__ import annotations

import dataclasses
import json
import numbers
from typing import Iterable

NUM_CELL_INPUTS = 2


@dataclasses.dataclass(frozen=True)
class Block:
    """One block: `op_a(state[input_a]) + op_b(state[input_b])`."""

    input_a: int
    op_a: str
    input_b: int
    op_b: str

    def pairs(self):
        """The block's two (input, operation) pairs."""
        return ((self.input_a, self.op_a), (self.input_b, self.op_b))


@dataclasses.dataclass(frozen=True)
class Cell:
    """A cell: blocks in order, and the states concatenated into its output."""

    blocks: tuple
    concat: tuple

    def __post_init__(self):
        object.__setattr__(self, "blocks", tuple(self.blocks))
        concat = tuple(self.concat)
        if not all(_is_index(state) for state in concat):
            raise ValueError(f"concat must list state indices (ints), got {list(concat)!r}.")
        object.__setattr__(self, "concat", tuple(int(i) for i in concat))
        if not self.blocks:
            raise ValueError("A cell needs at least one block.")
        for index, block in enumerate(self.blocks):
            if not isinstance(block, Block):
                raise TypeError(f"Cell blocks must be Block instances, got {type(block).__name__}.")
            for state, op in block.pairs():
                if not isinstance(op, str) or not op:
                    raise ValueError(f"Block {index}: operation must be a non-empty name, got {op!r}.")
                if not _is_index(state):
                    raise ValueError(f"Block {index}: its inputs must be state indices (ints), got {state!r}.")
                if not 0 <= state < NUM_CELL_INPUTS + index:
                    raise ValueError(
                        f"Block {index} reads state {state}, but only states 0..{NUM_CELL_INPUTS + index - 1} "
                        "exist before it (0, 1: cell inputs; 2 + b: output of block b)."
                    )
        num_states = NUM_CELL_INPUTS + len(self.blocks)
        if not self.concat:
            raise ValueError("A cell must concatenate at least one state into its output.")
        for state in self.concat:
            if not 0 <= state < num_states:
                raise ValueError(f"concat names state {state}, but the cell has states 0..{num_states - 1}.")
        # Plain ints (numpy's, e.g. from a random draw, would not write to JSON).
        object.__setattr__(self, "blocks", tuple(Block(int(b.input_a), b.op_a, int(b.input_b), b.op_b)
                                                 for b in self.blocks))

    @classmethod
    def from_blocks(cls, blocks: Iterable[Block]) -> "Cell":
        """A cell whose output concatenates every block output no other block reads (NASNet)."""
        blocks = tuple(blocks)
        used = {state for block in blocks for state, _ in block.pairs()}
        concat = tuple(
            NUM_CELL_INPUTS + index for index in range(len(blocks)) if NUM_CELL_INPUTS + index not in used
        )
        return cls(blocks=blocks, concat=concat)

    @property
    def operations(self):
        """Every operation name in the cell, in block order."""
        return tuple(op for block in self.blocks for _, op in block.pairs())

    def to_dict(self):
        return {
            "blocks": [[b.input_a, b.op_a, b.input_b, b.op_b] for b in self.blocks],
            "concat": list(self.concat),
        }

    @classmethod
    def from_dict(cls, data):
        return cls(blocks=tuple(Block(a, oa, b, ob) for a, oa, b, ob in data["blocks"]), concat=tuple(data["concat"]))

    def __str__(self):
        blocks = " ".join(f"[{b.op_a}({b.input_a}) + {b.op_b}({b.input_b})]" for b in self.blocks)
        return f"{blocks} -> concat{list(self.concat)}"


@dataclasses.dataclass(frozen=True)
class Genotype:
    """A full architecture: one normal cell and one reduction cell.

    `reduce` is None for networks without reduction cells (short sequences): searching a cell
    the network never builds would only add decisions that change nothing.
    """

    normal: Cell
    reduce: Cell | None = None

    def to_dict(self):
        return {"normal": self.normal.to_dict(), "reduce": None if self.reduce is None else self.reduce.to_dict()}

    @classmethod
    def from_dict(cls, data):
        reduce = data.get("reduce")
        return cls(normal=Cell.from_dict(data["normal"]), reduce=None if reduce is None else Cell.from_dict(reduce))

    def to_json(self):
        """A JSON string; `Genotype.from_json` restores an equal genotype."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))

    @property
    def cells(self):
        """`{"normal": Cell, "reduce": Cell}`, without the reduction cell when there is none."""
        return {"normal": self.normal, **({} if self.reduce is None else {"reduce": self.reduce})}

    @property
    def operations(self):
        return tuple(op for cell in self.cells.values() for op in cell.operations)

    def __str__(self):
        return " | ".join(f"{name}: {cell}" for name, cell in self.cells.items())

    def plot(self, axes=None):
        """The cells as directed graphs: a matplotlib Figure (`autonas.plots.plot_cell`)."""
        from autonas.plots import plot_cell  # matplotlib stays optional: imported when drawing

        return plot_cell(self, axes=axes)

    def summary(self, width=60):
        """A short one-line form for progress output: operations per cell, abbreviated."""
        text = " ".join(f"{name[0].upper()}[{','.join(_abbreviate(op) for op in cell.operations)}]"
                        for name, cell in self.cells.items())
        return text if len(text) <= width else text[: width - 3] + "..."


def _is_index(value):
    """Whether `value` is an integer (Python's or numpy's), not a bool, a float or a string."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)  # numpy's bool is no Integral


def _abbreviate(op):
    return (op.replace("sep_conv_", "sep").replace("dil_conv_", "dil").replace("max_pool_", "max")
            .replace("avg_pool_", "avg").replace("identity", "id").replace("self_attention", "attn")
            .replace("conv_", "c"))
