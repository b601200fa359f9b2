"""Architectures as plain frozen data.

A cell has two inputs (state 0: the output of the cell before the previous one; state 1: the
output of the previous cell) and B blocks. Block b reads two earlier states (any index below
2 + b), applies one operation to each and adds the results, producing state 2 + b. The cell's
output concatenates the states listed in `concat` (by default every block output that no other
block reads, as in NASNet). A genotype may also fix how the network ends (`Head`: the pooling over
positions and a bag-of-n-grams branch for texts); without one it ends as every image network does.
A text genotype may also fix the width of its token embedding (`embedding`), and any genotype
its network's width, as a multiple of the filters its size gives (`width_multiplier`).

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

# How a `Head` pools the last cell's positions into one vector: their mean, their maximum (Kim's
# max-over-time pooling for sentences) or a learned softmax-weighted mean.
POOLINGS = ("average", "max", "attention")
# Whether a text network also reads its text as a bag of word 1- and 2-grams (TF-IDF weighted,
# unit length): not at all, beside the pooled cells ("fused": one linear layer over both), or
# instead of the cells ("alone": the TF-IDF + logistic regression baseline, as a network).
NGRAM_BRANCHES = ("none", "fused", "alone")


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
class Head:
    """How a network ends after its cells: `pooling` (one of `POOLINGS`) and `ngrams` (one of
    `NGRAM_BRANCHES`). `Head()` is the end every network had before heads were searched."""

    pooling: str = "average"
    ngrams: str = "none"

    def __post_init__(self):
        if self.pooling not in POOLINGS:
            raise ValueError(f"Head pooling must be one of {POOLINGS}, got {self.pooling!r}.")
        if self.ngrams not in NGRAM_BRANCHES:
            raise ValueError(f"Head ngrams must be one of {NGRAM_BRANCHES}, got {self.ngrams!r}.")

    @property
    def reads_cells(self):
        """Whether the network uses its cells at all (not when the n-grams stand alone)."""
        return self.ngrams != "alone"

    def __str__(self):
        if not self.reads_cells:
            return "ngrams alone"
        return f"{self.pooling} pooling" + (" + ngrams" if self.ngrams == "fused" else "")


@dataclasses.dataclass(frozen=True)
class Genotype:
    """A full architecture: one normal cell, one reduction cell, and how the network ends.

    `reduce` is None for networks without reduction cells (short sequences): searching a cell
    the network never builds would only add decisions that change nothing. `head` is None for
    the default end (`Head()`), so genotypes of spaces that do not search it stay as they were.
    `embedding` is the width of a text network's token embedding, None for the task's own
    (`embedding_dim`) or where there is none (images; n-grams alone). `width_multiplier`
    multiplies the filters of every size the network is built at (MobileNet's width
    multiplier: what a search for small, fast models varies beside the cells); None is 1.
    """

    normal: Cell
    reduce: Cell | None = None
    head: Head | None = None
    embedding: int | None = None
    width_multiplier: float | None = None

    def __post_init__(self):
        if self.head == Head():  # one form for the default end: equal genotypes compare equal
            object.__setattr__(self, "head", None)
        if not self.ending.reads_cells:  # the n-grams alone: no tokens are embedded
            object.__setattr__(self, "embedding", None)
        if self.embedding is not None:
            if not _is_index(self.embedding) or self.embedding < 1:
                raise ValueError(f"A genotype's embedding must be a positive int or None, got {self.embedding!r}.")
            object.__setattr__(self, "embedding", int(self.embedding))
        object.__setattr__(self, "width_multiplier", _multiplier(self.width_multiplier, self.ending.reads_cells))

    @property
    def ending(self):
        """The `Head` the network is built with (`Head()` when `head` is None)."""
        return self.head or Head()

    def to_dict(self):
        data = {"normal": self.normal.to_dict(), "reduce": None if self.reduce is None else self.reduce.to_dict()}
        if self.head is not None:
            data["head"] = dataclasses.asdict(self.head)
        if self.embedding is not None:
            data["embedding"] = self.embedding
        if self.width_multiplier is not None:
            data["width_multiplier"] = self.width_multiplier
        return data

    @classmethod
    def from_dict(cls, data):
        reduce, head = data.get("reduce"), data.get("head")
        return cls(normal=Cell.from_dict(data["normal"]), reduce=None if reduce is None else Cell.from_dict(reduce),
                   head=None if head is None else Head(**head), embedding=data.get("embedding"),
                   width_multiplier=data.get("width_multiplier"))

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
        if not self.ending.reads_cells:
            return f"head: {self.head} (no cells)"
        text = " | ".join(f"{name}: {cell}" for name, cell in self.cells.items())
        text = text if self.head is None else f"{text} | head: {self.head}"
        text = text if self.embedding is None else f"{text} | embedding: {self.embedding}"
        return text if self.width_multiplier is None else f"{text} | width: x{self.width_multiplier:g}"

    def plot(self, axes=None):
        """The cells as directed graphs: a matplotlib Figure (`autonas.plots.plot_cell`)."""
        from autonas.plots import plot_cell  # matplotlib stays optional: imported when drawing

        return plot_cell(self, axes=axes)

    def summary(self, width=60):
        """A short one-line form for progress output: operations per cell, abbreviated."""
        text = " ".join(f"{name[0].upper()}[{','.join(_abbreviate(op) for op in cell.operations)}]"
                        for name, cell in self.cells.items())
        if self.head is not None:
            text = (f"H[{self.head.pooling[:3]}{',ng' if self.head.ngrams == 'fused' else ''}] {text}"
                    if self.head.reads_cells else "ngrams alone")
        if self.embedding is not None:
            text = f"E{self.embedding} {text}"
        if self.width_multiplier is not None:
            text = f"W{self.width_multiplier:g} {text}"
        return text if len(text) <= width else text[: width - 3] + "..."


def _multiplier(value, reads_cells):
    """A genotype's `width_multiplier` in its one form: None for 1 and for a network without
    cells (nothing to widen), else a positive finite float."""
    if value is None or not reads_cells:
        return None
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 < float(value) < float("inf"):
        raise ValueError(f"A genotype's width_multiplier must be a positive number or None, got {value!r}.")
    return None if float(value) == 1.0 else float(value)


def _is_index(value):
    """Whether `value` is an integer (Python's or numpy's), not a bool, a float or a string."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)  # numpy's bool is no Integral


def _abbreviate(op):
    return (op.replace("sep_conv_", "sep").replace("dil_conv_", "dil").replace("max_pool_", "max")
            .replace("avg_pool_", "avg").replace("identity", "id").replace("self_attention", "attn")
            .replace("conv_", "c"))
