"""The part a process plays in keras-tuner's chief/worker search, by its KERASTUNER_* convention.

The same script runs in every process, and environment variables give each its part:
`KERASTUNER_TUNER_ID` ("chief" for the chief; "tuner0", "tuner1", ... for the workers),
`KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT` (where the chief serves the oracle).
Without them a search runs in one process, as before, unless a classifier's `parallel_trials`
makes its `fit` the chief of workers it starts (`autonas.cluster.local`): that chief gets its
`Cluster` in the code, and only the workers get the variables.

- The chief runs no trial: it serves the oracle until the search is over, then returns (see
  `autonas.cluster.chief`), so a classifier's `fit` goes on to retrain the best architecture.
- A worker asks the chief for trials, runs them, reports them, and returns when the chief says
  the search is over. While a trial runs it sends a heartbeat (keras-tuner's `get_trial`
  request) every `worker_timeout / 6` seconds; the chief gives a trial that it has not heard
  of for `worker_timeout` seconds to another worker.

`AUTONAS_CONCURRENT_TRIALS` (default 1) says how many trials run at once in the whole search, so
that sized trial epochs plan for that many trials side by side (`autonas.engine.trial_epochs`);
`fit(parallel_trials=N)` sets it for the workers it starts.

`AUTONAS_WORKER_TIMEOUT` (seconds, default 60) sets `worker_timeout`; give every process the
same value.

Example:
    >>> Cluster.from_environment().role   # no KERASTUNER_* variables set
    'single'
"""
from __future__ import annotations

import dataclasses
import math
import os
import threading

from autonas import kt_internals

WORKER_TIMEOUT_VARIABLE = "AUTONAS_WORKER_TIMEOUT"
CONCURRENT_TRIALS_VARIABLE = "AUTONAS_CONCURRENT_TRIALS"
DEFAULT_WORKER_TIMEOUT = 60.0
# Heartbeats a worker sends per `worker_timeout`: several may be late on a loaded machine
# before the chief gives up on the worker.
HEARTBEATS_PER_TIMEOUT = 6
ROLES = ("single", "chief", "worker")


@dataclasses.dataclass(frozen=True)
class Cluster:
    """This process's part in a search.

    Attributes:
        role: "single" (no distributed search), "chief" or "worker".
        tuner_id: `KERASTUNER_TUNER_ID`, or None for "single".
        address: "ip:port" the chief serves on, or None for "single".
        worker_timeout: seconds of silence about a running trial after which the chief
            re-issues it.
        workers: on a chief that starts its own workers (`autonas.cluster.local`), their
            processes; None when the workers come by themselves.
        concurrent_trials: how many trials the whole search runs at once.
    """

    role: str = "single"
    tuner_id: str | None = None
    address: str | None = None
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT
    workers: object = None
    concurrent_trials: int = 1

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {self.role!r}.")

    @classmethod
    def from_environment(cls):
        """The part the KERASTUNER_* (and AUTONAS_WORKER_TIMEOUT) variables give this process.

        Raises:
            RuntimeError: (keras-tuner's) when KERASTUNER_ORACLE_IP is set but
                KERASTUNER_ORACLE_PORT or KERASTUNER_TUNER_ID is not.
            ValueError: when AUTONAS_WORKER_TIMEOUT is not a positive number of seconds.
        """
        if not kt_internals.has_chief_oracle():
            return cls()
        role = "chief" if kt_internals.is_chief_oracle() else "worker"
        address = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
        return cls(role=role, tuner_id=os.environ["KERASTUNER_TUNER_ID"], address=address,
                   worker_timeout=worker_timeout_from_environment(),
                   concurrent_trials=concurrent_trials_from_environment())

    @property
    def distributed(self):
        return self.role != "single"

    @property
    def is_chief(self):
        return self.role == "chief"

    @property
    def is_worker(self):
        return self.role == "worker"

    def heartbeat(self, oracle, trial_id):
        """A started `Heartbeat` for `trial_id` on a worker (`oracle` is its `OracleClient`);
        one that sends nothing in the other roles."""
        interval = self.worker_timeout / HEARTBEATS_PER_TIMEOUT if self.is_worker else None
        return Heartbeat(oracle, trial_id, interval)

    def serve(self, oracle, *, may_start_trial=None, on_trial_end=None, say=None):
        """On the chief: serve `oracle` to the workers and return once the search is over.

        Args:
            oracle: the search's `keras_tuner.Oracle`.
            may_start_trial: callable, False once no new trial should start (a time budget);
                None means always.
            on_trial_end: optional callable `f(trial)` after each trial a worker ends.
            say: callable for notices (a re-issued trial); default prints to stderr.

        Returns:
            A dict trial id -> the tuner ids the trial was given to, in order.

        Raises:
            RuntimeError: when this process is not the chief, when the chief cannot listen on
                its address, or (re-raised) when the oracle failed the search.
        """
        if not self.is_chief:
            raise RuntimeError(f"Only the chief serves the oracle; this process is {self.role!r} "
                               f"(KERASTUNER_TUNER_ID={self.tuner_id!r}).")
        # Deferred: it loads gRPC, which only a distributed search needs.
        from autonas.cluster import chief as chief_module

        chief = chief_module.Chief(oracle, worker_timeout=self.worker_timeout, may_start_trial=may_start_trial,
                                   on_trial_end=on_trial_end, say=say, workers=self.workers)
        chief_module.serve(chief, self.address)
        return {trial_id: list(tuners) for trial_id, tuners in chief.assignments.items()}


