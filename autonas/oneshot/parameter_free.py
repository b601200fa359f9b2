"""The remedy against collapse to parameter-free cells that ENAS and DARTS share.

Weight-sharing searches drift toward identity and pooling: early on those lower the loss (or
score well) while no convolution has learned anything yet, and a cell made mostly of them
retrains poorly. As P-DARTS does, a derived normal cell keeps at most `max_parameter_free`
parameter-free operations; the slots whose preference for one is weakest take their strongest
operation with weights instead. DARTS reads the preferences from its mixture weights
(`autonas.oneshot.darts.architecture`), ENAS from a pool of controller samples
(`autonas.oneshot.enas.derivation`).
"""
from __future__ import annotations

import numpy as np

from autonas.space.operations import OPERATIONS

DEFAULT_MAX_PARAMETER_FREE = 2  # P-DARTS keeps at most 2 skip connections in a normal cell of 8 edges


def parameter_free(operations):
    """A bool array over `operations`: True for the parameter-free ones (identity, pooling)."""
    return np.array([not OPERATIONS[op].has_weights for op in operations])


def cap_parameter_free(chosen, probabilities, free, max_parameter_free=None):
    """`chosen` operations with at most `max_parameter_free` parameter-free ones.

    When more slots chose a parameter-free operation, those whose preference for it is weakest
    (the smallest log-ratio of its probability to the slot's best operation with weights) take
    that operation instead. The cap is ignored when every operation is parameter-free.

    Args:
        chosen: int array of operation indices, one per slot (any shape).
        probabilities: the slots' operation probabilities, shape `chosen.shape + (num_operations,)`.
        free: bool array over the operations (`parameter_free`).
        max_parameter_free: the cap, or None for none.

    Returns:
        An int32 array shaped like `chosen`.
    """
    chosen = np.asarray(chosen)
    if max_parameter_free is None or free.all():
        return chosen.astype(np.int32)
    flat = chosen.reshape(-1).copy()
    slots = np.asarray(probabilities, "float64").reshape(-1, free.shape[0])
    picked_free = np.flatnonzero(free[flat])
    if picked_free.size > max_parameter_free:
        weighted = np.where(free, -np.inf, slots)
        with np.errstate(divide="ignore"):
            margins = np.log(slots[picked_free, flat[picked_free]]) - np.log(weighted[picked_free].max(axis=-1))
        # A stable sort keeps the earlier slot on ties, so the result does not depend on the platform.
        replaced = picked_free[np.argsort(-margins, kind="stable")[max_parameter_free:]]
        flat[replaced] = np.argmax(weighted[replaced], axis=-1)
    return flat.reshape(chosen.shape).astype(np.int32)


def parameter_free_share(genotype, cell_types=None):
    """The share of parameter-free operations among the operations of `genotype`'s cells.

    Args:
        genotype: a `Genotype`.
        cell_types: the cells to count ("normal", "reduce"); all of them by default.
    """
    cells = genotype.cells
    names = [op for cell_type in (cell_types or cells) for op in cells[cell_type].operations]
    return sum(not OPERATIONS[op].has_weights for op in names) / len(names)
