"""Training under a MultiWorkerMirroredStrategy that spans several worker processes.

Keras 3's `fit` and `evaluate` fail under such a strategy (keras-team/keras#20585: they reduce
their first batch eagerly, then their metrics along an axis that scalars lack), so trials and the
final retraining run this loop there instead: tf.distribute's `strategy.run` over a distributed
dataset, with the model's own loss and optimizer (Keras all-reduces the gradients).

Every worker runs the same search, and a collective operation waits until every worker joins
it: workers that decide differently (one more trial, another learning rate, one more epoch)
would wait on each other forever. So the decisions that depend on a worker's clock are the
chief's, broadcast to every worker (`chief_value`), and each trial first checks that every
worker is about to train the same architecture (`check_same_trial`).
"""
from __future__ import annotations

import json
import weakref
import zlib

import keras
import numpy as np
import tensorflow as tf

_SUM = tf.distribute.ReduceOp.SUM
# strategy -> its traced `_sum_over_replicas` reduction.
_REDUCERS = weakref.WeakKeyDictionary()


def spans_workers(strategy):
    """Whether `strategy` is a MultiWorkerMirroredStrategy over more than one process."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or strategy.cluster_resolver is None:
        return False
    jobs = strategy.cluster_resolver.cluster_spec().as_dict()
    return sum(len(jobs.get(job, ())) for job in ("chief", "worker")) > 1


def worker_index(strategy):
    """0 on the chief (TF_CONFIG's "chief" task, or worker 0 when there is none), else 1, 2, ..."""
    resolver = strategy.cluster_resolver
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    if resolver.task_type == "chief":
        return 0
    return int(resolver.task_id) + (1 if has_chief else 0)


def chief_value(strategy, value):
    """The chief's `value` (a number), returned on every worker; every worker must call this."""
    # Only the first replica, which the chief holds, adds its value to the sum.
    return float(_sum_over_replicas(strategy, float(value), every=strategy.num_replicas_in_sync))


def agreed(strategy, value):
    """`value` itself outside a multi-worker strategy, else the chief's `value`."""
    return chief_value(strategy, value) if spans_workers(strategy) else value


def check_same_trial(strategy, hyperparameter_values):
    """Raise RuntimeError on every worker unless all are about to train the same architecture
    (nothing to check outside a multi-worker strategy)."""
    if not spans_workers(strategy):
        return
    digest = zlib.crc32(json.dumps(hyperparameter_values, sort_keys=True, default=str).encode())
    differs = chief_value(strategy, digest) != digest
    if _summed(strategy, float(differs)) > 0:
        raise RuntimeError(
            "The workers of the MultiWorkerMirroredStrategy are about to train different architectures, so they "
            "cannot train together. Run the same script with the same data, configuration and directory layout "
            "on every worker (with seed=None the chief's random seed is shared).")


def fit_history(model, dataset, *, epochs, initial_epoch=0, callbacks=(), strategy=None, verbose=0):
    """Train like `model.fit(dataset, epochs=..., initial_epoch=..., callbacks=...)` (epochs
    `initial_epoch` to `epochs - 1`, as Keras counts them) and return the history dict; under a
    multi-worker strategy, with `lockstep_fit`."""
    if spans_workers(strategy):
        return lockstep_fit(model, dataset, epochs=epochs, initial_epoch=initial_epoch, callbacks=callbacks,
                            strategy=strategy, verbose=verbose)
    # shuffle=False: autonas's datasets shuffle themselves.
    return model.fit(dataset, epochs=epochs, initial_epoch=initial_epoch, verbose=verbose, shuffle=False,
                     callbacks=list(callbacks)).history


def evaluate_scores(model, dataset, strategy=None):
    """Like `model.evaluate(dataset, return_dict=True)`; under a multi-worker strategy, with
    `lockstep_evaluate`."""
    if spans_workers(strategy):
        return lockstep_evaluate(model, dataset, strategy)
    return model.evaluate(dataset, verbose=0, return_dict=True)


def lockstep_fit(model, dataset, *, epochs, strategy, initial_epoch=0, callbacks=(), verbose=0):
    """`model.fit` written with `strategy.run`, for strategies Keras's fit cannot train under.

    `model` is built and compiled in `strategy`'s scope; `dataset` yields `(inputs, integer
    labels)` batches of the global batch size; the logs hold `loss` and `accuracy` (the metrics
    autonas compiles). Callbacks get the train and epoch hooks; the learning rate they set and
    `model.stop_training` are the chief's. Like `fit`, it trains epochs `initial_epoch` to
    `epochs - 1`. Returns the history dict.
    """
    train_step = _train_step(model, strategy)
    batches = strategy.experimental_distribute_dataset(_shard_by_data(_every_replica_fed(dataset, strategy)))
    hooks = keras.callbacks.CallbackList(list(callbacks), model=model, epochs=epochs)
    history = {"loss": [], "accuracy": []}
    model.stop_training = False
    hooks.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        hooks.on_epoch_begin(epoch)
        learning_rate = model.optimizer.learning_rate
        model.optimizer.learning_rate = chief_value(strategy, keras.ops.convert_to_numpy(learning_rate))
        logs = _logs(sum(train_step(batch).numpy() for batch in batches))
        hooks.on_epoch_end(epoch, logs)
        for name, value in logs.items():
            history[name].append(value)
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: loss {logs['loss']:.4f}, accuracy {logs['accuracy']:.4f}", flush=True)
        model.stop_training = bool(chief_value(strategy, model.stop_training))
        if model.stop_training:
            break
    hooks.on_train_end()
    return history


def lockstep_evaluate(model, dataset, strategy):
    """`model.evaluate` written with `strategy.run`: the loss and accuracy over every worker's
    share of `dataset`, the same on all workers."""
    loss = keras.losses.get(model.loss)

    @tf.function
    def test_step(batch):
        def replica_step(inputs, labels):
            probabilities = model(inputs, training=False)
            return _totals(labels, probabilities, loss(labels, probabilities))
        return strategy.reduce(_SUM, strategy.run(replica_step, args=batch), axis=None)

    batches = strategy.experimental_distribute_dataset(_shard_by_data(dataset))
    return _logs(sum(test_step(batch).numpy() for batch in batches))


def _train_step(model, strategy):
    """One synchronous step over every replica: the summed loss, correct count and sample count.

    Each replica's loss is its examples' loss over the step's global sample count, so the
    gradients Keras sums across replicas are those of the global mean, even when the last
    batch leaves some replicas fewer examples (none is left without: `_every_replica_fed`).
    """
    loss = keras.losses.get(model.loss)

    @tf.function
    def train_step(batch):
        def replica_step(inputs, labels):
            context = tf.distribute.get_replica_context()
            with tf.GradientTape() as tape:
                probabilities = model(inputs, training=True)
                per_example = loss(labels, probabilities)
                samples = context.all_reduce(_SUM, tf.cast(tf.size(per_example), per_example.dtype))
                total = tf.reduce_sum(per_example) / samples
                if model.losses:
                    total += tf.add_n(model.losses) / strategy.num_replicas_in_sync
            gradients = tape.gradient(total, model.trainable_variables)
            model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return _totals(labels, probabilities, per_example)
        return strategy.reduce(_SUM, strategy.run(replica_step, args=batch), axis=None)

    return train_step


def _totals(labels, probabilities, per_example_loss):
    """[loss sum, correct predictions, samples] of one replica's batch, as float64."""
    predicted = tf.argmax(probabilities, axis=-1, output_type=tf.int64)
    correct = tf.equal(predicted, tf.cast(tf.reshape(labels, tf.shape(predicted)), tf.int64))
    return tf.stack([tf.reduce_sum(tf.cast(per_example_loss, tf.float64)),
                     tf.reduce_sum(tf.cast(correct, tf.float64)),
                     tf.cast(tf.size(per_example_loss), tf.float64)])


def _logs(totals):
    loss_sum, correct, samples = np.asarray(totals, dtype=np.float64)
    samples = max(samples, 1.0)
    return {"loss": float(loss_sum / samples), "accuracy": float(correct / samples)}


def _every_replica_fed(dataset, strategy):
    """Leave out a training batch too small to give every replica a sample (at most an epoch's last).

    A step in which a replica has no samples fails its collectives under TF 2.21 ("Shape mismatch
    in the collective instance ..."; tests/multi_worker_search.py: 577 samples, a global batch of
    32 on two workers). The few samples of such a batch sit out that epoch; the shuffle puts
    others last in the next.
    """
    replicas = strategy.num_replicas_in_sync
    return dataset.filter(lambda inputs, labels: tf.shape(labels)[0] >= replicas)


def _shard_by_data(dataset):
    """Each worker keeps its share of every global batch: in-memory datasets have no files to
    split, and tf.data would otherwise warn and fall back to this after trying."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def _summed(strategy, value):
    """The sum over workers of each worker's `value` (its first replica adds it)."""
    return float(_sum_over_replicas(strategy, float(value), every=len(strategy.extended.worker_devices)))


def _sum_over_replicas(strategy, value, *, every):
    """The sum of each process's `value` over the replicas whose global index is a multiple of `every`."""
    if strategy not in _REDUCERS:  # traced once per strategy, not once per call
        @tf.function
        def reduce(local, stride):
            def replica_value(value_here):
                index = tf.distribute.get_replica_context().replica_id_in_sync_group
                return tf.where(tf.equal(index % stride, 0), value_here, tf.zeros_like(value_here))
            return strategy.reduce(_SUM, strategy.run(replica_value, args=(local,)), axis=None)
        _REDUCERS[strategy] = reduce
    return _REDUCERS[strategy](tf.constant(value, tf.float64), tf.constant(every, tf.int32))
