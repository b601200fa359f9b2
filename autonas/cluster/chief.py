"""The chief of a multi-worker search: serves the oracle, re-issues lost trials, and stops.

keras-tuner's own chief (`oracle_chief.start_server`) never stops its gRPC server and counts a
worker that died as busy forever, so its process never exits, and a search whose worker dies
never ends. This chief answers the same client (keras-tuner's `OracleClient`, which workers use
unchanged) through keras-tuner's servicer and messages, and adds:

- liveness: any request naming a trial (a worker's heartbeats are `get_trial` requests) or a
  tuner id (`create_trial`) is a sign of life. A running trial not heard of for
  `worker_timeout` seconds is taken from its worker and handed, ahead of any new trial, to the
  next worker that asks. After `max_reissues` such losses it fails instead (a trial that kills
  every worker it runs on must not kill them all). A worker with no trial that has not asked
  for one for `worker_timeout` seconds is forgotten.
- the end: once the oracle has no new trial to give, a worker that asks is told to wait (IDLE;
  its request is held until a trial ends or comes back, at most `idle_wait` seconds) while
  other trials run, since one of them may come back; it is told STOPPED once none runs. The
  search is over when no trial runs and every worker heard of was told to stop or went silent;
  then the server stops and `serve` returns.
- reports about a trial that has already ended (from a worker presumed dead that was only
  slow) are ignored, so no trial ends twice.
- workers it started itself (`autonas.cluster.local`, a classifier's `parallel_trials`): they
  start once the server listens, so none waits for it; a trial whose worker process exited is
  taken back at once rather than after `worker_timeout`; once every worker process has exited
  the search ends with the trials that completed (nobody is left to run the others).
"""
from __future__ import annotations

import collections
import functools
import sys
import threading
import time
from concurrent import futures

import grpc
import keras_tuner
from keras_tuner.engine.trial import Trial, TrialStatus

from autonas import kt_internals

# The longest a worker's request for a trial is held while it has to wait.
IDLE_WAIT_SECONDS = 5.0
# Seconds the server lets requests in flight finish when it stops.
STOP_GRACE_SECONDS = 5.0
# Threads answering requests: each worker holds one at most for a waiting request, one for a heartbeat.
SERVER_THREADS = 32
_ENDED = (TrialStatus.COMPLETED, TrialStatus.FAILED)


@keras_tuner.synchronized
def _locked(oracle, action):
    """`action()` under the oracle's own lock (the one its create/update/end_trial take).

    Returns `(result, None)`, or `(None, error)` when `action` raised: `keras_tuner.synchronized`
    does not release the lock when the call raises, so nothing may escape from here.
    """
    try:
        return action(), None
    except Exception as error:  # noqa: BLE001 - handed back to the caller, outside the lock
        return None, error


