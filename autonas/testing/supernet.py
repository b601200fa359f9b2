"""Test helpers for the one-shot supernet: load a child into it, and compute what it should.

The supernet-equals-child tests build a child with `build_classifier`, copy its weights into
the supernet (`load_child_weights`) and compare outputs. The helpers below serve those tests
and no search: DARTS's own per-state mixture (`mix`, with `one_hot_mix_weights` selecting a
single child; the search trains the cheaper `Supernet.relax`), batched inference
(`predict`) and one candidate's weights (`candidate_weights`).

A child built by `build_classifier` is made of the same layers as the supernet (the stem, the
input projections, one `autonas.space.operations` layer per edge, the head), named after the
cell and edge they belong to (`stage0_normal0_pre1`, `reduce1_b0a`, ...). So each child layer's
weights go to its supernet counterpart as they are, with two exceptions: an edge's operation
lives in the edge's flat weight vectors (`Edge.candidate_slots`), and layers that read a cell
output (input projections, the head's dense layer) hold, in the supernet, input rows for every
block output, of which the child's rows go to the blocks its cell concatenates.
"""
from __future__ import annotations

import numpy as np

from autonas.space.genotype import NUM_CELL_INPUTS
from autonas.space.hypermodel import SLOTS
from autonas.space.network import STEM

PREDICT_BATCH_SIZE = 256


def _copy(source, target, what, rows=None):
    """Set `target`'s weights to `source`'s (a layer of the same kind); `rows` places kernel input rows."""
    values, sources = target.get_weights(), source.get_weights()
    if len(values) != len(sources):
        raise ValueError(f"{what}: the child's {source.name} has {len(sources)} weights, the supernet's {target.name} "
                         f"{len(values)}.")
    for index, (value, current) in enumerate(zip(sources, values)):
        if rows is not None and value.ndim >= 2:
            current[..., rows, :] = value  # input channels are the second-to-last kernel axis
        elif value.shape == current.shape:
            values[index] = value
        else:
            raise ValueError(f"{what}: weight {index} of {source.name} has shape {value.shape}, the supernet's "
                             f"{target.name} {current.shape}.")
    target.set_weights(values)


def _copy_operation(source, edge, op, what):
    """Write the child's layer for operation `op` into `op`'s slots of the edge's flat weights.

    The edge's template of `op` is a layer of the same kind as `source`, so their weights come
    in the same order; only an `identity` read with stride 1 has none in the child, while the
    template holds the ones it needs at stride 2.
    """
    template = edge.template(op)
    if not source.weights:
        return
    if len(source.weights) != len(template.weights):
        raise ValueError(f"{what}: the child's layer has {len(source.weights)} weights, the supernet's "
                         f"{len(template.weights)}.")
    slots = edge.candidate_slots(op)
    flats = {}
    for variable, counterpart in zip(source.weights, template.weights):
        if id(counterpart) not in slots:
            continue  # not a float weight: a random seed state, never copied
        flat, slot = slots[id(counterpart)]
        value = variable.numpy()
        if tuple(value.shape) != slot.shape:
            raise ValueError(f"{what}: {variable.path} has shape {value.shape}, the supernet slot {slot.shape}.")
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
    size and inputs) into the supernet, so `supernet(x, supernet.encoding.encode(genotype))` computes it.

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
            _copy(child.get_layer(layer.name), layer, "frontend")
    for layer in supernet.stem:
        if layer.weights:
            _copy(child.get_layer(layer.name), layer, "stem")
    live = _live_cells(supernet, genotype)
    for index, (placement, cell) in enumerate(zip(supernet.placements, supernet.cells)):
        if index not in live:
            continue  # nothing reads this cell's output: the child model has no layers for it
        cell_genotype = getattr(genotype, placement.cell_type)
        read = _read_states(cell_genotype)
        for state, (projection, source) in enumerate(((cell.pre0, placement.older), (cell.pre1, placement.newer))):
            if state in read:  # else no block reads this input: the child has no projection for it
                _copy(child.get_layer(f"{placement.name}_{projection.name}"), projection,
                      f"{placement.name} {projection.name}", rows=_output_rows(supernet, genotype, source))
        for block_index, (block, edges) in enumerate(zip(cell_genotype.blocks, cell.edges)):
            for slot, edge, (_, op) in zip(SLOTS, edges, block.pairs()):
                name = f"{placement.name}_b{block_index}{slot}"
                _copy_operation(child.get_layer(name), edge, op, f"{name} ({op})")
    classifier = supernet.head[-1]
    _copy(child.get_layer(classifier.name), classifier, "head",
          rows=_output_rows(supernet, genotype, len(supernet.placements) - 1))
    return architecture


