"""keras-tuner's chief/worker machinery, which keras-tuner 1.4 does not export publicly.

keras-tuner's public API has no names for its distributed mode: the role checks, the gRPC
servicer, the message classes and the retry queue live under `keras_tuner.src` or behind an
underscore. This module is the one place autonas reaches for them (DESIGN.md rule 9), so a
keras-tuner release that moves them breaks here and nowhere else.

The gRPC imports are deferred, as keras-tuner defers them (to keep protobuf versions from
clashing at import time): only a chief or a worker loads them.
"""
from keras_tuner.src.distribute import utils as _dist_utils


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


def add_oracle_servicer(servicer, server):
    """Register `servicer` on a `grpc.Server` under keras-tuner's Oracle service."""
    from keras_tuner.src import protos

    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)


def service_messages():
    """keras-tuner's request and response messages (`CreateTrialResponse`, ...)."""
    from keras_tuner.src import protos

    return protos.get_service()


def requeue_trial(oracle, trial_id):
    """Make `oracle.create_trial` hand `trial_id` out again, before any new trial.

    keras-tuner re-issues trials from `Oracle._retry_queue` (crashed trials with retries left,
    and trials that were running when a search is reloaded), and has no public way to put back
    a trial whose worker vanished. Ending it as INVALID instead would count a failure against
    the trial (and fail it outright with the default `max_retries_per_trial=0`).
    """
    oracle._retry_queue.append(trial_id)
