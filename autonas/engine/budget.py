"""Wall-clock budgets for a search and the final training."""
from __future__ import annotations

import math
import re
import time

import keras

_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_duration(value):
    """Seconds from a number of seconds or a string like "90s", "10m", "1.5h", "1h30m".

    None means no limit and is returned as is.

    Raises:
        ValueError: for a negative, zero or unreadable duration.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"time_limit must be seconds or a string like '10m', got {value!r}.")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = re.sub(r"\s+", "", value.lower())
        if re.fullmatch(r"\d+(\.\d+)?", text):
            text += "s"
        if not re.fullmatch(r"(\d+(\.\d+)?[smh])+", text):
            raise ValueError(f"Cannot read time_limit {value!r}; use seconds or a string like '90s', '10m', '1h30m'.")
        seconds = sum(float(number) * _UNITS[unit] for number, unit in re.findall(r"(\d+(?:\.\d+)?)([smh])", text))
    else:
        raise ValueError(f"time_limit must be seconds or a string like '10m', got {type(value).__name__}.")
    if not seconds > 0:
        raise ValueError(f"time_limit must be positive, got {value!r}.")
    return seconds


class Deadline:
    """A point in (monotonic) time; `None` seconds means it never arrives."""

    def __init__(self, seconds, *, clock=time.monotonic):
        self._clock = clock
        self.start = clock()
        self.seconds = seconds

    @property
    def elapsed(self):
        return self._clock() - self.start

    @property
    def remaining(self):
        """Seconds left (may be negative), or None without a limit."""
        return None if self.seconds is None else self.seconds - self.elapsed

    def fits(self, seconds):
        """Whether a job expected to take `seconds` ends before the deadline."""
        return self.seconds is None or self.remaining >= seconds

    def sub(self, share):
        """A deadline starting now that ends after `share` of the time that remains."""
        return Deadline(None if self.seconds is None else max(self.remaining, 0.0) * share, clock=self._clock)


class SearchDeadline(Deadline):
    """The part of a fit's time limit its search may use: `share` of what remains when the
    search starts, the rest kept to retrain the winner.

    `keep(seconds)` keeps less than that rest when the best architecture so far is known to
    retrain in seconds (a text network of n-grams alone), so the search goes on into the time a
    retraining would not use instead of ending the fit early; `keep(None)` keeps the whole rest
    again (a later best needs it), which may end the search at once.

    Example:
        >>> search = SearchDeadline(Deadline(100.0, clock=lambda: 0.0), 0.7)
        >>> search.seconds, search.keep(5.0), search.seconds
        (70.0, None, 95.0)
    """

    def __init__(self, deadline, share):
        super().__init__(None, clock=deadline._clock)
        remaining = deadline.remaining
        self._whole = None if remaining is None else max(remaining, 0.0)
        self._rest = None if remaining is None else self._whole * (1.0 - share)
        self.keep(None)

    def keep(self, seconds):
        """Keep `seconds` (at most the share's rest; None: all of it) for after the search."""
        if self._whole is None:
            return
        kept = self._rest if seconds is None else min(max(float(seconds), 0.0), self._rest)
        self.seconds = self._whole - kept


class CosinePlan:
    """Cosine learning-rate decay over the epochs that fit: re-planned after each epoch under a deadline.

    The learning rate of epoch e is `peak * (1 + cos(pi * e / planned)) / 2`. Without a deadline
    `planned` is `epochs`. With one, after each epoch from the second on (the first includes
    tracing, so its pace misleads) the plan shrinks to the
    epochs that still fit at the last epoch's pace, never below `min_epochs`, so training ends on
    time with a decayed learning rate instead of being cut off at a high one. Epochs are counted
    as Keras counts them: a training resumed at `initial_epoch` e0 runs epochs e0, e0 + 1, ... of
    the same plan, and its first epoch (the first `end_epoch`) is the one with tracing.

    Args:
        peak_learning_rate: learning rate of the first epoch.
        epochs: the most epochs to train.
        deadline: optional `Deadline`.
        min_epochs: the plan never drops below this, even if that overruns the deadline: an
            undertrained model is worse than a late one.
        reserve_seconds: time to leave before the deadline for work after the last epoch.
        most_epochs: when above `epochs`, the plan also grows, up to this, while the pace
            allows: `epochs` is then an estimate made before any epoch ran, and one that
            proves pessimistic would leave the rest of the budget unused.
        cover_setup: the plan does not shrink below the epochs (at most `epochs`) whose steady
            time covers the set-up the first epoch paid (its time beyond a steady epoch: tracing).
            Where set-up dominates, cutting epochs saves little time and leaves a score that
            says little: on 8x8 digits a search trial spent about 6 s tracing and 0.4 s an epoch,
            and a probe shrunk to its 2-epoch floor scored the plain cell 0.71.
    """

    def __init__(self, peak_learning_rate, epochs, deadline=None, min_epochs=1, reserve_seconds=0.0,
                 most_epochs=None, cover_setup=False):
        self.peak_learning_rate = float(peak_learning_rate)
        self.epochs = int(epochs)
        self.deadline = deadline or Deadline(None)
        self.min_epochs = min(int(min_epochs), self.epochs)
        self.reserve_seconds = float(reserve_seconds)
        self.most_epochs = None if most_epochs is None or most_epochs <= self.epochs else int(most_epochs)
        self.cover_setup = bool(cover_setup)
        self.planned = self.epochs
        self._first_epoch = None
        self._first_seconds = 0.0

    def learning_rate(self, epoch):
        """The learning rate of epoch `epoch` (counted from 0; fractional within an epoch) under the current plan."""
        progress = min(epoch / self.planned, 1.0)
        return 0.5 * self.peak_learning_rate * (1.0 + math.cos(math.pi * progress))

    def end_epoch(self, epoch, seconds):
        """Re-plan after epoch `epoch` took `seconds`; returns whether another epoch follows."""
        done = epoch + 1
        if self._first_epoch is None:
            self._first_epoch, self._first_seconds = epoch, seconds
        if self.deadline.remaining is not None:
            left = max(self.deadline.remaining - self.reserve_seconds, 0.0)
            if epoch > self._first_epoch:
                affordable = done + int(left // max(seconds, 1e-9))
                ceiling = self.planned if self.most_epochs is None else self.most_epochs
                self.planned = max(done, self.min_epochs, self._setup_floor(seconds), min(ceiling, affordable))
        return done < self.planned

    def _setup_floor(self, epoch_seconds):
        """The fewest epochs `cover_setup` allows at a steady pace of `epoch_seconds` (0 when off)."""
        if not self.cover_setup:
            return 0
        setup = max(self._first_seconds - epoch_seconds, 0.0)
        return min(self.epochs, math.ceil(setup / max(epoch_seconds, 1e-9)))


class CosineEpochs(keras.callbacks.Callback):
    """A `CosinePlan` as a Keras callback: sets each epoch's learning rate and stops training
    when the plan is done.

    Args:
        peak_learning_rate, epochs, deadline, min_epochs, most_epochs, cover_setup: as for
            `CosinePlan` (train with `fit(epochs=most_epochs)` for the plan to grow).
        anneal_per_batch: follow the cosine batch by batch, so the last planned epoch ends near
            zero. Per epoch, a plan that shrank under the deadline ends at a quarter to half of
            the peak rate: a Fashion-MNIST retraining whose plan shrank from 3 epochs to 2
            scored 0.364 at test time.
        stop_within_epoch: once the deadline has passed, stop at the end of the current batch
            rather than of the epoch (never within the first `min_epochs`). A machine that
            slows down mid-epoch then costs one batch past the deadline instead of up to an
            epoch: the retraining's contract is `time_limit`.

    Both act in the batch hooks: a loop that calls the epoch hooks alone
    (`autonas.distribute.multi_worker_strategy`) sets the rate per epoch and stops at epoch ends.

    The plan spans `epochs` whatever the fit is asked for (a fit of more epochs stops when the
    plan is done). A Hyperband rung ends at another epoch than the search's `epochs`: the trial
    runner trains it under `spanning(rung_epochs)`, a plan over the rung's last epoch, counted
    from 0, so a promoted trial resumed at `initial_epoch` continues down that cosine (a warm
    restart after its parent's shorter, annealed plan); see `autonas.engine.tuner.trial_rung`.
    """

    def __init__(self, peak_learning_rate, epochs, deadline=None, min_epochs=1, anneal_per_batch=False,
                 stop_within_epoch=False, most_epochs=None, cover_setup=False):
        super().__init__()
        self._args = (peak_learning_rate, epochs, deadline, min_epochs, 0.0, most_epochs, cover_setup)
        self.plan = CosinePlan(*self._args)
        self.anneal_per_batch = bool(anneal_per_batch)
        self.stop_within_epoch = bool(stop_within_epoch)
        self._epoch_start = None
        self._epoch = 0

    @property
    def planned(self):
        return self.plan.planned

    def spanning(self, epochs, deadline=None, cover_setup=None):
        """This schedule planned over `epochs` instead, under `deadline` and with `cover_setup`
        when given (itself if nothing changes): same peak and other options.

        Example:
            >>> CosineEpochs(0.1, 3).spanning(9).planned
            9
        """
        peak_learning_rate, planned, own_deadline, min_epochs, _, most_epochs, own_cover_setup = self._args
        cover_setup = own_cover_setup if cover_setup is None else bool(cover_setup)
        if int(epochs) == int(planned) and deadline is None and cover_setup == own_cover_setup:
            return self
        return CosineEpochs(peak_learning_rate, epochs, deadline or own_deadline, min_epochs,
                            anneal_per_batch=self.anneal_per_batch, stop_within_epoch=self.stop_within_epoch,
                            most_epochs=most_epochs, cover_setup=cover_setup)

    def on_train_begin(self, logs=None):
        self.plan = CosinePlan(*self._args)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = self.plan.deadline.elapsed  # the deadline's clock times the epochs
        self._epoch = epoch
        self.model.optimizer.learning_rate = self.plan.learning_rate(epoch)

    def on_train_batch_begin(self, batch, logs=None):
        steps = (self.params or {}).get("steps")
        if self.anneal_per_batch and steps:
            self.model.optimizer.learning_rate = self.plan.learning_rate(self._epoch + batch / steps)

    def on_train_batch_end(self, batch, logs=None):
        if not self.stop_within_epoch or self._epoch < self.plan.min_epochs:
            return
        remaining = self.plan.deadline.remaining
        if remaining is not None and remaining <= 0:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if not self.plan.end_epoch(epoch, self.plan.deadline.elapsed - self._epoch_start):
            self.model.stop_training = True