def predict(trainer, x, architecture, batch_size=PREDICT_BATCH_SIZE):
    """Class probabilities of the child `architecture` on all of `x` with `trainer`'s compiled
    inference step (`SupernetTrainer.probabilities`), batch by batch, as numpy."""
    return np.concatenate([trainer.probabilities(x[start:start + batch_size], architecture)
                           for start in range(0, len(x), batch_size)])


def candidate_weights(edge, op):
    """`op`'s current weights in `edge`, as numpy arrays: `{template variable path: value}`."""
    slots = edge.candidate_slots(op)
    template = edge.template(op)
    values = {}
    for variable in template.trainable_variables + template.non_trainable_variables:
        if id(variable) in slots:
            flat, slot = slots[id(variable)]
            values[variable.path] = np.reshape(flat.numpy()[slot.start:slot.stop], slot.shape)
    return values


def _mix_edge(edge, states, weights, training):
    """`sum_i sum_o weights[i, o] * operation_o(states[i])`: every candidate on every state.

    `weights` has shape `(n, len(operations))` with `n >= edge.num_inputs`; rows beyond the
    states the edge reads are ignored, so one padded tensor serves every block.
    """
    total = 0.0
    for index, (state, stride) in enumerate(zip(states, edge.input_strides)):
        kernel, statistics = edge.flat_values()
        for op_index, op in enumerate(edge.operations):
            output, statistics = edge.run(op, state, stride, kernel, statistics, training)
            total = total + weights[index, op_index] * output
        if training and edge.state is not None:
            edge.state.assign(statistics)
    return total


def mix(supernet, inputs, edge_weights, block_weights, training=None):
    """Class probabilities of the weighted mixture of every child, as DARTS defines it.

    Args:
        supernet: a `Supernet`.
        inputs: raw inputs.
        edge_weights: `{cell_type: (num_blocks, 2, NUM_CELL_INPUTS + num_blocks - 1, len(operations))}`:
            per block and slot, a weight per (state read, operation).
        block_weights: `{cell_type: (num_blocks,)}`: how much each block output counts in the
            cell output.
        training: training mode.
    """

    def run_cell(cell, placement, older, newer):
        states = cell.project(older, newer, training)
        weights = edge_weights[placement.cell_type]
        for block, pair in enumerate(cell.edges):
            states.append(sum(_mix_edge(edge, states, weights[block, slot], training)
                              for slot, edge in enumerate(pair)))
        return cell.concat(states[NUM_CELL_INPUTS:], block_weights[placement.cell_type])

    return supernet.forward(inputs, run_cell, training)


def one_hot_mix_weights(supernet, architecture):
    """`(edge_weights, block_weights)` for `mix` that select exactly `architecture`."""
    genotype = supernet.encoding.decode(architecture)
    space = supernet.space
    blocks, operations = space.num_blocks, space.operations
    edge_weights, block_weights = {}, {}
    for cell_type in space.cell_types:
        cell = getattr(genotype, cell_type)
        weights = np.zeros((blocks, len(SLOTS), NUM_CELL_INPUTS + blocks - 1, len(operations)), "float32")
        for index, block in enumerate(cell.blocks):
            for slot, (state, op) in enumerate(block.pairs()):
                weights[index, slot, state, operations.index(op)] = 1.0
        edge_weights[cell_type] = weights
        block_weights[cell_type] = np.array([NUM_CELL_INPUTS + b in cell.concat for b in range(blocks)], "float32")
    return edge_weights, block_weights
