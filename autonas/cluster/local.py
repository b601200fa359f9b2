"""Several trials at once on one machine, started by a classifier's `fit` (`parallel_trials`).

One trial rarely keeps a machine busy: tracing and small batches leave cores idle, and a GPU
runs one small network far below its capacity. On 2 cores two single-threaded trials at once
finished the same trials in 0.57x (digits) and 0.84x (Fashion-MNIST) the wall time of one
two-threaded trial after another (`benchmarks/trial_parallelism.py`, docs/results.md).

So `fit` becomes the chief of keras-tuner's chief/worker search (`autonas.cluster.chief`) on
loopback, in its own process, and starts the workers itself (`LocalWorkers`), each a
`python -m autonas.cluster.trial_worker` process that runs trials with its share of the
machine: `CUDA_VISIBLE_DEVICES` naming one GPU on a GPU machine, and `cores // workers`
TensorFlow threads (one when there is a worker per core). The role is given to the chief
explicitly (`Cluster`), and the KERASTUNER_* variables only to the children.

The workers get what they need through files in the search directory (`WORKER_FOLDER`,
written by `write_worker_files`): the estimator's class and parameters (one trial at a time
each, the resolved seed so that they split off the same validation samples, the search's end
as a wall-clock time) and the raw inputs, pickled as given; a `tf.data.Dataset` is saved with
`tf.data.Dataset.save` in one shard, so that it loads in the same order. The inputs are removed
when the search ends; the workers' logs (`worker<i>.log`, their stdout and stderr) stay there.
"""
from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import subprocess
import sys
import time

from autonas.cluster.roles import (CONCURRENT_TRIALS_VARIABLE, WORKER_TIMEOUT_VARIABLE, Cluster,
                                   worker_timeout_from_environment)

WORKER_MODULE = "autonas.cluster.trial_worker"
# In the search directory: what the workers read, and their logs.
WORKER_FOLDER = "parallel_trials"
SETTINGS_FILE = "estimator.pkl"
INPUTS_FILE = "inputs.pkl"
DATASETS_FOLDER = "datasets"
# Seconds a worker has to exit by itself once the search is over, then to end on SIGTERM.
EXIT_GRACE_SECONDS = 10.0
LOG_TAIL_LINES = 20


def visible_gpus():
    """The GPUs TensorFlow sees in this process (listing them does not start TensorFlow's runtime)."""
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def usable_cores():
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def parallel_trial_count(value):
    """How many trials run at once for `parallel_trials=value`: the int itself; for "auto" one per
    visible GPU on a GPU machine, else one single-threaded trial per usable core."""
    if value != "auto":
        return int(value)
    return len(visible_gpus()) or usable_cores()


def check_parallel_trials(count, *, oracle_is_one_shot, cluster, spans_workers, directory, strategy):
    """Refuse, before training, what `count` trials at once cannot run as (see `check_search`)."""
    if count == 1:
        return
    if oracle_is_one_shot:
        raise ValueError(f"parallel_trials={count} runs separate trials side by side, and a one-shot search "
                         "(oracle='enas' or 'darts') trains one supernet in one process: use parallel_trials=1, or "
                         "oracle='evolution', 'reinforce' or 'random'.")
    if cluster.distributed:
        raise ValueError(f"parallel_trials={count} starts its own workers, but this process already plays "
                         f"{cluster.role!r} in a chief/worker search (KERASTUNER_TUNER_ID={cluster.tuner_id!r}): "
                         "use parallel_trials=1, or unset the KERASTUNER_* variables.")
    if spans_workers:
        raise ValueError(f"parallel_trials={count} runs trials side by side on this machine; a "
                         "MultiWorkerMirroredStrategy trains each trial on several machines together. Choose one: "
                         "parallel_trials=1, or distribution_strategy=None or 'mirrored'.")
    if strategy is not None and not isinstance(strategy, str):
        raise ValueError(f"parallel_trials={count} starts worker processes, which cannot receive a "
                         "tf.distribute.Strategy object: pass its name (distribution_strategy='mirrored') or None.")
    if directory is not None and "://" in str(directory):
        raise ValueError(f"parallel_trials={count} hands the data to its workers through files in directory=, "
                         f"which must be a local path, got {directory!r}.")


