"""Oracles whose project survives the process being killed at any moment.

keras-tuner writes a search to disk in steps: `trial_<id>/trial.json` when a trial is created,
reported and ended, `oracle.json` after each of those, and it reloads a project by sending every
trial that was running to be retried. A SIGKILL between two of those writes leaves a project
that keras-tuner 1.4.8 resumes wrongly:

- a trial file written just before its creation reached `oracle.json` is counted towards
  `max_trials` but never run (an orphan);
- a trial that had already reported, or even ended, before the kill is run a second time, its
  second result averaged into the first;
- `end_trial` saves `oracle.json` before the trial leaves `ongoing_trials`, and autonas's
  oracles learn from the trial after that save, so a kill in between loses what was learned
  while the trial counts as ended;
- a retried trial keeps the file (status INVALID) and the metrics of its failed run, so a
  kill during the retry looks like a second failure, and a run that reported NaN once makes
  every retry's score NaN too;
- files are rewritten in place, so a kill during a write leaves truncated JSON.

`RecoverableOracle` fixes all five: every file is replaced atomically; `end_trial` saves
`oracle.json` once, after the trial is learned from and no longer ongoing; a retry starts with
no metrics and its file says RUNNING before `oracle.json` does; and `reload` reconciles the
files with the oracle's state (orphans are dropped, so their proposal is made again from the
restored RNG; trials whose file says they reported or ended are ended from it, not run again).
A trial killed while it runs is run again from the start, as in keras-tuner.
"""
import contextlib
import json
import os
import uuid

import keras_tuner

from autonas import kt_internals

_COMPLETED = "COMPLETED"
_RUNNING = "RUNNING"


def write_json_atomically(path, obj):
    """Write `obj` as JSON to `path` so that a reader sees the old file or the new, never half.

    Local paths are written to a temporary file beside `path` that then replaces it
    (`os.replace` is atomic on POSIX and Windows); other file systems (`gs://...`) fall back
    to keras-tuner's plain write.

    Raises:
        OSError: the file could not be written (a full disk, a read-only directory), with the
            system's error number; the message names `path` and says the old file is unchanged.
    """
    if "://" in path:
        kt_internals.save_json(path, obj)
        return
    text = json.dumps(obj)
    temporary = f"{path}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"  # unique, and created with the umask's mode
    try:
        with open(temporary, "x", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        if isinstance(error, OSError) and error.errno is not None:
            raise OSError(error.errno, f"Could not write {path} ({error.strerror}); the file there, if any, is "
                                       "unchanged, so a search stopped by this resumes once the cause is fixed "
                                       "(e.g. space freed).") from error
        raise


def objective_reported(oracle, trial):
    """Whether `trial` holds a value for every objective, i.e. its run finished and reported.

    keras-tuner 1.4.8 reports a trial's metrics once, after `run_trial` returns (intermediate
    epoch results are not sent to the oracle), so a reported objective means a finished run.
    """
    return oracle.objective.has_value(trial.metrics.metrics)


class RecoverableOracle(kt_internals.TrialFileHook):
    """A keras-tuner Oracle (mixin) that resumes exactly after a kill at any moment.

    Put it first among the bases: `class MyOracle(RecoverableOracle, keras_tuner.Oracle)`.
    Subclasses that change their state in `end_trial` wrap their work in `self.single_save()`
    so that it reaches disk in the same write as keras-tuner's bookkeeping.
    """

    _save_depth = 0  # > 0 while writes of oracle.json are held back (see `single_save`)
    _interrupted = ()  # ids of the trials running when the project was last saved

    @contextlib.contextmanager
    def single_save(self):
        """Hold back `save()` inside the block and save once when it ends without error.

        Nested blocks save once, when the outermost ends.
        """
        self._save_depth += 1
        try:
            yield
        finally:
            self._save_depth -= 1
        if self._save_depth == 0:
            self.save()

    def save(self):
        if self._save_depth:
            return
        write_json_atomically(kt_internals.oracle_file(self), self.get_state())

    def write_trial_file(self, trial):
        # `Trial.save` rewrites the file in place: replace it atomically instead.
        write_json_atomically(os.path.join(kt_internals.trial_dir(self, trial.trial_id), "trial.json"),
                              trial.get_state())

    @keras_tuner.synchronized
    def create_trial(self, tuner_id):
        queued = kt_internals.queued_trials(self)
        with self.single_save():
            trial = super().create_trial(tuner_id)
            if trial.trial_id in queued and trial.trial_id not in kt_internals.queued_trials(self):
                # A retry: keras-tuner would keep the file of the run that ended (INVALID) and
                # average the last run's metrics into the new one's. Start it afresh, on disk
                # before `oracle.json` records it as running again.
                trial.metrics = type(trial.metrics)()
                self.write_trial_file(trial)
        return trial

    @keras_tuner.synchronized
    def end_trial(self, trial):
        # keras-tuner saves before it removes the trial from `ongoing_trials`: save once, after.
        with self.single_save():
            super().end_trial(trial)

    def set_state(self, state):
        self._interrupted = list(state["ongoing_trials"].values())
        super().set_state(state)

    def reload(self):
        """Reload the project, then reconcile its trial files with the oracle's state."""
        super().reload()
        self._recover(self._interrupted)
        self._interrupted = ()

    def _recover(self, interrupted):
        orphans = [trial_id for trial_id in self.trials if trial_id not in self.start_order]
        for trial_id in orphans:
            # Written by `create_trial` just before a kill: the restored state predates the
            # proposal, so the same trial id and values are proposed again.
            del self.trials[trial_id]
        ended = []
        for trial_id in interrupted:
            trial = self.trials[trial_id]
            if trial_id in self.end_order:
                # Ended and saved by keras-tuner, killed before it left ongoing_trials (an Oracle
                # that does not save once per end_trial).
                kt_internals.unqueue_trial(self, trial_id)
            elif trial.status != _RUNNING or objective_reported(self, trial):
                # Its file says it ended (COMPLETED, INVALID, FAILED) or reported: end it from
                # that, as `end_trial` would have, instead of running it again.
                kt_internals.unqueue_trial(self, trial_id)
                ended.append(trial)
            # else: killed while running; keras-tuner runs it again.
        if ended:
            verbose, self.verbose = self.verbose, 0  # a replayed end is not news to print
            try:
                for trial in ended:
                    if trial.status == _RUNNING:
                        trial.status = _COMPLETED
                    self.end_trial(trial)
            finally:
                self.verbose = verbose
