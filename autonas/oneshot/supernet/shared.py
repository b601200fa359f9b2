"""What the edges of one supernet share: template layers, traced switch and relaxation functions.

Every edge holds the same operations; only the weights differ. So the computation of a
candidate lives in one template layer per (operation, filters, reduces), the registry's own
layer for it (`autonas.space.operations`, the one a child network uses), which edges run with
their own weight values through Keras's `stateless_call`. Likewise the whole switch over an
edge's candidates, a function of (branch index, inputs, weights), is a `tf.function` per edge
configuration that every edge of that configuration calls: Python traces and differentiates
its branches once per input shape instead of once per edge, which halved the first trace of
the train step (about 170 s instead of 350 s for 13 operations, 4 blocks and 5 cells). DARTS's
relaxation (`Edge.relaxation`) is shared the same way; as it takes the states already mixed, every
edge of a cell configuration shares one function whatever its block.
"""
from __future__ import annotations

import tensorflow as tf

from autonas.space.operations import make_operation


def _switch_key(edge, training, update):
    """Edges with equal keys have identical weight layouts and branch lists."""
    return edge.operations, edge.filters, edge.reduces, tuple(stride for _, _, stride in edge.runs), training, update


def _relaxation_key(edge, training, update):
    """Edges with equal keys have identical weight layouts and compute the same relaxation."""
    return ("relaxation",) + _switch_key(edge, training, update)


class SharedComputations:
    """The template layers and traced switches of one supernet.

    A plain object, not a Keras layer: the templates' own variables must not count as the
    supernet's weights.
    """

    def __init__(self):
        self._templates = {}
        self._traced = {}

    def template(self, op_name, *, filters, reduces, input_shape):
        """The template layer of this configuration, built for `input_shape` on first request.

        Request every template before tracing starts: variables created inside a trace make
        `tf.function` trace again.
        """
        key = (op_name, int(filters), bool(reduces))
        if key not in self._templates:
            template = make_operation(op_name, filters=filters, reduces=reduces, name=f"template_{op_name}")
            template.build(input_shape)
            self._templates[key] = template
        return self._templates[key]

    def switch(self, edge, training, update):
        """`edge.switch` as a `tf.function` shared by every edge of the same configuration."""
        key = _switch_key(edge, training, update)
        if key not in self._traced:

            def switch(branch, inputs, kernel, state):
                return edge.switch(branch, inputs, kernel, state, training, update)

            # Inlined by TensorFlow's graph optimiser after tracing: marking it `_noinline` halved
            # the first trace again but doubled the time of every step.
            self._traced[key] = tf.function(switch, autograph=False)
        return self._traced[key]

    def relaxation(self, edge, training, update):
        """`edge.relaxation` as a `tf.function` shared by every edge of the same configuration."""
        key = _relaxation_key(edge, training, update)
        if key not in self._traced:

            def relaxation(inputs, shares, op_weights, kernel, state):
                return edge.relaxation(inputs, shares, op_weights, kernel, state, training, update)

            # Not inlined, unlike the switch: on the digits supernet (13 operations) the first
            # architecture and weight steps took 109 s of CPU instead of 130 s, and later steps no
            # longer than inlined (2.3 + 2.8 s vs 2.4 + 2.8 s): each body is large enough to
            # amortise the call.
            self._traced[key] = tf.function(relaxation, autograph=False, experimental_attributes={"_noinline": True})
        return self._traced[key]
