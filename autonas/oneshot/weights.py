"""Copy a child's weights into the supernet slots of its architecture.

A child built by `build_classifier` names its layers after the cell and edge they belong to
(`stage0_normal0_pre1_conv`, `reduce1_b0a_bn`, ...), so its weights are found by prefix and
copied, layer by layer, into the candidate of the chosen operation (`Candidate.parts`). Layers
that read a cell output (pre-projections, FactorizedReduce, the head's dense layer) hold, in
the supernet, input rows for every block output; the child's rows go to the blocks its cell
concatenates.
"""
from __future__ import annotations

import numpy as np

from autonas.layers import FactorizedReduce
from autonas.oneshot.supernet import STEM
from autonas.space.genotype import NUM_CELL_INPUTS
from autonas.space.hypermodel import SLOTS


def _child_layers(child, prefix):
    """The child's weight-bearing layers named `prefix` or `prefix_*`, in model order."""
    return [layer for layer in child.layers
            if layer.weights and (layer.name == prefix or layer.name.startswith(prefix + "_"))]


def _copy(sources, targets, what, rows=None):
    """Set each target layer's weights to its source layer's; `rows` maps kernel input rows."""
    if len(sources) != len(targets):
        raise ValueError(f"{what}: the child has {len(sources)} weight layers {[s.name for s in sources]}, the "
                         f"supernet {len(targets)} {[t.name for t in targets]}.")
    for source, target in zip(sources, targets):
        values = target.get_weights()
        for index, (value, current) in enumerate(zip(source.get_weights(), values)):
            if rows is not None and value.ndim >= 2:
                current[..., rows, :] = value  # input channels are the second-to-last kernel axis
            elif value.shape == current.shape:
                values[index] = value
            else:
                raise ValueError(f"{what}: weight {index} of {source.name} has shape {value.shape}, the supernet's "
                                 f"{target.name} {current.shape}.")
        target.set_weights(values)


def _copy_candidate(sources, edge, op, strides, what):
    """Write the source layers' weights into `op`'s slots of the edge's flat weights."""
    parts = edge.template(op).parts(strides)
    if len(sources) != len(parts):
        raise ValueError(f"{what}: the child has {len(sources)} weight layers {[s.name for s in sources]}, the "
                         f"candidate {len(parts)} {[p.name for p in parts]}.")
    slots = edge.candidate_slots(op)
    flats = {}
    for source, part in zip(sources, parts):
        for value, variable in zip(source.get_weights(), part.weights):
            if id(variable) not in slots:
                continue  # not a float weight: a random seed state, never copied
            flat, slot = slots[id(variable)]
            if tuple(value.shape) != slot.shape:
                raise ValueError(f"{what}: {source.name} has a weight of shape {value.shape}, the supernet slot "
                                 f"{slot.shape}.")
            array = flats.setdefault(id(flat), (flat, flat.numpy()))[1]
            array[slot.start:slot.stop] = np.ravel(value)
    for flat, array in flats.values():
        flat.assign(array)


def _output_rows(supernet, genotype, source):
    """Supernet channels of the cell output `source` that the child's narrower output holds."""
    if source == STEM:
        return None
    placement = supernet.placements[source]
    concat = getattr(genotype, placement.cell_type).concat
    return np.concatenate([np.arange((state - NUM_CELL_INPUTS) * placement.filters,
                                     (state - NUM_CELL_INPUTS + 1) * placement.filters) for state in concat])


def _read_states(cell):
    return {state for block in cell.blocks for state, _ in block.pairs()}


def _live_cells(supernet, genotype):
    """Indices of the cells the child's output depends on.

    A cell whose output no later cell reads (through a block reading its input) never reaches
    the head, so the child's functional model drops its layers; the supernet computes it, but
    its value cannot change the output either.
    """
    live = {len(supernet.placements) - 1}
    for index in reversed(range(len(supernet.placements))):
        placement = supernet.placements[index]
        if index in live:
            read = _read_states(getattr(genotype, placement.cell_type))
            live.update(source for state, source in enumerate((placement.older, placement.newer))
                        if state in read and source != STEM)
    return live


def load_child_weights(supernet, child, genotype):
    """Copy the weights of `child` (built by `build_classifier` for `genotype` at the supernet's
    size and inputs) into the supernet, so `supernet(x, genotype_to_vector(...))` computes it.

    Weights of operations the genotype does not use are left as they are.

    Args:
        supernet: a `Supernet`.
        child: the child Keras model.
        genotype: the child's `Genotype`.

    Returns:
        The architecture vector of `genotype`.

    Raises:
        ValueError: if the genotype does not fit the space or the child's layers do not match.
    """
    architecture = supernet.encoding.encode(genotype)
    for layer in supernet.frontend.layers:
        if layer.weights:
            _copy([child.get_layer(layer.name)], [layer], "frontend")
    _copy([child.get_layer("stem_conv"), child.get_layer("stem_bn")], [supernet.stem_conv, supernet.stem_bn], "stem")
    live = _live_cells(supernet, genotype)
    for index, (placement, cell) in enumerate(zip(supernet.placements, supernet.cells)):
        if index not in live:
            continue  # nothing reads this cell's output: the child model has no layers for it
        cell_genotype = getattr(genotype, placement.cell_type)
        read = _read_states(cell_genotype)
        for state, (which, source) in enumerate((("pre0", placement.older), ("pre1", placement.newer))):
            if state not in read:
                continue  # no block reads this input: the child has no projection for it
            pre = getattr(cell, which)
            targets = [pre] if isinstance(pre, FactorizedReduce) else pre.parts(1)
            _copy(_child_layers(child, f"{placement.name}_{which}"), targets, f"{placement.name} {which}",
                  rows=_output_rows(supernet, genotype, source))
        for block_index, (block, edges) in enumerate(zip(cell_genotype.blocks, cell.edges)):
            for slot, edge, (state, op) in zip(SLOTS, edges, block.pairs()):
                prefix = f"{placement.name}_b{block_index}{slot}"
                _copy_candidate(_child_layers(child, prefix), edge, op, edge.input_strides[state], f"{prefix} ({op})")
    _copy([child.get_layer("probabilities")], [supernet.classifier], "head",
          rows=_output_rows(supernet, genotype, len(supernet.placements) - 1))
    return architecture