class Heartbeat:
    """Tells the chief, from a background thread, that a worker's trial is still running.

    Each beat is keras-tuner's `get_trial` request for the trial: it changes nothing on the
    chief, which counts every request naming a trial as a sign of life. (`update_trial` would
    record metrics in the trial and must carry the objective, which a trial only has at its end.)
    A beat runs in a thread rather than at epoch ends because building and tracing a network
    can take longer than `worker_timeout` with no epoch ending.

    Args:
        oracle: the worker's `OracleClient`.
        trial_id: the running trial.
        interval: seconds between beats; None sends none.
    """

    def __init__(self, oracle, trial_id, interval):
        self._stopped = threading.Event()
        self._thread = None
        if interval is not None:
            self._thread = threading.Thread(target=self._beat, args=(oracle, trial_id, float(interval)),
                                            name=f"autonas-heartbeat-{trial_id}", daemon=True)
            self._thread.start()

    def _beat(self, oracle, trial_id, interval):
        while not self._stopped.wait(interval):
            try:
                oracle.get_trial(trial_id)
            except Exception:  # noqa: BLE001
                # A missed beat is no fault of the trial: if beats stay missing the chief
                # re-issues it, and an unreachable chief surfaces in the worker's own requests.
                pass

    def stop(self):
        """Send no more beats (a beat in flight may still arrive)."""
        self._stopped.set()


def worker_timeout_from_environment():
    """`AUTONAS_WORKER_TIMEOUT` in seconds, or the default.

    Raises:
        ValueError: when it is not a positive number of seconds.
    """
    text = os.environ.get(WORKER_TIMEOUT_VARIABLE)
    if text is None:
        return DEFAULT_WORKER_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{WORKER_TIMEOUT_VARIABLE} must be a positive number of seconds, got {text!r}.")
    return seconds


def concurrent_trials_from_environment():
    """`AUTONAS_CONCURRENT_TRIALS`, or 1.

    Raises:
        ValueError: when it is not a positive integer.
    """
    text = os.environ.get(CONCURRENT_TRIALS_VARIABLE)
    if text is None:
        return 1
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"{CONCURRENT_TRIALS_VARIABLE} must be a positive integer, got {text!r}.")
    return int(text)
