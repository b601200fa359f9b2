"""The supernet's compiled steps run without Grappler on a CPU; nothing outside them changes."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2
from tensorflow.python.eager import context

from autonas.oneshot import Supernet, SupernetTrainer
from autonas.engine.graph_rewrites import graph_rewrites_off
from autonas.space import CellSearchSpace, NetworkSize
from autonas.testing.supernet import predict

pytestmark = pytest.mark.skipif(bool(tf.config.list_logical_devices("GPU")),
                                reason="with a GPU, TensorFlow's default graph optimiser stays on")


def serialized_call_config():
    return context.context().function_call_options.config_proto_serialized


def optimiser_disabled():
    config = config_pb2.ConfigProto.FromString(serialized_call_config())
    return config.graph_options.rewrite_options.disable_meta_optimizer


def test_only_the_optimiser_switch_changes_inside_and_all_is_restored_after():
    before = serialized_call_config()
    assert not optimiser_disabled()
    with graph_rewrites_off():
        assert optimiser_disabled()
        expected = config_pb2.ConfigProto.FromString(before)  # placement, threads... kept
        expected.graph_options.rewrite_options.disable_meta_optimizer = True
        assert config_pb2.ConfigProto.FromString(serialized_call_config()) == expected
    assert serialized_call_config() == before
    with pytest.raises(RuntimeError), graph_rewrites_off():
        raise RuntimeError("a failing step")
    assert serialized_call_config() == before


def test_every_step_of_the_trainer_runs_under_it_and_computes_what_the_eager_supernet_does():
    space = CellSearchSpace(["conv_3", "max_pool_3", "identity"], num_blocks=2, rank=1, reduction_cell=False)

    def inputs_builder():
        inputs = keras.Input((16, 4))
        return inputs, inputs

    supernet = Supernet(space, inputs_builder=inputs_builder, num_classes=3, size=NetworkSize(filters=4))
    trainer = SupernetTrainer(supernet, learning_rate=0.01)
    seen = []
    for name in ("_train", "_score", "_predict"):
        step = getattr(trainer, name)

        def recording(*args, step=step, name=name):
            seen.append((name, optimiser_disabled()))
            return step(*args)

        setattr(trainer, name, recording)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 16, 4)).astype("float32"), rng.integers(0, 3, 8)
    architecture = supernet.encoding.sample(rng)
    trainer.train_step(x, y, architecture)
    trainer.score(architecture, [(x, y)])
    trainer.score(architecture, [(x, y)], batch_statistics=False)
    optimised = predict(trainer, x, architecture)
    assert sorted(seen) == [("_predict", True), ("_predict", True), ("_score", True), ("_train", True)]
    # The compiled step without rewrites computes what the supernet computes eagerly.
    assert np.allclose(optimised, supernet(x, architecture, training=False).numpy(), atol=1e-6)
