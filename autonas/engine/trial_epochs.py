"""How many epochs each search trial trains (`TrialEpochs`): as asked, or sized to the budget.

A search is worth what its number of trials is worth: at a fixed ten epochs a trial of the
default proxy took 35-100 s on 28x28 and 32x32 images on 2 cores, so a five-minute search ran one
or two trials, and evolution never evolved. So when `epochs` is None and the search has a time
limit, the first trial is also the probe: it is planned for `DEFAULT_TRIAL_EPOCHS` under a
deadline of `1 / TARGET_TRIALS` of the search's time, its cosine schedule shrinks after its second
epoch (the first includes tracing) to the epochs that fit that deadline at its measured pace
(`autonas.engine.budget.CosinePlan`), and every later trial trains as many epochs as it did, so
the trials' scores compare. Tracing is a fixed cost a trial pays however few epochs it trains,
so a trial never trains fewer than two epochs, and the probe none fewer than its steady epochs
take to cover its first epoch's tracing (`PROBE_COVERS_SETUP`, `CosinePlan`'s `cover_setup`: on
8x8 digits, 6 s of tracing against 0.4 s an epoch, a cut from 10 epochs to 2 saves 3 s of a
10 s trial); on small inputs that means fewer than `TARGET_TRIALS` trials. Without a time
limit trials train `DEFAULT_TRIAL_EPOCHS`.

In a chief/worker search (`autonas.cluster`, a classifier's `parallel_trials`) several trials
run at once: with `concurrent` of them, each worker needs only `TARGET_TRIALS / concurrent` of
the trials, so its probe plans under `concurrent / TARGET_TRIALS` of the search's time. Several
may probe. The rule: a worker probes only while no trial has completed
anywhere; the epochs of the first trial to complete (as the chief saw them end) are the
search's, recorded by the chief in `AGREED_EPOCHS_FILE` in the project directory before it
answers that trial's report, and every worker reads that file before each trial
(`read_agreed_epochs`, `TrialEpochs.agree`): a worker's own probe that completed later does not
count. So every trial that starts after the first completed one trains the same epochs.

Example:
    >>> from autonas.engine.budget import Deadline
    >>> epochs = TrialEpochs(None, Deadline(600))
    >>> epochs.next_trial()[0]       # the probe, planned for the most
    10
    >>> epochs.trial_done(3)
    >>> epochs.next_trial()[0]
    3
"""
from __future__ import annotations

import json
import os

from autonas.oracles.recovery import write_json_atomically

# Epochs of a trial without a time limit, and the most a sized trial trains.
DEFAULT_TRIAL_EPOCHS = 10
# Trials a sized search aims to fit in its share of the time limit: enough for evolution's
# tournaments to start (docs/how-a-fit-works.md).
TARGET_TRIALS = 12
# Whether the probe keeps the epochs that cover its tracing (later trials meet the search's
# deadline as it comes).
PROBE_COVERS_SETUP = True
# In a chief/worker search's project directory: the epochs every trial after the probe trains.
AGREED_EPOCHS_FILE = "trial_epochs.json"


class TrialEpochs:
    """The epochs of each trial of one search, and the deadline its schedule plans under.

    Args:
        epochs: the user's epochs per trial, or None to size them.
        deadline: the search's `Deadline`.
        concurrent: how many trials the search runs at once.
    """

    def __init__(self, epochs, deadline, concurrent=1):
        self.requested = None if epochs is None else int(epochs)
        self.deadline = deadline
        self.concurrent = max(1, int(concurrent))
        self.sized = None  # set by the probe trial

    @property
    def sizing(self):
        """Whether trials' epochs are sized to the budget and not yet known."""
        return self.requested is None and self.deadline.seconds is not None and self.sized is None

    @property
    def epochs(self):
        """The epochs every trial trains, when known (None while the probe has not ended)."""
        if self.requested is not None:
            return self.requested
        if self.deadline.seconds is None:
            return DEFAULT_TRIAL_EPOCHS
        return self.sized

    @property
    def probe_covers_setup(self):
        """Whether the next trial is the probe and keeps the epochs that cover its tracing."""
        return self.sizing and PROBE_COVERS_SETUP

    def next_trial(self):
        """`(epochs, deadline)` for the next trial: its planned epochs, and the deadline its
        schedule shrinks to meet (the probe's own share, else the search's)."""
        if not self.sizing:
            return self.epochs, self.deadline
        probe_deadline = self.deadline.sub(min(1.0, self.concurrent / TARGET_TRIALS))
        return DEFAULT_TRIAL_EPOCHS, probe_deadline

    def trial_done(self, epochs_trained):
        """Record a completed trial: the probe's epochs become every later trial's."""
        if self.sizing:
            self.sized = max(1, int(epochs_trained))

    def agree(self, epochs):
        """Take the search's agreed epochs (see the module's docstring) over this process's own
        probe; nothing changes when the epochs are not sized."""
        if self.requested is None and self.deadline.seconds is not None and epochs is not None:
            self.sized = int(epochs)

    def get_state(self):
        return {"sized": self.sized}

    def set_state(self, state):
        self.sized = state.get("sized")


def fixed_trial_epochs(epochs):
    """Epochs per trial where nothing is sized (one-shot searches, the retraining's floor)."""
    return DEFAULT_TRIAL_EPOCHS if epochs is None else int(epochs)


def record_agreed_epochs(project_dir, epochs):
    """On the chief: record the epochs every later trial trains (the first completed trial's)."""
    write_json_atomically(os.path.join(str(project_dir), AGREED_EPOCHS_FILE), {"epochs": int(epochs)})


def read_agreed_epochs(project_dir):
    """On a worker: the epochs the chief recorded, or None while no trial has completed."""
    try:
        with open(os.path.join(str(project_dir), AGREED_EPOCHS_FILE), encoding="utf-8") as handle:
            return int(json.load(handle)["epochs"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