class Chief:
    """What the chief knows about a distributed search, and how it answers the workers.

    Every method is safe to call from the server's threads at once.

    Args:
        oracle: the search's `keras_tuner.Oracle`.
        worker_timeout: seconds without news of a running trial before it is re-issued.
        may_start_trial: callable; False once no new trial may start (time budget). None: always.
        on_trial_end: optional callable `f(trial)` after a worker ends a trial.
        max_reissues: how many times one trial is re-issued before it fails.
        say: callable for notices; default prints to stderr.
        clock: monotonic seconds (tests pass a fake).
        workers: the worker processes this chief started itself (`autonas.cluster.local.LocalWorkers`:
            `start(address)`, `exited()`, `all_exited()`), or None when workers come by themselves.
    """

    def __init__(self, oracle, *, worker_timeout, may_start_trial=None, on_trial_end=None, max_reissues=2,
                 say=None, clock=time.monotonic, workers=None):
        self.oracle = oracle
        self.worker_timeout = float(worker_timeout)
        self.may_start_trial = may_start_trial or (lambda: True)
        self.on_trial_end = on_trial_end
        self.max_reissues = int(max_reissues)
        self.say = say or (lambda message: print(message, file=sys.stderr, flush=True))
        self.clock = clock
        self.workers = workers
        # trial id -> the tuner ids it was given to, in order (more than one when re-issued).
        self.assignments = {}
        # (trial id, tuner id) of each trial taken from a silent worker.
        self.lost = []
        self.error = None
        self._stopping = False
        self._workers_gone = False
        self._started = clock()
        self._trial_seen = {}
        self._tuner_seen = {}
        self._reissues = collections.Counter()
        self._changed = threading.Condition()
        self._version = 0

    # -- answering the workers ---------------------------------------------------------------

    def create_trial(self, tuner_id):
        """The next trial for `tuner_id`: RUNNING, IDLE (ask again) or STOPPED (search over)."""
        trial = self._run(lambda: self._create_trial(tuner_id), fatal=True)
        if trial is None:  # the oracle failed: the search ends
            trial = self._run(lambda: self._stop(tuner_id))
        if trial.status == TrialStatus.STOPPED:
            self._notify()  # the search may be over
        return trial

    def _create_trial(self, tuner_id):
        self._tuner_seen[tuner_id] = self.clock()
        if self.error is not None or not self.may_start_trial():
            return self._stop(tuner_id)
        trial = self.oracle.create_trial(tuner_id)
        if trial.status == TrialStatus.STOPPED:
            if kt_internals.running_trials(self.oracle):
                # Trials still run elsewhere, and one of them comes back if its worker dies.
                kt_internals.keep_worker(self.oracle, tuner_id)  # create_trial dropped it with its STOPPED
                return Trial(self.oracle.get_space(), trial_id="idle", status=TrialStatus.IDLE)
            return self._stop(tuner_id)
        if trial.status == TrialStatus.RUNNING:
            owners = self.assignments.setdefault(trial.trial_id, [])
            if not owners or owners[-1] != tuner_id:
                owners.append(tuner_id)
            self._heard_of(trial.trial_id)
        return trial

    def _stop(self, tuner_id):
        self._stopping = True
        kt_internals.forget_worker(self.oracle, tuner_id)
        # An explicit id: keras-tuner would draw one from Python's global RNG.
        return Trial(self.oracle.get_space(), trial_id="stopped", status=TrialStatus.STOPPED)

    def update_trial(self, trial_id, metrics, step=0):
        """Record a worker's intermediate metrics (ignored once the trial has ended)."""
        def action():
            self._heard_of(trial_id)
            trial = self.oracle.get_trial(trial_id)
            if trial.status in _ENDED:
                return trial
            return self.oracle.update_trial(trial_id, metrics, step=step)

        return self._run(action)

    def end_trial(self, trial):
        """Record a trial a worker finished; returns False (and records nothing) when it had
        already ended, e.g. when a worker presumed dead was only slow."""
        def action():
            self._heard_of(trial.trial_id)
            if self.oracle.get_trial(trial.trial_id).status in _ENDED:
                return False
            try:
                self.oracle.end_trial(trial)
            except Exception as error:  # noqa: BLE001
                # keras-tuner raises once too many trials failed in a row, after recording this
                # one but before letting go of it: end the search, and raise on the chief.
                self._fail(error)
                self._release(trial.trial_id)
            return True

        ended = self._run(action)
        self._notify()
        if ended and self.on_trial_end is not None:
            try:
                self.on_trial_end(self.oracle.get_trial(trial.trial_id))
            except Exception as error:  # noqa: BLE001 - the worker did nothing wrong
                self._run(functools.partial(self._fail, error))
                self._notify()
        return ended

    def get_trial(self, trial_id):
        """The trial as the oracle has it; a worker's heartbeat."""
        def action():
            self._heard_of(trial_id)
            return self.oracle.get_trial(trial_id)

        return self._run(action)

    # -- watching ----------------------------------------------------------------------------

    def check_liveness(self):
        """Take running trials from workers silent for `worker_timeout` seconds (re-issue or fail
        them) and forget workers without a trial that stopped asking for one."""
        if self._run(self._check_liveness, fatal=True):
            self._notify()

    def _check_liveness(self):
        now = self.clock()
        changed = False
        exited = self.workers.exited() if self.workers is not None else set()
        if self.workers is not None and self.workers.all_exited() and not self._workers_gone:
            # Workers also exit by themselves when their time is up: only an early end is news.
            if kt_internals.running_trials(self.oracle) or not self._over():
                self.say("autonas chief: every worker process has exited; the search ends with the trials that "
                         "completed")
            self._workers_gone = self._stopping = changed = True
        for tuner_id, trial in kt_internals.running_trials(self.oracle).items():
            silent = now - self._trial_seen.get(trial.trial_id, self._started) > self.worker_timeout
            if silent or tuner_id in exited:
                kt_internals.forget_running_trial(self.oracle, tuner_id)
                kt_internals.forget_worker(self.oracle, tuner_id)
                reason = (f"the process of {tuner_id!r} exited during trial {trial.trial_id}" if tuner_id in exited
                          else f"no news from {tuner_id!r} about trial {trial.trial_id} for {self.worker_timeout:g}s")
                self._reissue_or_fail(trial, tuner_id, now, reason)
                changed = True
        running = kt_internals.running_trials(self.oracle)
        for tuner_id in kt_internals.known_workers(self.oracle):
            idle = tuner_id not in running
            if idle and (tuner_id in exited or now - self._tuner_seen.get(tuner_id, self._started) > self.worker_timeout):
                kt_internals.forget_worker(self.oracle, tuner_id)
                changed = True
        return changed

    def _reissue_or_fail(self, trial, tuner_id, now, reason):
        self.lost.append((trial.trial_id, tuner_id))
        self._reissues[trial.trial_id] += 1
        silence = f"{reason} (worker lost {self._reissues[trial.trial_id]} time(s))"
        if (self._reissues[trial.trial_id] <= self.max_reissues and self.error is None and not self._workers_gone
                and self.may_start_trial()):
            self.say(f"autonas chief: {silence}; re-issuing the trial to the next worker that asks")
            kt_internals.requeue_trial(self.oracle, trial.trial_id)
            self._trial_seen[trial.trial_id] = now
            return
        self.say(f"autonas chief: {silence}; the trial fails")
        trial.status = TrialStatus.FAILED
        trial.message = f"The trial's worker was lost: {silence}."
        try:
            self.oracle.end_trial(trial)
        except Exception as error:  # noqa: BLE001 - too many failures in a row
            self._fail(error)

    def finished(self):
        """Whether the search is over: no trial to give (a worker was told to stop, the search
        failed or ran out of time, or every one of `max_trials` ended), none running, and no
        worker left that has not been told."""
        def action():
            return (self._over() and not kt_internals.running_trials(self.oracle)
                    and not kt_internals.known_workers(self.oracle))

        # An error in `action` is recorded, and the next call sees the search as failing.
        return bool(self._run(action, fatal=True))

    def _over(self):
        """Whether no new trial is to be given (see `finished`)."""
        return self._stopping or self.error is not None or not self.may_start_trial() or self._all_ended()

    def _all_ended(self):
        trials = self.oracle.trials.values()
        return bool(self.oracle.max_trials) and len(trials) >= self.oracle.max_trials and all(
            trial.status in _ENDED for trial in trials)

    def raise_error(self):
        """Raise the error that ended the search, if any (on the chief, after serving)."""
        if self.error is not None:
            raise self.error

    # -- waiting -----------------------------------------------------------------------------

    @property
    def version(self):
        """A counter that grows whenever a trial ends, comes back, or a worker is stopped."""
        with self._changed:
            return self._version

    def wait_for_change(self, seen, timeout):
        """Wait until `version` differs from `seen` or `timeout` seconds pass; the version."""
        with self._changed:
            self._changed.wait_for(lambda: self._version != seen, timeout=max(timeout, 0.0))
            return self._version

    def _notify(self):
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    # -- helpers -----------------------------------------------------------------------------

    def _run(self, action, *, fatal=False):
        """`action()` under the oracle's lock. Its error is raised here, or, with `fatal`, ends
        the search (recorded for `raise_error`) and None is returned."""
        result, error = _locked(self.oracle, action)
        if error is None:
            return result
        if not fatal:
            raise error
        _locked(self.oracle, lambda: self._fail(error))
        self._notify()
        return None

    def _heard_of(self, trial_id):
        """A request named `trial_id`: its trial, and the worker it was last given to, are alive
        (a worker that ran one trial for longer than `worker_timeout` has not gone idle)."""
        now = self.clock()
        self._trial_seen[trial_id] = now
        owners = self.assignments.get(trial_id)
        if owners:
            self._tuner_seen[owners[-1]] = now

    def _fail(self, error):
        if self.error is None:
            self.error = error
            self.say(f"autonas chief: the search stops: {type(error).__name__}: {error}")
        self._stopping = True

    def _release(self, trial_id):
        for tuner_id, trial in kt_internals.running_trials(self.oracle).items():
            if trial.trial_id == trial_id:
                kt_internals.forget_running_trial(self.oracle, tuner_id)


