"""The compiled steps of first-order DARTS on a supernet: architecture step, weight step, scoring.

Each step is one `tf.function` with a fixed input signature, traced once: the architecture
logits are variables the steps read, and scoring takes the mixture weights as tensors, so the
same graph scores the mixture and (with one-hot weights) any single child.

Example:
    >>> steps = DartsSteps(supernet, ArchitectureParameters(space, rng),              # doctest: +SKIP
    ...                    optimizer=make_optimizer("sgd", 0.1), arch_optimizer=architecture_optimizer(3e-4),
    ...                    arch_weight_decay=1e-3)
    >>> steps.architecture_step(x_valid, y_valid); steps.weight_step(x_train, y_train)  # doctest: +SKIP
"""
from __future__ import annotations

import keras
import tensorflow as tf

from autonas.engine.graph_rewrites import graph_rewrites_off
from autonas.oneshot.supernet.training import LABELS_SPEC, BatchConverter, keeping_moving_statistics
from autonas.space.genotype import NUM_CELL_INPUTS
from autonas.space.hypermodel import SLOTS

GRADIENT_CLIP_NORM = 5.0  # DARTS clips the global norm of the weights' gradient at 5
ARCHITECTURE_BETAS = (0.5, 0.999)  # DARTS's Adam moments for the architecture logits


def architecture_optimizer(learning_rate):
    """Adam as DARTS configures it for the architecture logits."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=ARCHITECTURE_BETAS[0],
                                 beta_2=ARCHITECTURE_BETAS[1])


class DartsSteps:
    """First-order DARTS's compiled steps on `supernet` with the logits in `parameters`.

    Args:
        supernet: a `Supernet`.
        parameters: its `ArchitectureParameters`.
        optimizer: a Keras optimizer for the supernet weights.
        arch_optimizer: a Keras optimizer for the logits (`architecture_optimizer`).
        arch_weight_decay: L2 penalty on the logits, added to their gradient as DARTS's
            `torch.optim.Adam(weight_decay=...)` does.
    """

    def __init__(self, supernet, parameters, *, optimizer, arch_optimizer, arch_weight_decay):
        self.supernet = supernet
        self.parameters = parameters
        self.optimizer = optimizer
        self.arch_optimizer = arch_optimizer
        self.arch_weight_decay = float(arch_weight_decay)
        # Creating the slots now keeps variable creation out of the traced steps.
        optimizer.build(supernet.trainable_variables)
        arch_optimizer.build(parameters.variables)
        self.loss = keras.losses.SparseCategoricalCrossentropy()
        self._convert = BatchConverter(supernet)
        inputs, labels = self._convert.spec, LABELS_SPEC
        space = supernet.space
        blocks = space.num_blocks
        input_weights = {c: tf.TensorSpec((blocks, len(SLOTS), NUM_CELL_INPUTS + blocks - 1), tf.float32)
                         for c in space.cell_types}
        op_weights = {c: tf.TensorSpec((blocks, len(SLOTS), len(space.operations)), tf.float32)
                      for c in space.cell_types}
        self._architecture = tf.function(self._architecture_step, input_signature=(inputs, labels), autograph=False)
        self._weights = tf.function(self._weight_step, input_signature=(inputs, labels), autograph=False)
        self._predict = tf.function(self._batch_statistics_probabilities,
                                    input_signature=(inputs, input_weights, op_weights), autograph=False)

    @property
    def tracing_counts(self):
        """How often each compiled step was traced: at most 1 each."""
        return {"architecture": self._architecture.experimental_get_tracing_count(),
                "weights": self._weights.experimental_get_tracing_count(),
                "predict": self._predict.experimental_get_tracing_count()}

    def architecture_step(self, x, y):
        """One Adam step on the logits, on the mixture's loss on the (validation) batch; returns that loss."""
        with graph_rewrites_off():
            return float(self._architecture(self._convert.inputs(x), self._convert.labels(y)))

    def weight_step(self, x, y):
        """One optimizer step on the supernet weights, on the mixture's loss on the (training) batch; returns it."""
        with graph_rewrites_off():
            return float(self._weights(self._convert.inputs(x), self._convert.labels(y)))

    def predict(self, x, input_weights, op_weights):
        """Class probabilities of the mixture with the given weights, as numpy.

        Batch normalisation uses each batch's statistics and dropout is off, as
        `SupernetTrainer.score` scores children: the moving statistics average over every
        mixture trained so far and fit no single child (one-hot weights). They are left as
        they were.
        """
        input_weights = {c: tf.convert_to_tensor(v, tf.float32) for c, v in input_weights.items()}
        op_weights = {c: tf.convert_to_tensor(v, tf.float32) for c, v in op_weights.items()}
        with graph_rewrites_off():
            return self._predict(self._convert.inputs(x), input_weights, op_weights).numpy()

    def _architecture_step(self, x, y):
        variables = self.parameters.variables
        with tf.GradientTape() as tape:
            input_weights, op_weights = self.parameters.weights()
            loss = self.loss(y, self.supernet.relax(x, input_weights, op_weights, training=True))
        gradients = tape.gradient(loss, variables)  # None for a cell type the network does not build
        self.arch_optimizer.apply_gradients(
            [(gradient + self.arch_weight_decay * variable, variable)
             for gradient, variable in zip(gradients, variables) if gradient is not None])
        return loss

    def _weight_step(self, x, y):
        variables = self.supernet.trainable_variables
        input_weights, op_weights = self.parameters.weights()  # read outside the tape: constants here
        with tf.GradientTape() as tape:
            loss = self.loss(y, self.supernet.relax(x, input_weights, op_weights, training=True))
        pairs = [(g, v) for g, v in zip(tape.gradient(loss, variables), variables) if g is not None]
        gradients, _ = tf.clip_by_global_norm([g for g, _ in pairs], GRADIENT_CLIP_NORM)
        self.optimizer.apply_gradients(zip(gradients, [v for _, v in pairs]))
        return loss

    def _batch_statistics_probabilities(self, x, input_weights, op_weights):
        return keeping_moving_statistics(
            self.supernet, lambda: self.supernet.relax(x, input_weights, op_weights, batch_statistics=True))
