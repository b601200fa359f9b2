"""Train and score children of a supernet with its shared weights.

Each step is one `tf.function` whose input signature fixes the batch layout and takes the
architecture as an int32 tensor, so it is traced once and every later architecture reuses the
graph: sampling a child costs one switch per edge, not a model build. The steps are called
with `graph_rewrites_off`, which cuts their first call from minutes to about a minute on a CPU.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from autonas.engine.graph_rewrites import graph_rewrites_off
from autonas.space.hypermodel import DEFAULT_LEARNING_RATES, check_optimizer, make_optimizer

LABELS_SPEC = tf.TensorSpec((None,), tf.int32)


class BatchConverter:
    """Converts batches to what a supernet's compiled steps take, so that one trace serves them all.

    Attributes:
        spec: the `tf.TensorSpec` of the supernet's raw inputs (any batch size).
    """

    def __init__(self, supernet):
        raw = supernet.frontend.inputs[0]
        self.dtype = tf.as_dtype(raw.dtype)
        self.spec = tf.TensorSpec(raw.shape, self.dtype)

    def inputs(self, x):
        """`x` as a tensor of the supernet's raw input dtype."""
        x = tf.convert_to_tensor(x)
        return x if x.dtype == self.dtype else tf.cast(x, self.dtype)

    @staticmethod
    def labels(y):
        """`y` as a flat int32 tensor."""
        return tf.cast(tf.reshape(tf.convert_to_tensor(y), (-1,)), tf.int32)


def keeping_moving_statistics(supernet, forward):
    """`forward()` (a pass with batch statistics), with the supernet's moving statistics restored
    after it: scoring must not move the statistics training keeps. Call it inside a `tf.function`."""
    state = supernet.non_trainable_variables
    saved = [tf.identity(variable.value) for variable in state]
    outputs = forward()
    with tf.control_dependencies([outputs]):
        for variable, value in zip(state, saved):
            variable.assign(value)
    return tf.identity(outputs)


class SupernetTrainer:
    """Shared-weight training and scoring of a `Supernet`'s children.

    Args:
        supernet: a `Supernet`.
        optimizer: "sgd" (Nesterov momentum 0.9, as the children train), "adam", or a Keras
            optimizer instance.
        learning_rate: learning rate of a named optimizer (None: its default in
            `autonas.space.hypermodel.DEFAULT_LEARNING_RATES`); set `trainer.optimizer.learning_rate`
            to schedule it.
        global_clipnorm: clip the gradients' global norm to this (named optimizers only).

    Example:
        >>> trainer = SupernetTrainer(supernet)                          # doctest: +SKIP
        >>> architecture = supernet.encoding.sample(rng)                 # doctest: +SKIP
        >>> loss = trainer.train_step(x, y, architecture)                # doctest: +SKIP
        >>> accuracy = trainer.score(architecture, [(x_val, y_val)])     # doctest: +SKIP
    """

    def __init__(self, supernet, *, optimizer="sgd", learning_rate=None, global_clipnorm=None):
        self.supernet = supernet
        if isinstance(optimizer, str):
            optimizer = make_optimizer(optimizer, DEFAULT_LEARNING_RATES[check_optimizer(optimizer)]
                                       if learning_rate is None else learning_rate, global_clipnorm)
        self.optimizer = optimizer
        # Creating the slots now keeps variable creation out of the traced step.
        self.optimizer.build(supernet.trainable_variables)
        self.loss = keras.losses.SparseCategoricalCrossentropy()
        self._convert = BatchConverter(supernet)
        inputs, labels = self._convert.spec, LABELS_SPEC
        architecture = tf.TensorSpec((len(supernet.encoding),), tf.int32)
        self._train = tf.function(self._train_step, input_signature=(inputs, labels, architecture))
        self._predict = tf.function(self._inference, input_signature=(inputs, architecture))
        self._score = tf.function(self._with_batch_statistics, input_signature=(inputs, architecture))

    @property
    def tracing_counts(self):
        """How often each compiled step was traced: at most 1 each, whatever the architectures."""
        return {"train": self._train.experimental_get_tracing_count(),
                "predict": self._predict.experimental_get_tracing_count(),
                "score": self._score.experimental_get_tracing_count()}

    def train_step(self, x, y, architecture):
        """One optimizer step of the child `architecture` on the batch `(x, y)`; returns the batch loss.

        Only the chosen operations run, so only their weights get gradients (an optimizer with
        momentum still moves weights that had gradients in earlier steps).

        Raises:
            ValueError: for an architecture that does not fit the space.
        """
        with graph_rewrites_off():
            loss = self._train(self._convert.inputs(x), self._convert.labels(y), self._architecture(architecture))
            return float(loss)

    def score(self, architecture, batches, *, batch_statistics=True):
        """Accuracy of the child `architecture` with the shared weights.

        Args:
            architecture: the child's int vector.
            batches: an iterable of `(x, y)` batches, e.g. a `tf.data.Dataset`.
            batch_statistics: normalise each batch with its own statistics, leaving the moving
                ones untouched (dropout off). The moving statistics average over every child
                trained so far and fit none of them: measured on digits after shared training
                on two alternating children, one child scored 0.79 with them although its
                training loss was 0.06; sampling a child per batch, children scored at chance.
                False: inference mode.

        Raises:
            ValueError: for a bad architecture, or no samples.
        """
        architecture = self.supernet.encoding.check(architecture)
        correct = total = 0
        for x, y in batches:
            y = np.reshape(np.asarray(y), (-1,))
            predicted = np.argmax(self.probabilities(x, architecture, batch_statistics=batch_statistics), axis=-1)
            correct += int(np.sum(predicted == y))
            total += y.shape[0]
        if not total:
            raise ValueError("score needs at least one sample.")
        return correct / total

    def probabilities(self, x, architecture, *, batch_statistics=False):
        """Class probabilities of the child `architecture` on the batch `x`, as numpy.

        Args:
            x: one batch of raw inputs.
            architecture: the child's int vector.
            batch_statistics: as in `score`; False (the default) is inference mode.

        Raises:
            ValueError: for a bad architecture.
        """
        compiled = self._score if batch_statistics else self._predict
        architecture = self._architecture(architecture)
        with graph_rewrites_off():
            return compiled(self._convert.inputs(x), architecture).numpy()

    def _train_step(self, x, y, architecture):
        variables = self.supernet.trainable_variables
        with tf.GradientTape() as tape:
            loss = self.loss(y, self.supernet(x, architecture, training=True))
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(
            [(gradient, variable) for gradient, variable in zip(gradients, variables) if gradient is not None])
        return loss

    def _inference(self, x, architecture):
        return self.supernet(x, architecture, training=False)

    def _with_batch_statistics(self, x, architecture):
        return keeping_moving_statistics(self.supernet, lambda: self.supernet(x, architecture, batch_statistics=True))

    def _architecture(self, architecture):
        return tf.constant(self.supernet.encoding.check(architecture), tf.int32)