class ChiefServicer(kt_internals.oracle_servicer_class()):
    """keras-tuner's `OracleServicer`, answering trial requests through a `Chief`.

    The space and best-trial requests are keras-tuner's own.

    Args:
        chief: the `Chief`.
        idle_wait: the longest a worker's request is held while it has to wait for a trial.
    """

    def __init__(self, chief, *, idle_wait=IDLE_WAIT_SECONDS):
        super().__init__(chief.oracle)
        self.chief = chief
        self.idle_wait = float(idle_wait)
        self.messages = kt_internals.service_messages()

    def CreateTrial(self, request, context):  # noqa: N802 - gRPC method name
        until = time.monotonic() + self.idle_wait
        while True:
            seen = self.chief.version
            trial = self.chief.create_trial(request.tuner_id)
            left = until - time.monotonic()
            if trial.status != TrialStatus.IDLE or left <= 0:
                return self.messages.CreateTrialResponse(trial=trial.to_proto())
            # Held rather than answered at once: keras-tuner's worker asks again without pause.
            self.chief.wait_for_change(seen, left)

    def UpdateTrial(self, request, context):  # noqa: N802
        trial = self.chief.update_trial(request.trial_id, request.metrics, step=request.step)
        return self.messages.UpdateTrialResponse(trial=trial.to_proto())

    def EndTrial(self, request, context):  # noqa: N802
        self.chief.end_trial(Trial.from_proto(request.trial))
        return self.messages.EndTrialResponse()

    def GetTrial(self, request, context):  # noqa: N802
        trial = self.chief.get_trial(request.trial_id)
        return self.messages.GetTrialResponse(trial=trial.to_proto())


