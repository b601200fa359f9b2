"""One supernet edge: every candidate operation of a (cell type, block, slot) position.

An edge reads one state among those before its block and applies one operation to it. Both
choices arrive as scalar int tensors, and `call` runs only the chosen operation on the chosen
state through `keras.ops.switch` (`tf.switch_case` on TensorFlow), so a new architecture needs
no retracing. `relax` is the continuous relaxation `autonas.oneshot.darts` trains over the same
weights: it mixes the states first and runs each operation once per stride (see `Edge.relax`).

The weights of all candidates live in two flat variables, `kernel` (trainable) and `state`
(batch-norm statistics); a candidate runs as its shared template layer called statelessly
with its slices (see `packing` for why), and the switch itself is traced once per edge configuration
(`shared`).
"""
from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf
from keras import layers, ops

from autonas.oneshot.supernet.packing import FlatLayout, replace
from autonas.space.operations import make_operation


def _stride_runs(input_strides):
    """`((start, stop, stride), ...)`: the contiguous runs of states read with the same stride."""
    runs = []
    for index, stride in enumerate(input_strides):
        if runs and runs[-1][2] == stride:
            runs[-1][1] = index + 1
        else:
            runs.append([index, index + 1, stride])
    return tuple(tuple(run) for run in runs)


def _select(index, tensors):
    """`tensors[index]` for a scalar int tensor `index` (clipped into range), without copying."""
    if len(tensors) == 1:
        return tensors[0]
    return ops.switch(index, [functools.partial(lambda tensor: tensor, tensor) for tensor in tensors])


_TINY = 1e-12  # guards the normalisation of a stride run whose input weights are all zero


def _weighted_sum(weights, tensors):
    """`sum_i weights[i] * tensors[i]` as one contraction: its gradient is two ops, not a
    broadcast-reduction per term, which took a quarter of the relaxation's tracing time."""
    if len(tensors) == 1:
        return weights[0] * tensors[0]
    return ops.tensordot(weights[:len(tensors)], ops.stack(tensors), axes=1)


def _split(flat, slots):
    """`{slot.start: value}` for contiguous `slots` covering the flat vector `flat`, in one split."""
    if not slots:
        return {}
    pieces = ops.split(flat, np.cumsum([slot.stop - slot.start for slot in slots])[:-1].tolist())
    return {slot.start: ops.reshape(piece, slot.shape) for slot, piece in zip(slots, pieces)}


def _is_float(variable):
    return "float" in str(variable.dtype)


