"""Asynchronous successive halving (ASHA, Li et al., 2020) over any autonas oracle's proposals.

A search's trials are scored after a few epochs each, so its pick rests on short-training
scores. With `SuccessiveHalving` the oracle also promotes: whenever a trial is asked for, a
trial in the top `1 / factor` of its rung that was not promoted yet goes on to the next rung,
where it trains until `factor` times the epochs it had, from its own weights (keras-tuner's
"tuner/epochs", "tuner/initial_epoch" and "tuner/trial_id", which the trial runner honours, as
for keras-tuner's `HyperbandOracle`); only when nothing is due does the strategy propose a new
architecture at rung 0. Higher rungs are looked at first, so the best architectures get
trained longest before the time runs out, and nothing waits for a rung to fill (the
asynchronous rule suits a time limit and concurrent trials).

A strategy learns from each architecture once, from its rung-0 score: those all trained the
same epochs, so they compare, while a promoted trial's score is higher for its extra epochs
alone and would teach evolution or the controller to prefer what was already promoted.

The rule needs nothing but the trials (their rung, score and trained epochs), so a resumed
search promotes what the uninterrupted one would have.
"""
from __future__ import annotations

import math

RUNG = "tuner/rung"
EPOCHS = "tuner/epochs"
INITIAL_EPOCH = "tuner/initial_epoch"
PARENT = "tuner/trial_id"

_COMPLETED = "COMPLETED"


def rung_of(trial):
    """A trial's rung: 0 for an architecture's first trial, k after k promotions."""
    return int(trial.hyperparameters.values.get(RUNG, 0))


def is_promotion(trial):
    """Whether `trial` goes on from another trial's weights (a promotion, or a Hyperband rung's)."""
    return trial.hyperparameters.values.get(PARENT) is not None


def trained_epochs(trial):
    """The epochs a finished trial's model trained in all: its own, plus those of the trial it
    went on from (a rung may stop early to meet the search's deadline, so "tuner/epochs" is
    only what it was planned for); None when the trial did not report its epochs."""
    if not trial.metrics.exists("epochs"):
        return None
    return int(trial.hyperparameters.values.get(INITIAL_EPOCH, 0)) + int(trial.metrics.get_last_value("epochs"))


class SuccessiveHalving:
    """When and how far an oracle promotes its trials (see the module's docstring).

    Args:
        factor: the reduction factor: the top `1 / factor` of a rung are promoted, each to train
            until `factor` times its epochs. 3 as in Hyperband and scikit-learn's halving search.
        max_rung: the most promotions of one architecture (rung 0 to `max_rung`).

    Example:
        >>> SuccessiveHalving(factor=3, max_rung=2).configuration()
        {'factor': 3, 'max_rung': 2}
    """

    def __init__(self, factor=3, max_rung=2):
        if isinstance(factor, bool) or int(factor) != factor or factor < 2:
            raise ValueError(f"successive halving's factor must be an int >= 2, got {factor!r}.")
        if isinstance(max_rung, bool) or int(max_rung) != max_rung or max_rung < 1:
            raise ValueError(f"successive halving's max_rung must be an int >= 1, got {max_rung!r}.")
        self.factor = int(factor)
        self.max_rung = int(max_rung)

    def configuration(self):
        return {"factor": self.factor, "max_rung": self.max_rung}

    def promotion(self, trials, direction="max"):
        """The values of the next promoted trial, or None when no trial is due one.

        Args:
            trials: the oracle's trials (any order).
            direction: the objective's, "max" or "min".

        Returns:
            The parent's values with the rung's "tuner/*" entries, or None.
        """
        trials = list(trials)
        promoted = {t.hyperparameters.values.get(PARENT) for t in trials if is_promotion(t)}
        sign = 1.0 if direction == "max" else -1.0
        for rung in range(self.max_rung - 1, -1, -1):
            scored = [t for t in trials if rung_of(t) == rung and t.status == _COMPLETED and t.score is not None
                      and math.isfinite(t.score) and trained_epochs(t) is not None]
            scored.sort(key=lambda t: (-sign * t.score, t.trial_id))
            for parent in scored[: len(scored) // self.factor]:
                if parent.trial_id not in promoted:
                    return self._promote(parent, rung)
        return None

    def _promote(self, parent, rung):
        epochs = trained_epochs(parent)
        values = {k: v for k, v in parent.hyperparameters.values.items() if not k.startswith("tuner/")}
        values.update({RUNG: rung + 1, EPOCHS: epochs * self.factor, INITIAL_EPOCH: epochs,
                       PARENT: parent.trial_id})
        return values


def make_halving(value):
    """A `SuccessiveHalving` from the `successive_halving=` argument: False/None (none), True (the
    default factor), an int factor, or a `SuccessiveHalving`."""
    if value is None or value is False:
        return None
    if value is True:
        return SuccessiveHalving()
    if isinstance(value, SuccessiveHalving):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return SuccessiveHalving(factor=value)
    raise ValueError(f"successive_halving must be True, False, an int factor >= 2 or a SuccessiveHalving, "
                     f"got {value!r}.")


class PromotingOracle:
    """A keras-tuner Oracle (mixin, before the Oracle among the bases) that promotes trials
    under `self.halving` (a `SuccessiveHalving`, or None for none) before proposing new ones.

    Strategies implement `propose(trial_id)`, keras-tuner's `populate_space` for a new
    architecture; by default it is the next base class's `populate_space`.
    """

    halving = None

    def populate_space(self, trial_id):
        if self.halving is not None:
            values = self.halving.promotion(self.trials.values(), self.objective.direction)
            if values is not None:
                return {"status": "RUNNING", "values": values}
        return self.propose(trial_id)

    def propose(self, trial_id):
        return super().populate_space(trial_id)
