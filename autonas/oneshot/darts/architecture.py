"""DARTS's architecture parameters over a cell space, and their discretisation into a genotype.

In this space a block has two slots and each slot reads one (state, operation) pair, encoded as
two separate choices (`input_a`, `op_a`). The logits follow that factorisation: per cell type,
block and slot, one logit per readable state (`input_logits`, shape `(num_blocks, 2,
NUM_CELL_INPUTS + num_blocks - 1)`, entries past the block's readable states masked out) and
one per operation (`op_logits`, shape `(num_blocks, 2, len(operations))`), each turned into a
distribution by its own softmax. The supernet mixes the states, then the operations
(`Supernet.relax`), so an operation's weight is shared by every state its slot may read, as the
edge's kernels are.

Discretising follows DARTS: per slot the strongest operation, and per block the two strongest
inputs, distinct as DARTS's two incoming edges of a node are (the most likely pair of different
states). As a remedy against collapse to parameter-free cells (P-DARTS), at most
`max_parameter_free` slots of the normal cell keep a parameter-free operation: the others take
their strongest operation with weights.

Example:
    >>> import numpy as np
    >>> from autonas.space import CellSearchSpace
    >>> space = CellSearchSpace(["conv_3x3", "identity"], num_blocks=1, reduction_cell=False)
    >>> parameters = ArchitectureParameters(space, np.random.default_rng(0))
    >>> inputs, operations = parameters.probabilities()
    >>> operations["normal"].shape
    (1, 2, 2)
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from autonas.oneshot.parameter_free import cap_parameter_free, parameter_free
from autonas.oneshot.supernet.architecture_vector import FIELDS_PER_BLOCK
from autonas.space.genotype import NUM_CELL_INPUTS
from autonas.space.hypermodel import SLOTS

INITIAL_SCALE = 1e-3  # DARTS initialises every logit to 1e-3 * N(0, 1)
MASKED = 1e9  # subtracted from the logits of states a block cannot read: exactly zero weight


def readable_states(num_blocks):
    """A `(num_blocks, NUM_CELL_INPUTS + num_blocks - 1)` 0/1 mask: which states each block can read."""
    states = np.arange(NUM_CELL_INPUTS + num_blocks - 1)
    return (states[None, :] < NUM_CELL_INPUTS + np.arange(num_blocks)[:, None]).astype("float32")


class ArchitectureParameters:
    """The trainable logits of one cell space, and the mixture weights they give.

    Args:
        space: a `CellSearchSpace`.
        rng: a `numpy.random.Generator` for the initial values.
    """

    def __init__(self, space, rng):
        self.space = space
        blocks, operations = space.num_blocks, len(space.operations)
        self.mask = readable_states(blocks)
        self.input_logits, self.op_logits = {}, {}
        for cell_type in space.cell_types:
            self.input_logits[cell_type] = keras.Variable(
                INITIAL_SCALE * rng.standard_normal((blocks, len(SLOTS), self.mask.shape[1])).astype("float32"),
                name=f"{cell_type}_input_logits")
            self.op_logits[cell_type] = keras.Variable(
                INITIAL_SCALE * rng.standard_normal((blocks, len(SLOTS), operations)).astype("float32"),
                name=f"{cell_type}_op_logits")

    @property
    def variables(self):
        """Every logit variable, input logits first, in cell-type order."""
        cell_types = self.space.cell_types
        return [self.input_logits[c] for c in cell_types] + [self.op_logits[c] for c in cell_types]

    def weights(self):
        """`(input_weights, op_weights)` for `Supernet.relax`: masked softmaxes of the logits, as tensors."""
        unreadable = ops.convert_to_tensor(MASKED * (1.0 - self.mask[:, None, :]))
        input_weights = {cell_type: ops.softmax(logits - unreadable, axis=-1)
                         for cell_type, logits in self.input_logits.items()}
        op_weights = {cell_type: ops.softmax(logits, axis=-1) for cell_type, logits in self.op_logits.items()}
        return input_weights, op_weights

    def probabilities(self):
        """`weights()` as numpy arrays."""
        return tuple({cell: ops.convert_to_numpy(value) for cell, value in weights.items()}
                     for weights in self.weights())

    def get_values(self):
        """The logits as numpy arrays: `{"input": {cell_type: array}, "op": {cell_type: array}}`."""
        return {"input": {c: v.numpy() for c, v in self.input_logits.items()},
                "op": {c: v.numpy() for c, v in self.op_logits.items()}}

    def set_values(self, values):
        """Assign logits in the form `get_values` returns."""
        for cell_type in self.space.cell_types:
            self.input_logits[cell_type].assign(values["input"][cell_type])
            self.op_logits[cell_type].assign(values["op"][cell_type])


def one_hot_weights(space, vector):
    """`(input_weights, op_weights)` for `Supernet.relax` that select exactly the architecture `vector`."""
    blocks, operations = space.num_blocks, len(space.operations)
    input_weights, op_weights = {}, {}
    for position, cell_type in enumerate(space.cell_types):
        cell = np.reshape(vector[position * blocks * FIELDS_PER_BLOCK:(position + 1) * blocks * FIELDS_PER_BLOCK],
                          (blocks, len(SLOTS), 2))
        inputs = np.zeros((blocks, len(SLOTS), NUM_CELL_INPUTS + blocks - 1), "float32")
        chosen = np.zeros((blocks, len(SLOTS), operations), "float32")
        for block in range(blocks):
            for slot in range(len(SLOTS)):
                inputs[block, slot, cell[block, slot, 0]] = 1.0
                chosen[block, slot, cell[block, slot, 1]] = 1.0
        input_weights[cell_type], op_weights[cell_type] = inputs, chosen
    return input_weights, op_weights


def choose_inputs(input_probabilities):
    """Per block, the most likely pair of distinct states for its two slots.

    Args:
        input_probabilities: shape `(num_blocks, 2, NUM_CELL_INPUTS + num_blocks - 1)`.

    Returns:
        An int array `(num_blocks, 2)`.
    """
    chosen = []
    with np.errstate(divide="ignore"):
        log = np.log(np.asarray(input_probabilities, "float64"))
    for block, (first, second) in enumerate(log):
        readable = NUM_CELL_INPUTS + block
        joint = first[:readable, None] + second[None, :readable]
        np.fill_diagonal(joint, -np.inf)
        chosen.append(np.unravel_index(int(np.argmax(joint)), joint.shape))
    return np.array(chosen, dtype=np.int32)


def choose_operations(op_probabilities, free, max_parameter_free=None):
    """Per slot the most likely operation, with at most `max_parameter_free` parameter-free ones
    (`cap_parameter_free`).

    Args:
        op_probabilities: shape `(num_blocks, 2, num_operations)`.
        free: bool array over the operations (`parameter_free`).
        max_parameter_free: the cap, or None for none.

    Returns:
        An int array `(num_blocks, 2)` of operation indices.
    """
    probabilities = np.asarray(op_probabilities, "float64")
    return cap_parameter_free(np.argmax(probabilities, axis=-1), probabilities, free, max_parameter_free)


def discretize(space, input_probabilities, op_probabilities, *, max_parameter_free=None):
    """The architecture vector DARTS derives from its mixture weights (see the module docstring).

    Args:
        space: the `CellSearchSpace`.
        input_probabilities, op_probabilities: `{cell_type: array}` as `ArchitectureParameters.probabilities`.
        max_parameter_free: cap on parameter-free operations in the normal cell, or None.

    Returns:
        An int32 vector for `ArchitectureEncoding.decode`.
    """
    free = parameter_free(space.operations)
    vector = []
    for cell_type in space.cell_types:
        inputs = choose_inputs(input_probabilities[cell_type])
        cap = max_parameter_free if cell_type == "normal" else None
        operations = choose_operations(op_probabilities[cell_type], free, cap)
        vector.append(np.stack([inputs, operations], axis=-1).reshape(-1))
    return np.concatenate(vector).astype(np.int32)
