"""One supernet edge: every candidate operation of a (cell type, block, slot) position.

An edge reads one state among those before its block and applies one operation to it. Both
choices arrive as scalar int tensors, and `call` runs only the chosen operation on the chosen
state through `keras.ops.switch` (`tf.switch_case` on TensorFlow), so a new architecture needs
no retracing. `mix` instead sums every (state, operation) output with given weights, the
continuous relaxation DARTS trains over the same weights.
"""
from __future__ import annotations

import functools

from keras import layers, ops

from autonas.oneshot.candidates import make_candidate


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


class Edge(layers.Layer):
    """Every candidate operation of one edge, sharing weights across the state it reads.

    In a reduction cell, cell inputs (states 0, 1) are read with stride 2 and block outputs with
    stride 1; the two uses run through the same candidate layer and so the same weights.

    Args:
        operations: operation names, in the space's order (op index i selects `operations[i]`).
        filters: channels of every state.
        input_strides: the stride each readable state is read with, one entry per state.
    """

    def __init__(self, operations, *, filters, input_strides, calls=None, **kwargs):
        super().__init__(**kwargs)
        self.calls = calls
        self.operations = tuple(operations)
        self.input_strides = tuple(int(s) for s in input_strides)
        self.runs = _stride_runs(self.input_strides)
        reduces = 2 in self.input_strides
        self.candidates = {op: make_candidate(op, filters=filters, reduces=reduces, name=op)
                           for op in self.operations}

    @property
    def num_inputs(self):
        """How many states the edge can read (2 + its block index)."""
        return len(self.input_strides)

    def build(self, state_shape):
        for candidate in self.candidates.values():
            candidate.build(state_shape)

    def call(self, states, input_index, op_index, training=None):
        """Apply operation `op_index` to `states[input_index]` (scalar int tensors), running only it.

        Args:
            states: the `num_inputs` states the edge can read.
            input_index: which state to read.
            op_index: which operation to apply (an index into `operations`).
            training: forwarded to the operation (batch norm).

        Returns:
            The chosen operation's output.
        """
        branches, run_index = [], 0
        for position, (start, stop, stride) in enumerate(self.runs):
            x = _select(input_index - start, states[start:stop])
            branches.extend(functools.partial(self._run, candidate, x, stride, training)
                            for candidate in self.candidates.values())
            if position:
                run_index = run_index + ops.cast(input_index >= start, "int32")
        return ops.switch(run_index * len(self.operations) + op_index, branches)

    def candidate_outputs(self, x, strides=1, training=None):
        """Every candidate's output on state `x` read with `strides`, in `operations` order."""
        return [self._run(candidate, x, strides, training) for candidate in self.candidates.values()]

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

    def _run(self, candidate, x, strides, training):
        if self.calls is None:
            return candidate(x, strides=strides, training=training)
        return self.calls(candidate, x, strides, training)
