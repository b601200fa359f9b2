"""Progress lines: one per trial, and the search's and retraining's notices."""
import sys

from autonas.oracles.halving import PARENT
from autonas.oracles.pareto import constraint_violation, objectives_of


def speaker(verbose):
    """Where progress notices go: printed (flushed, so they show while training runs) when
    `verbose`, else dropped."""
    if not verbose:
        return lambda message: None
    return lambda message: print(message, flush=True)


def format_seconds(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _value(name, value):
    """A metric as a progress line shows it: scores to 4 decimals, counts with thousands separators."""
    if name.startswith("val_"):
        return f"{value:.4f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


class TrialProgress:
    """Prints `trial 3/10 | <architecture> | val_accuracy 0.9650 | 4 epochs | 12s | 4m10s left`
    (a promoted trial's epochs read `4 epochs on from trial 1`; with several objectives each
    one's value, e.g. `val_accuracy 0.9650, latency_ms 1.3`; a trial over a cost limit reads
    `over the limits (params 206,186)`).

    Args:
        max_trials: total trials planned, or None when only the time limit ends the search.
        describe: callable mapping a trial's hyperparameters to a short architecture summary.
        deadline: the search `Deadline` (for the time left), or None.
        stream: where to print.
    """

    def __init__(self, *, max_trials, describe, deadline=None, stream=None):
        self.max_trials = max_trials
        self.describe = describe
        self.deadline = deadline
        self.stream = stream or sys.stdout
        self.done = 0

    def __call__(self, tuner, trial):
        self.done += 1
        objectives = [o.name for o in objectives_of(tuner.oracle.objective)]
        count = f"trial {self.done}" + (f"/{self.max_trials}" if self.max_trials else "")
        parts = [count, self.describe(trial.hyperparameters)]
        metric = trial.metrics.get_last_value
        if constraint_violation(trial) > 0:
            costs = ", ".join(f"{name} {_value(name, metric(name))}" for name in ("params", "latency_ms"))
            parts.append(f"over the limits ({costs})")
        elif all(trial.metrics.exists(name) for name in objectives):
            parts.append(", ".join(f"{name} {_value(name, metric(name))}" for name in objectives))
        else:
            last_line = (trial.message or "").strip().splitlines()[-1:] or [""]
            parts.append(f"{trial.status}: {last_line[0][:80]}")
        if trial.metrics.exists("epochs"):
            parent = trial.hyperparameters.values.get(PARENT)
            parts.append(f"{int(trial.metrics.get_last_value('epochs'))} epochs"
                         + (f" on from trial {parent}" if parent is not None else ""))
        if trial.metrics.exists("seconds"):
            parts.append(format_seconds(trial.metrics.get_last_value("seconds")))
        if self.deadline is not None and self.deadline.remaining is not None:
            parts.append(f"{format_seconds(max(self.deadline.remaining, 0))} left")
        print(" | ".join(parts), file=self.stream, flush=True)