class Edge(layers.Layer):
    """Every candidate operation of one edge, sharing weights across the state it reads.

    In a reduction cell, cell inputs (states 0, 1) are read with stride 2 and block outputs with
    stride 1; both uses run with the same slices of the edge's weights.

    Args:
        operations: operation names, in the space's order (op index i selects `operations[i]`).
        filters: channels of every state.
        input_strides: the stride each readable state is read with, one entry per state.
        shared: the supernet's `SharedComputations`.
    """

    def __init__(self, operations, *, filters, input_strides, shared, **kwargs):
        super().__init__(**kwargs)
        self.operations = tuple(operations)
        self.filters = int(filters)
        self.input_strides = tuple(int(s) for s in input_strides)
        self.reduces = 2 in self.input_strides
        self.runs = _stride_runs(self.input_strides)
        self.shared = shared
        self.kernel = None
        self.state = None

    @property
    def num_inputs(self):
        """How many states the edge can read (2 + its block index)."""
        return len(self.input_strides)

    def build(self, state_shape):
        """Lay out every candidate's weights, initialised as a freshly built candidate's."""
        self._state_shape = tuple(state_shape)
        kernel_layout, state_layout = FlatLayout(), FlatLayout()
        kernel_values, state_values = [], []
        self._slots = {}
        for op in self.operations:
            fresh = make_operation(op, filters=self.filters, reduces=self.reduces, name=op)
            fresh.build(state_shape)
            kernel_slots = [kernel_layout.add(v.shape) for v in fresh.trainable_variables]
            state_slots = [state_layout.add(v.shape) if _is_float(v) else None for v in fresh.non_trainable_variables]
            self._slots[op] = (kernel_slots, state_slots)
            kernel_values.extend(np.ravel(v.numpy()) for v in fresh.trainable_variables)
            state_values.extend(np.ravel(v.numpy()) for v in fresh.non_trainable_variables if _is_float(v))
            self.template(op)  # created now: variables created while tracing would force a retrace
        if kernel_layout.size:
            self.kernel = self.add_weight(name="kernel", shape=(kernel_layout.size,), initializer="zeros")
            self.kernel.assign(np.concatenate(kernel_values))
        if state_layout.size:
            self.state = self.add_weight(name="state", shape=(state_layout.size,), initializer="zeros",
                                         trainable=False)
            self.state.assign(np.concatenate(state_values))

    def template(self, op):
        """The shared layer that computes operation `op` (its own weights are never used)."""
        return self.shared.template(op, filters=self.filters, reduces=self.reduces, input_shape=self._state_shape)

    def call(self, states, input_index, op_index, training=None):
        """Apply operation `op_index` to `states[input_index]` (scalar int tensors), running only it.

        Args:
            states: the `num_inputs` states the edge can read.
            input_index: which state to read.
            op_index: which operation to apply (an index into `operations`).
            training: whether batch norm uses batch statistics (and updates its moving ones).

        Returns:
            The chosen operation's output.
        """
        run_index, inputs = 0, []
        kernel, state = self.flat_values()
        update = bool(training) and self.state is not None
        for position, (start, stop, stride) in enumerate(self.runs):
            inputs.append(_select(input_index - start, states[start:stop]))
            if position:
                run_index = run_index + ops.cast(input_index >= start, "int32")
        branch = run_index * len(self.operations) + op_index
        if tf.executing_eagerly():  # runs only the chosen branch; nothing to trace
            result = self.switch(branch, inputs, kernel, state, training, update)
        else:
            result = self.shared.switch(self, bool(training), update)(branch, inputs, kernel, state)
        if not update:
            return result
        outputs, new_state = result
        self.state.assign(new_state)
        return outputs

    def switch(self, branch, inputs, kernel, state, training, update):
        """Run branch `branch`: operation `branch % len(operations)` on `inputs[branch // len(operations)]`.

        Args:
            branch: scalar int tensor.
            inputs: one selected state per stride run (`runs`), read with that run's stride.
            kernel, state: the values of the edge's flat weights.
            training: whether batch norm uses batch statistics.
            update: whether to return the updated `state` too.
        """
        branches = [functools.partial(self._branch, op, x, stride, kernel, state, training, update)
                    for x, (_, _, stride) in zip(inputs, self.runs) for op in self.operations]
        return ops.switch(branch, branches)

    def _branch(self, op, x, strides, kernel, state, training, update):
        outputs, state = self.run(op, x, strides, kernel, state, training)
        return (outputs, state) if update else outputs

    def run(self, op, x, strides, kernel, state, training=None):
        """Operation `op` on `x` with the weights in the flat `kernel` and `state` values.

        Returns:
            `(outputs, state)`: `state` with `op`'s batch-norm statistics updated when training.
        """
        template = self.template(op)
        kernel_slots, state_slots = self._slots[op]
        trainable = [slot.read(kernel) for slot in kernel_slots]
        non_trainable = [variable.value if slot is None else slot.read(state)
                         for slot, variable in zip(state_slots, template.non_trainable_variables)]
        outputs, non_trainable = template.stateless_call(trainable, non_trainable, x, strides=strides,
                                                         training=training)
        if training and state is not None:
            kept = [(slot, value) for slot, value in zip(state_slots, non_trainable) if slot is not None]
            state = replace(state, [slot for slot, _ in kept], [value for _, value in kept])
        return outputs, state

    def relax(self, states, input_weights, op_weights, training=None):
        """`sum_o op_weights[o] * operation_o(sum_i input_weights[i] * states[i])`, per stride run.

        A factorised relaxation of the edge's choice: a convex mixture of the states it can read,
        then a convex mixture of the operations on that. Mixing before the operations runs each
        operation once per stride run (once in a normal cell) instead of once per state as DARTS's
        own mixture does (`autonas.testing.supernet.mix` computes that one). On the digits
        supernet (13 operations, 4 blocks, 5 cells, batch 128, 2 cores), together with the
        shared, non-inlined traced body, the first weight step took 36 s instead of 352 s with
        the per-state mixture, later ones 3.1 s of CPU instead of 7.4 s, and the process peaked
        at 3.0 GB instead of 6.7 GB.
        In a reduction cell, states read with different strides have different shapes, so each
        run's states are mixed separately (normalised by the run's weight), every operation runs
        on each run's mixture, and the run outputs are weighted by the run's share. With one-hot
        weights it computes the child exactly, batch-norm updates included.

        Args:
            states: the `num_inputs` states the edge can read.
            input_weights: shape `(n,)`, `n >= num_inputs`, nonnegative, summing to 1 over the
                first `num_inputs` entries; later entries are ignored.
            op_weights: shape `(len(operations),)`, nonnegative, summing to 1.
            training: whether batch norm uses batch statistics (and updates its moving ones).

        Returns:
            The mixed output.
        """
        inputs, shares = [], []
        for start, stop, _ in self.runs:
            share = ops.sum(input_weights[start:stop])
            mixed = _weighted_sum(input_weights[start:stop], states[start:stop])
            inputs.append(mixed / ops.maximum(share, _TINY) if len(self.runs) > 1 else mixed)
            shares.append(share)
        shares = ops.stack(shares)
        kernel, state = self.flat_values()
        update = bool(training) and self.state is not None
        if tf.executing_eagerly():
            result = self.relaxation(inputs, shares, op_weights, kernel, state, training, update)
        else:
            result = self.shared.relaxation(self, bool(training), update)(inputs, shares, op_weights, kernel, state)
        if not update:
            return result
        outputs, new_state = result
        self.state.assign(new_state)
        return outputs

    def relaxation(self, inputs, shares, op_weights, kernel, state, training, update):
        """Every operation on each run's mixed input, weighted: the traced body of `relax`.

        The flat weights are split once into every candidate's pieces (one split, and one
        concatenation in the gradient) rather than sliced per weight as `run` does, and the new
        batch-norm statistics are concatenated once at the end: slicing per weight made the
        gradient graph hold one full-size kernel per weight. Each run updates the statistics from
        the same old values, and the new values average the runs' by their shares: a moving
        statistic moves toward the share-weighted mean of the runs' batch statistics, which for
        one-hot weights is the child's update.

        Args:
            inputs: one mixed input per stride run (`runs`).
            shares: shape `(len(runs),)`: each run's share of the input weights.
            op_weights: shape `(len(operations),)`.
            kernel, state: the values of the edge's flat weights.
            training: whether batch norm uses batch statistics.
            update: whether to return the updated `state` too.
        """
        kernel_pieces = _split(kernel, [slot for op in self.operations for slot in self._slots[op][0]])
        state_slots = [slot for op in self.operations for slot in self._slots[op][1] if slot is not None]
        state_pieces = _split(state, state_slots)
        total, run_pieces = 0.0, []
        for position, (x, (_, _, stride)) in enumerate(zip(inputs, self.runs)):
            outputs, pieces = [], dict(state_pieces)
            for op in self.operations:
                template = self.template(op)
                kernel_slots, op_state_slots = self._slots[op]
                non_trainable = [variable.value if slot is None else state_pieces[slot.start]
                                 for slot, variable in zip(op_state_slots, template.non_trainable_variables)]
                output, non_trainable = template.stateless_call(
                    [kernel_pieces[slot.start] for slot in kernel_slots], non_trainable, x, strides=stride,
                    training=training)
                pieces.update({slot.start: value for slot, value in zip(op_state_slots, non_trainable)
                               if slot is not None})
                outputs.append(output)
            outputs = _weighted_sum(op_weights, outputs)
            total = total + (outputs if len(self.runs) == 1 else shares[position] * outputs)
            run_pieces.append(pieces)
        if not update:
            return total
        if len(run_pieces) == 1:
            new_pieces = run_pieces[0]
        else:
            norm = ops.maximum(ops.sum(shares), _TINY)
            new_pieces = {start: sum(shares[r] * pieces[start] for r, pieces in enumerate(run_pieces)) / norm
                          for start in state_pieces}
        return total, ops.concatenate([ops.reshape(new_pieces[slot.start], (-1,)) for slot in state_slots], axis=0)

    def candidate_slots(self, op):
        """`{id(template variable): (edge variable, slot)}` for `op`'s float weights."""
        template = self.template(op)
        kernel_slots, state_slots = self._slots[op]
        slots = {id(v): (self.kernel, slot) for v, slot in zip(template.trainable_variables, kernel_slots)}
        slots.update({id(v): (self.state, slot) for v, slot in zip(template.non_trainable_variables, state_slots)
                      if slot is not None})
        return slots

    def flat_values(self):
        """`(kernel, state)`: the current values of the edge's flat weights (None where it has none)."""
        return (None if self.kernel is None else self.kernel.value,
                None if self.state is None else self.state.value)
