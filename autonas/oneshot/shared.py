"""Traced candidate computations shared by every candidate of the same configuration.

A supernet holds hundreds of candidates; tracing each inside the train step made its first
trace take minutes and left a graph so large that even untaken branches cost time per step.
Candidates of one operation, width and stride compute the same function of (input, weights),
so they all call one `tf.function` through Keras's `stateless_call`, passing their own
variables as arguments: each distinct computation is traced, differentiated and optimised once.
"""
from __future__ import annotations

import tensorflow as tf

from autonas.oneshot.candidates import make_candidate


class SharedCalls:
    """Calls candidates through functions shared across candidates of the same configuration.

    A candidate's configuration is `(operation, filters, reduces)`; one template candidate per
    configuration gives the traced function its structure (its own variables are never used).
    """

    def __init__(self):
        self._functions = {}

    def __call__(self, candidate, x, strides=1, training=None):
        """`candidate(x, strides, training)`, run as a call of the shared function."""
        if not candidate.trainable_variables and not candidate.non_trainable_variables:
            return candidate(x, strides=strides, training=training)  # parameter-free: cheap to trace inline
        function = self._function(candidate, x.shape, bool(training))
        outputs, state = function(x, [v.value for v in candidate.trainable_variables],
                                  [v.value for v in candidate.non_trainable_variables], strides)
        if training:
            for variable, value in zip(candidate.non_trainable_variables, state):
                variable.assign(value)
        return outputs

    def _function(self, candidate, shape, training):
        key = (candidate.op_name, candidate.filters, candidate.reduces, training)
        if key not in self._functions:
            template = make_candidate(candidate.op_name, filters=candidate.filters, reduces=candidate.reduces,
                                      name=f"template_{candidate.op_name}")
            template.build((None,) * (len(shape) - 1) + (shape[-1],))

            def run(x, trainable, non_trainable, strides):
                return template.stateless_call(trainable, non_trainable, x, strides=strides, training=training)

            self._functions[key] = tf.function(run, experimental_attributes={"_noinline": True})
        return self._functions[key]
