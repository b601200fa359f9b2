"""Training under tf.distribute strategies, each run in fresh processes (TensorFlow fixes its
devices and cluster when its runtime starts)."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import tensorflow as tf

from autonas import ImageSearchClassifier
from autonas.cluster.roles import Cluster
from autonas.distribute.strategies import global_batch_size, make_strategy
from autonas.engine.search import check_multi_worker_strategy

HERE = Path(__file__).parent


def _environment(**extra):
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_batch_size_is_per_replica():
    assert global_batch_size(16, tf.distribute.get_strategy()) == 16
    assert isinstance(make_strategy("mirrored"), tf.distribute.MirroredStrategy)
    assert make_strategy(None) is tf.distribute.get_strategy()


def test_unknown_strategy_is_rejected_before_training():
    with pytest.raises(ValueError, match="distribution_strategy must be None, one of"):
        ImageSearchClassifier(distribution_strategy="tpu").fit([[[0, 1], [1, 0]]] * 4, [0, 1] * 2)


@pytest.mark.scaleout
def test_mirrored_search_over_two_logical_cpus_exports_a_matching_model(tmp_path):
    output = tmp_path / "result.json"
    subprocess.run([sys.executable, str(HERE / "mirrored_search.py"), str(tmp_path / "model"), str(output)],
                   check=True, env=_environment(), timeout=900)
    result = json.loads(output.read_text())
    assert result["strategy"] == "MirroredStrategy" and result["replicas"] == 2
    assert result["trials"] == 1 and result["retrained"]
    assert result["test_accuracy"] > 0.7
    # Replicas share synchronised batch-norm statistics, so the export (the first replica's
    # variables) agrees with predict_proba (rows split across both replicas).
    assert result["export_max_abs_diff"] <= 1e-5


@pytest.mark.scaleout
def test_multi_worker_strategy_trains_the_same_search_on_two_processes(tmp_path):
    # Two workers on loopback train every trial and the final model together; neither passes a
    # seed, so the chief's is shared. They must end with the same scores, architecture and
    # model; the chief writes the search to `directory`, the other to `directory/worker-1`.
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        workers.append(subprocess.Popen(
            [sys.executable, str(HERE / "multi_worker_search.py"), str(tmp_path / "runs"),
             str(tmp_path / f"worker{index}.json")], env=_environment(TF_CONFIG=config)))
    try:
        codes = [worker.wait(timeout=600) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    assert codes == [0, 0]
    chief, other = (json.loads((tmp_path / f"worker{index}.json").read_text()) for index in range(2))
    assert chief["completed"] == 2 and chief["retrained"]
    assert chief["scores"] == other["scores"]
    assert chief["genotype"] == other["genotype"]
    assert chief["probabilities"] == other["probabilities"]
    assert chief["test_accuracy"] > 0.5
    assert {"image_search", "worker-1"} <= set(chief["written"])
    assert (tmp_path / "runs" / "worker-1" / "image_search").is_dir()


@pytest.mark.parametrize("oracle, cluster, message", [
    ("enas", Cluster(), "trains its supernet in one process"),
    ("darts", Cluster(), "trains its supernet in one process"),
    ("evolution", Cluster(role="worker", tuner_id="tuner0", address="127.0.0.1:8000"), "Choose one way"),
])
def test_multi_worker_strategy_refuses_what_it_cannot_run(oracle, cluster, message):
    # Checked in fit (`check_search`) right after the strategy is made, before data are prepared or
    # anything is written.
    with pytest.raises(ValueError, match=message):
        check_multi_worker_strategy(oracle, cluster)
    check_multi_worker_strategy("evolution", Cluster())