class LocalWorkers:
    """The worker processes of a search that this process serves as the chief.

    Args:
        count: how many workers.
        folder: where their files are (`write_worker_files`) and where their logs go.
        worker_timeout: seconds of silence after which the chief re-issues a trial (every
            worker gets it too, for its heartbeats).
        threads: TensorFlow threads of each worker.
        gpus: the GPUs to spread the workers over (one each, in turn); empty: CPU only.
    """

    def __init__(self, count, folder, *, worker_timeout, threads, gpus=()):
        self.tuner_ids = [f"worker{index}" for index in range(int(count))]
        self.folder = str(folder)
        self.worker_timeout = float(worker_timeout)
        self.threads = int(threads)
        self.gpus = list(gpus)
        self.processes = {}

    def log_path(self, tuner_id):
        return os.path.join(self.folder, f"{tuner_id}.log")

    def start(self, address):
        """Start every worker, to ask the chief at `address` ("ip:port") for trials."""
        ip, port = address.rsplit(":", 1)
        for index, tuner_id in enumerate(self.tuner_ids):
            env = self._environment(ip, port, tuner_id, index)
            with open(self.log_path(tuner_id), "w", encoding="utf-8") as log:
                self.processes[tuner_id] = subprocess.Popen(
                    [sys.executable, "-m", WORKER_MODULE, self.folder, str(self.threads), str(os.getpid())],
                    env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def _environment(self, ip, port, tuner_id, index):
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("KERASTUNER_") and name != "TF_CONFIG"}
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env.update(KERASTUNER_ORACLE_IP=ip, KERASTUNER_ORACLE_PORT=str(port), KERASTUNER_TUNER_ID=tuner_id,
                   PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
        env[WORKER_TIMEOUT_VARIABLE] = f"{self.worker_timeout:g}"
        env[CONCURRENT_TRIALS_VARIABLE] = str(len(self.tuner_ids))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if self.gpus:
            env["CUDA_VISIBLE_DEVICES"] = gpu_device_id(self.gpus, index)
        return env

    def exited(self):
        """Tuner ids of the workers whose process has ended."""
        return {tuner_id for tuner_id, process in self.processes.items() if process.poll() is not None}

    def all_exited(self):
        return bool(self.processes) and len(self.exited()) == len(self.processes)

    def stop(self, grace=EXIT_GRACE_SECONDS):
        """Let the workers exit by themselves for `grace` seconds, then terminate, then kill them."""
        until = time.monotonic() + grace
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(until - time.monotonic(), 0.01))
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=EXIT_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def failure_report(self):
        """What the workers that failed wrote last, naming their logs; "" when none failed."""
        parts = []
        for tuner_id, process in self.processes.items():
            if process.poll() not in (None, 0):
                path = self.log_path(tuner_id)
                with open(path, encoding="utf-8", errors="replace") as log:
                    tail = "".join(log.readlines()[-LOG_TAIL_LINES:])
                parts.append(f"Worker {tuner_id} exited with code {process.returncode}; its log {path} ends:\n{tail}")
        return "\n".join(parts)


def gpu_device_id(gpus, index):
    """The `CUDA_VISIBLE_DEVICES` entry of the GPU worker `index` uses: the workers take the
    visible GPUs in turn, named as this process's own `CUDA_VISIBLE_DEVICES` names them."""
    position = index % len(gpus)
    inherited = os.environ.get("CUDA_VISIBLE_DEVICES")
    names = [name.strip() for name in inherited.split(",")] if inherited else []
    return names[position] if position < len(names) else str(position)


def write_worker_files(folder, estimator, params, inputs, *, search_ends_at):
    """Write what the workers need into `folder`: the estimator's class and `params`, the
    search's end (`time.time()` seconds, or None), and `inputs` (a dict of `fit`'s arguments),
    datasets saved apart."""
    os.makedirs(folder, exist_ok=True)
    saved = {}
    for name, value in inputs.items():
        saved[name] = _saved_datasets(value, os.path.join(folder, DATASETS_FOLDER, name))
    with open(os.path.join(folder, SETTINGS_FILE), "wb") as handle:
        pickle.dump({"estimator": type(estimator), "params": params, "search_ends_at": search_ends_at}, handle,
                    protocol=pickle.HIGHEST_PROTOCOL)
    with open(os.path.join(folder, INPUTS_FILE), "wb") as handle:
        pickle.dump(saved, handle, protocol=pickle.HIGHEST_PROTOCOL)