def serve(chief, address, *, idle_wait=IDLE_WAIT_SECONDS, poll_seconds=None):
    """Serve `chief.oracle` on `address` ("ip:port") until the search is over, then stop.

    Args:
        chief: the `Chief`.
        address: where to listen, "ip:port" (port 0: any free one, for a chief that starts its own workers).
        idle_wait: see `ChiefServicer`.
        poll_seconds: how often to check the workers' liveness; default a quarter of
            `chief.worker_timeout`, at most one second.

    Raises:
        RuntimeError: when nothing can listen on `address`, or (re-raised) the oracle's error
            that ended the search.
    """
    poll = poll_seconds if poll_seconds is not None else min(1.0, chief.worker_timeout / 4)
    executor = futures.ThreadPoolExecutor(max_workers=SERVER_THREADS, thread_name_prefix="autonas-chief")
    server = grpc.server(executor)
    kt_internals.add_oracle_servicer(ChiefServicer(chief, idle_wait=min(idle_wait, chief.worker_timeout / 3)), server)
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError:
        bound = 0
    if not bound:
        executor.shutdown(wait=False)
        raise RuntimeError(f"The chief cannot listen on {address} (KERASTUNER_ORACLE_IP:KERASTUNER_ORACLE_PORT): "
                           "is another process using the port? Give every process another free port.")
    server.start()
    try:
        if chief.workers is not None:
            # The port as bound: an address ending in ":0" asks for any free one.
            chief.workers.start(f"{address.rsplit(':', 1)[0]}:{bound}")
        seen = chief.version
        while not chief.finished():
            chief.check_liveness()
            seen = chief.wait_for_change(seen, poll)
    finally:
        server.stop(STOP_GRACE_SECONDS).wait()
        executor.shutdown(wait=False)
    chief.raise_error()
