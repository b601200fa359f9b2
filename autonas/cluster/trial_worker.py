"""A worker process that a classifier's `fit` started to run trials beside others (`parallel_trials`).

Usage (by `autonas.cluster.local.LocalWorkers`, with the KERASTUNER_* variables set):
    python -m autonas.cluster.trial_worker FOLDER THREADS CHIEF_PID

It limits TensorFlow to THREADS threads before anything runs (its share of the cores), reads the
estimator and the inputs from FOLDER, and runs the same `fit` as the chief in the worker's role:
trials until the chief says the search is over, no retraining. Its time limit ends where the
chief's search does. It exits when the process that started it is gone (a chief killed with
SIGKILL cannot stop its workers, and keras-tuner's client would wait for it for an hour).
"""
from __future__ import annotations

import os
import sys
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Seconds between two looks at whether the chief's process is still there.
PARENT_POLL_SECONDS = 1.0
# Shortest time limit a worker gets: one that started after the chief's search ended asks once
# and is told to stop.
MIN_TIME_LIMIT_SECONDS = 1.0


def exit_with_parent(parent):
    """Exit, from a background thread, once process `parent` (the one that started this one: by
    its id, since importing the package takes seconds in which it may end) is no longer ours."""

    def watch():
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)  # a thread of its own: nothing else to wait on
        os._exit(1)

    threading.Thread(target=watch, name="autonas-parent-watch", daemon=True).start()


def main(folder, threads, chief_pid):
    exit_with_parent(chief_pid)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    from autonas.cluster.local import read_worker_files

    settings, inputs = read_worker_files(folder)
    params = dict(settings["params"])
    if settings["search_ends_at"] is not None:
        params["time_limit"] = max(settings["search_ends_at"] - time.time(), MIN_TIME_LIMIT_SECONDS)
    estimator = settings["estimator"](**params)
    estimator.fit(inputs["x"], inputs["y"], validation_split=inputs["validation_split"],
                  validation_data=inputs["validation_data"])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