def read_worker_files(folder):
    """`(settings, inputs)` as `write_worker_files` wrote them (settings: a dict of estimator,
    params, search_ends_at), datasets loaded."""
    with open(os.path.join(folder, SETTINGS_FILE), "rb") as handle:
        settings = pickle.load(handle)
    with open(os.path.join(folder, INPUTS_FILE), "rb") as handle:
        inputs = pickle.load(handle)
    return settings, {name: _loaded_datasets(value) for name, value in inputs.items()}


def remove_worker_inputs(folder):
    """Remove the inputs and settings; the logs stay."""
    for name in (SETTINGS_FILE, INPUTS_FILE):
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(folder, name))
    shutil.rmtree(os.path.join(folder, DATASETS_FOLDER), ignore_errors=True)


class SavedDataset:
    """Stands in the pickled inputs for a `tf.data.Dataset` saved at `path`."""

    def __init__(self, path):
        self.path = path


def _saved_datasets(value, path):
    """`value` with a dataset (itself, or in a tuple like `validation_data`) saved and replaced."""
    import tensorflow as tf

    if isinstance(value, tf.data.Dataset):
        # One shard: `load` reads it back in the same order, which the validation split relies on.
        value.save(path, shard_func=lambda *element: tf.constant(0, tf.int64))
        return SavedDataset(path)
    if isinstance(value, tuple):
        return tuple(_saved_datasets(item, f"{path}-{index}") for index, item in enumerate(value))
    return value


def _loaded_datasets(value):
    import tensorflow as tf

    if isinstance(value, SavedDataset):
        return tf.data.Dataset.load(value.path)
    if isinstance(value, tuple):
        return tuple(_loaded_datasets(item) for item in value)
    return value


@contextlib.contextmanager
def local_chief(estimator, count, directory, inputs, *, seed, search_deadline):
    """Run a search as the chief of `count` workers on this machine; None for `count == 1`.

    Writes the workers' files into `directory` and yields the chief's `Cluster`, whose serving
    starts the workers (`autonas.cluster.chief.serve`). When the search ends, they are given
    time to exit; when it raises or is interrupted, they are stopped at once. Either way the
    inputs are removed. A `RuntimeError` of the search (no trial completed) carries the end of
    the failed workers' logs.

    Args:
        estimator: the `SearchClassifier` whose `fit` this is.
        count: trials at once.
        directory: the search directory.
        inputs: `fit`'s arguments (x, y, validation_split, validation_data).
        seed: the seed the search runs with.
        search_deadline: the search's `Deadline`; workers stop starting trials by its end.
    """
    if count == 1:
        yield None
        return
    folder = os.path.join(str(directory), WORKER_FOLDER)
    gpus = visible_gpus()
    if gpus:
        _let_workers_share_gpus(gpus)
    end = None if search_deadline.seconds is None else time.time() + max(search_deadline.remaining, 0.0)
    params = {**estimator.get_params(), "parallel_trials": 1, "seed": seed, "directory": str(directory),
              "overwrite": False, "retrain": False, "time_limit": None}
    if not isinstance(params["oracle"], str):
        params["oracle"] = "random"  # a stand-in: the chief's Oracle instance proposes every trial
    write_worker_files(folder, estimator, params, inputs, search_ends_at=end)
    workers = LocalWorkers(count, folder, worker_timeout=worker_timeout_from_environment(),
                           threads=max(1, usable_cores() // count), gpus=gpus)
    grace = 0.0
    try:
        yield Cluster(role="chief", tuner_id="chief", address="127.0.0.1:0", worker_timeout=workers.worker_timeout,
                      workers=workers, concurrent_trials=count)
        grace = EXIT_GRACE_SECONDS
    except RuntimeError as error:
        report = workers.failure_report()
        if report:
            raise RuntimeError(f"{error}\n{report}") from error
        raise
    finally:
        workers.stop(grace)
        remove_worker_inputs(folder)


def _let_workers_share_gpus(gpus):
    """Grow this process's GPU memory as needed, so that it leaves the workers theirs (possible
    only before TensorFlow's runtime starts; afterwards this process keeps what it took)."""
    import tensorflow as tf

    for gpu in gpus:
        with contextlib.suppress(RuntimeError, ValueError):
            tf.config.experimental.set_memory_growth(gpu, True)
