"""Every keras-tuner internal that autonas touches, in one place, each with its reason.

keras-tuner 1.4 has no public names for part of what autonas needs: its distributed mode (the
role checks, the gRPC servicer and client, the message classes live under `keras_tuner.src`),
an oracle's project files, its record of tried values and its retry queue (behind an
underscore), and the chief's bookkeeping of running trials and workers (public attributes that
keras-tuner edits only from inside `create_trial` / `end_trial`). This module is the one place
autonas reaches for them (DESIGN.md rule 9), so a keras-tuner release that moves one breaks here
and nowhere else; `tests/test_kt_internals.py` checks each against the installed keras-tuner.

The gRPC imports are deferred, as keras-tuner defers them (to keep protobuf versions from
clashing at import time): only a chief or a worker loads them.
"""
from __future__ import annotations

import keras_tuner
from keras_tuner.src import utils as _kt_utils
from keras_tuner.src.distribute import utils as _dist_utils

# -- the distributed mode ---------------------------------------------------------------------


def has_chief_oracle():
    """Whether the KERASTUNER_* variables ask for a distributed search.

    Raises:
        RuntimeError: (keras-tuner's) when KERASTUNER_ORACLE_IP is set without
            KERASTUNER_ORACLE_PORT or KERASTUNER_TUNER_ID.
    """
    return _dist_utils.has_chief_oracle()


def is_chief_oracle():
    """Whether this process is the chief (its KERASTUNER_TUNER_ID contains "chief")."""
    return _dist_utils.is_chief_oracle()


def oracle_servicer_class():
    """keras-tuner's gRPC `OracleServicer`, which answers `OracleClient` requests with an Oracle."""
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    return OracleServicer


def oracle_client_class():
    """keras-tuner's worker-side `OracleClient`, the oracle a worker's Tuner talks to."""
    from keras_tuner.src.distribute.oracle_client import OracleClient

    return OracleClient


def add_oracle_servicer(servicer, server):
    """Register `servicer` on a `grpc.Server` under keras-tuner's Oracle service."""
    from keras_tuner.src import protos

    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)


def service_messages():
    """keras-tuner's request and response messages (`CreateTrialResponse`, ...)."""
    from keras_tuner.src import protos

    return protos.get_service()


# -- the chief's bookkeeping of running trials and workers --------------------------------------
# keras-tuner's chief assumes every worker lives until the search ends; autonas's chief takes a
# trial back from a silent worker and holds idle workers, which means editing the oracle's
# `ongoing_trials` (tuner id -> running trial) and `tuner_ids` (workers it has not stopped).


def running_trials(oracle):
    """`{tuner_id: trial}` of the trials running now (a copy)."""
    return dict(oracle.ongoing_trials)


def forget_running_trial(oracle, tuner_id):
    """Stop counting the trial that `tuner_id` runs as running (its worker was lost or it ended)."""
    del oracle.ongoing_trials[tuner_id]


def known_workers(oracle):
    """Tuner ids the oracle has handed trials to and not told to stop (a copy)."""
    return set(oracle.tuner_ids)


def keep_worker(oracle, tuner_id):
    """Count `tuner_id` as a worker still in the search (`create_trial` drops it with a STOPPED)."""
    oracle.tuner_ids.add(tuner_id)


def forget_worker(oracle, tuner_id):
    """Stop counting `tuner_id` as a worker still in the search."""
    oracle.tuner_ids.discard(tuner_id)


# -- an oracle's project, tried values and retry queue -------------------------------------------


def set_project_dir(oracle, directory, project_name):
    """Point `oracle` at its project directory, as a Tuner does; there is no public way to drive
    an Oracle without a Tuner (strategy tests and the NAS-Bench-201 benchmark do)."""
    oracle._set_project_dir(str(directory), project_name)


def oracle_file(oracle):
    """The path of `oracle.json`, which `Oracle.save` writes (keras-tuner names it privately)."""
    return oracle._get_oracle_fname()


def trial_dir(oracle, trial_id):
    """The directory of a trial's files (`trial.json`, the tuner's checkpoint)."""
    return oracle._get_trial_dir(trial_id)


def save_json(path, obj):
    """keras-tuner's JSON writer, which also writes to `gs://` and other TensorFlow file systems."""
    _kt_utils.save_json(path, obj)


def already_tried(oracle, values):
    """Whether `values` were already proposed: the check keras-tuner's own oracles make, which
    has no public name."""
    return oracle._duplicate(values)


def queued_trials(oracle):
    """Ids of the trials waiting to run again (crashed with retries left; on reload, every trial
    that was running), in the order `create_trial` hands them out."""
    return list(oracle._retry_queue)


def requeue_trial(oracle, trial_id):
    """Make `oracle.create_trial` hand `trial_id` out again, before any new trial.

    keras-tuner has no public way to put back a trial whose worker vanished. Ending it as
    INVALID instead would count a failure against the trial (and fail it outright with the
    default `max_retries_per_trial=0`).
    """
    oracle._retry_queue.append(trial_id)


def unqueue_trial(oracle, trial_id):
    """Take `trial_id` out of the retry queue (a reloaded trial that had already ended)."""
    oracle._retry_queue[:] = [queued for queued in oracle._retry_queue if queued != trial_id]


class TrialFileHook(keras_tuner.Oracle):
    """An Oracle whose trial files are written by the public `write_trial_file`.

    keras-tuner writes `trial_<id>/trial.json` through the private `Oracle._save_trial`, with no
    public hook; this is the one override of it. Put it among an Oracle's bases and override
    `write_trial_file` to change how trial files are written.
    """

    def _save_trial(self, trial):
        self.write_trial_file(trial)

    def write_trial_file(self, trial):
        """Write `trial`'s file (keras-tuner's way: `Trial.save`, in place)."""
        super()._save_trial(trial)


# -- callbacks --------------------------------------------------------------------------------


def trial_callbacks(tuner, callbacks, trial):
    """Copies of `callbacks` for one trial, made as keras-tuner's `Tuner.run_trial` makes them.

    Each trial gets deep copies (a callback keeps state from one fit to the next), and a
    `keras.callbacks.TensorBoard` among them logs to `<log_dir>/<trial_id>/execution0`, joined by
    TensorBoard's HParams callback with the trial's hyperparameters. autonas's runner replaces
    `run_trial`, so it takes these two private steps itself.

    Raises:
        keras_tuner.errors.FatalValueError: (keras-tuner's) for a callback that cannot be deep-copied.
    """
    copies = tuner._deepcopy_callbacks(list(callbacks))
    tuner._configure_tensorboard_dir(copies, trial, 0)
    return copies
