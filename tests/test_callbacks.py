"""Keras callbacks passed to `fit` reach every trial and the retraining, keras-tuner's way: a
TensorBoard callback writes one run per trial with its architecture in the HParams dashboard."""
import glob
import json
import os
import threading

import keras
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from autonas import ImageSearchClassifier


def _events(run_dir):
    accumulator = EventAccumulator(run_dir, size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def _scalars(run_dir, tag):
    """The values TensorBoard reads for `tag` (TF2 summaries are tensors)."""
    return [tf.make_ndarray(event.tensor_proto).item() for event in _events(run_dir).Tensors(tag)]


def _session_hparams(run_dir):
    """The hyperparameters of the HParams session recorded in `run_dir`."""
    content = _events(run_dir).PluginTagToContent("hparams")
    for data in content.values():
        plugin = plugin_data_pb2.HParamsPluginData.FromString(data)
        if plugin.HasField("session_start_info"):
            return {name: value.WhichOneof("kind") and getattr(value, value.WhichOneof("kind"))
                    for name, value in plugin.session_start_info.hparams.items()}
    return None


@pytest.mark.endtoend
def test_tensorboard_logs_each_trial_with_its_hparams_and_score_and_the_retraining(digits, tiny, tmp_path):
    images, target = digits
    logs = tmp_path / "logs"
    search = tmp_path / "search"
    clf = ImageSearchClassifier(**{**tiny, "max_trials": 2, "epochs": 2, "final_epochs": 1, "directory": str(search)})
    clf.fit(images[:300], target[:300], callbacks=[keras.callbacks.TensorBoard(str(logs))])
    board = clf.leaderboard()
    assert sorted(os.listdir(logs)) == sorted([*board["trial"], "final"])
    for _, trial in board.iterrows():
        run = logs / trial["trial"] / "execution0"
        with open(search / clf.project_name / f"trial_{trial['trial']}" / "trial.json") as file:
            values = json.load(file)["hyperparameters"]["values"]
        # The HParams entry is the trial's own architecture, decision by decision.
        assert _session_hparams(str(run)) == values
        assert len(_scalars(str(run / "train"), "epoch_loss")) == trial["epochs"]
        assert _scalars(str(run / "validation"), "epoch_accuracy") == pytest.approx([trial["score"]], abs=1e-6)
    assert _scalars(str(logs / "final" / "train"), "epoch_loss")


class _Unpicklable(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()


@pytest.mark.parametrize("callbacks, message", [
    (keras.callbacks.TensorBoard("logs"), "wrap a single callback in a list"),
    (["not a callback"], "keras.callbacks.Callback instances, got str"),
    ([_Unpicklable()], "deep-copyable"),
])
def test_bad_callbacks_are_refused_before_training(digits, tiny, tmp_path, callbacks, message):
    images, target = digits
    directory = tmp_path / "search"
    with pytest.raises(ValueError, match=message):
        ImageSearchClassifier(**{**tiny, "directory": str(directory)}).fit(images[:100], target[:100],
                                                                           callbacks=callbacks)
    assert not directory.exists()


def test_callbacks_with_trials_in_worker_processes_are_refused(digits, tiny, tmp_path):
    images, target = digits
    with pytest.raises(ValueError, match="parallel_trials=2"):
        ImageSearchClassifier(**{**tiny, "parallel_trials": 2, "directory": str(tmp_path / "s")}).fit(
            images[:100], target[:100], callbacks=[keras.callbacks.TensorBoard(str(tmp_path / "logs"))])
    assert not glob.glob(str(tmp_path / "*"))
