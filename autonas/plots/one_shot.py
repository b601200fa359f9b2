"""`plot_one_shot`: the per-epoch statistics an ENAS or DARTS search records, one panel each.

ENAS records the training loss, the controller's mean reward (sampled children's accuracy on a
validation batch) and entropy, and the parameter-free share of its most likely normal cell;
DARTS the training and validation loss, the supernet's validation accuracy and the
parameter-free share of its derived cell (capped and uncapped) and architecture weights. Only
the series present are drawn; a numeric series not listed here gets a panel of its own.
"""
from __future__ import annotations

import pandas as pd
from sklearn.utils.validation import check_is_fitted

from autonas.plots.figure import new_panels

# (title, columns, y limits or None): shares are drawn on 0..1, where a flat line reads as flat.
PANELS = (
    ("loss", ("train_loss", "valid_loss"), None),
    ("supernet validation accuracy", ("valid_accuracy",), None),
    ("controller mean reward", ("mean_reward",), None),
    ("controller entropy", ("controller_entropy",), None),
    ("parameter-free share", ("parameter_free_share", "parameter_free_share_uncapped", "parameter_free_weight"),
     (0, 1)),
)
NOT_SERIES = ("epoch", "seconds", "steps", "stopped")


def plot_one_shot(search, axes=None):
    """Plot a one-shot search's per-epoch statistics against the supernet epoch.

    Args:
        search: a classifier fitted with `oracle="enas"` or `"darts"` (its `search_history_`),
            a `OneShotResult`, or the history itself (a DataFrame or a list of per-epoch dicts).
        axes: None for a new figure, or one Axes per panel drawn (as many as the series groups
            present; see `PANELS`).

    Returns:
        The `matplotlib.figure.Figure`.

    Raises:
        ValueError: a search that trained trials (see `plot_search`), or no epoch recorded.

    Example:
        >>> autonas.plot_one_shot(clf).savefig("supernet.png")      # doctest: +SKIP
    """
    history = epoch_history(search)
    if history.empty:
        raise ValueError("The one-shot search recorded no epoch: there is nothing to plot.")
    panels = recorded_panels(history)
    # Up to three panels in a row; four as two rows of two.
    per_row = 2 if len(panels) == 4 else min(len(panels), 3)
    figure, panel_axes = new_panels(len(panels), panel_size=(3.6, 3.0), columns=per_row, axes=axes)
    epochs = history["epoch"] if "epoch" in history else pd.Series(range(1, len(history) + 1))
    for ax, (title, columns, limits) in zip(panel_axes, panels):
        for column in columns:
            ax.plot(epochs, history[column], marker="o", markersize=3, label=column.replace("_", " "))
        ax.set_title(title)
        if limits is not None:
            ax.set_ylim(*limits)
        ax.set_xlabel("supernet epoch")
        ax.grid(alpha=0.3)
        if len(columns) > 1:
            ax.legend(fontsize="small")
    method = getattr(search, "method", None) or getattr(search, "oracle", None)
    if isinstance(method, str):
        figure.suptitle(f"{method.upper()} search, {len(history)} supernet epochs")
    return figure


def epoch_history(search):
    """The per-epoch records of `search` as a DataFrame."""
    if isinstance(search, pd.DataFrame):
        return search
    if isinstance(search, list):
        return pd.DataFrame(search)
    if hasattr(search, "fit"):
        check_is_fitted(search, "leaderboard_")
        if search.search_history_ is None:
            raise ValueError("This classifier's search trained trials, not a supernet: plot_search draws it.")
        return search.search_history_
    return pd.DataFrame(search.history)


def recorded_panels(history):
    """[(title, columns, y limits)] for the series `history` holds: known groups first, then the
    rest alone."""
    numeric = [column for column in history.columns if column not in NOT_SERIES
               and pd.api.types.is_numeric_dtype(history[column]) and not pd.api.types.is_bool_dtype(history[column])]
    panels = [(title, tuple(column for column in columns if column in numeric), limits)
              for title, columns, limits in PANELS]
    panels = [panel for panel in panels if panel[1]]
    grouped = {column for _, columns, _ in PANELS for column in columns}
    return panels + [(column.replace("_", " "), (column,), None) for column in numeric if column not in grouped]
