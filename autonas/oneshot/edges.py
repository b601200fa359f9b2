"""One supernet edge: every candidate operation of a (cell type, block, slot) position.

An edge reads one state among those before its block and applies one operation to it. Both
choices arrive as scalar int tensors, and `call` runs only the chosen operation on the chosen
state through `keras.ops.switch` (`tf.switch_case` on TensorFlow), so a new architecture needs
no retracing. `mix` instead sums every (state, operation) output with given weights, the
continuous relaxation DARTS trains over the same weights.

The weights of all candidates live in two flat variables, `kernel` (trainable) and `state`
(batch-norm statistics); a candidate runs as its shared template layer called statelessly
with its slices (see `autonas.oneshot.packing` for why), and the switch itself is traced once
per edge configuration (`autonas.oneshot.shared`).
"""
from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf
from keras import layers, ops

from autonas.oneshot.candidates import make_candidate
from autonas.oneshot.packing import FlatLayout, replace


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
            fresh = make_candidate(op, filters=self.filters, reduces=self.reduces, name=op)
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
        kernel, state = self._read()
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

    def candidate_outputs(self, x, strides=1, training=None):
        """Every candidate's output on state `x` read with `strides`, in `operations` order.

        When training, each candidate's batch-norm statistics are updated, as in `call`.
        """
        kernel, state = self._read()
        outputs = []
        for op in self.operations:
            output, state = self.run(op, x, strides, kernel, state, training)
            outputs.append(output)
        if training and self.state is not None:
            self.state.assign(state)
        return outputs

    def mix(self, states, weights, training=None):
        """`sum_i sum_o weights[i, o] * operation_o(states[i])`: every candidate on every state (DARTS).

        Args:
            states: the `num_inputs` states the edge can read.
            weights: a float tensor of shape `(n, len(operations))` with `n >= num_inputs`; rows
                beyond `num_inputs` are ignored, so one padded tensor serves every block.
            training: forwarded to the operations.
        """
        total = 0.0
        for index, (state, stride) in enumerate(zip(states, self.input_strides)):
            for op_index, output in enumerate(self.candidate_outputs(state, stride, training)):
                total = total + weights[index, op_index] * output
        return total

    def candidate_slots(self, op):
        """`{id(template variable): (edge variable, slot)}` for `op`'s float weights."""
        template = self.template(op)
        kernel_slots, state_slots = self._slots[op]
        slots = {id(v): (self.kernel, slot) for v, slot in zip(template.trainable_variables, kernel_slots)}
        slots.update({id(v): (self.state, slot) for v, slot in zip(template.non_trainable_variables, state_slots)
                      if slot is not None})
        return slots

    def candidate_weights(self, op):
        """`op`'s current weights as numpy arrays, `{template variable path: value}`."""
        template = self.template(op)
        slots = self.candidate_slots(op)
        values = {}
        for variable in template.trainable_variables + template.non_trainable_variables:
            if id(variable) in slots:
                flat, slot = slots[id(variable)]
                values[variable.path] = np.reshape(flat.numpy()[slot.start:slot.stop], slot.shape)
        return values

    def _read(self):
        return (None if self.kernel is None else self.kernel.value,
                None if self.state is None else self.state.value)
