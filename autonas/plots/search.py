"""`plot_search`: every trial's score against trial number and against time, best so far.

Trials record how long they trained (`seconds`), not when they started, so the time axis sums
trial seconds in trial order: in a search with parallel trials it runs ahead of the wall clock.
"""
from __future__ import annotations

import pandas as pd

from autonas.plots.figure import new_panels

TIME_LABEL = "trial seconds, summed in trial order\n(start times are not recorded)"
BEST_LABEL = "best so far"
PROMOTED_LABEL = "promoted (trained on from an earlier trial)"
PROMOTION_LINK_LABEL = "_promotion"  # leading underscore: kept out of the legend


def plot_search(search, axes=None):
    """Plot each trial's score by trial number and by time, with the best score so far.

    Trials promoted by successive halving (a `from_trial` set) are drawn as triangles, joined
    by a dotted line to the trial they went on from. Trials without a score (failed, or cut
    short before their first evaluation) are counted in the title, not drawn.

    Args:
        search: a fitted `ImageSearchClassifier` / `TextSearchClassifier` (a search that
            trained trials), or a leaderboard DataFrame with columns trial, score, seconds and
            from_trial, as `leaderboard()` returns.
        axes: None for a new figure, or two Axes to draw into (by trial, by time).

    Returns:
        The `matplotlib.figure.Figure`.

    Raises:
        ValueError: a one-shot search (its leaderboard lists derived architectures, not
            trials: see `plot_one_shot`), or no trial with a score.

    Example:
        >>> autonas.plot_search(clf).savefig("search.png")        # doctest: +SKIP
    """
    trials = trials_in_order(search.leaderboard() if hasattr(search, "leaderboard") else search)
    scored = trials[trials["score"].notna()]
    if scored.empty:
        raise ValueError("No trial has a score yet: there is nothing to plot.")
    figure, (by_trial, by_time) = new_panels(2, panel_size=(5.5, 4), axes=axes)
    for ax, x, label in ((by_trial, "number", "trial"), (by_time, "elapsed", TIME_LABEL)):
        draw_trials(ax, scored, x)
        ax.set_xlabel(label)
        ax.set_ylabel("score (validation accuracy)")
        ax.grid(alpha=0.3)
    by_trial.xaxis.get_major_locator().set_params(integer=True)  # trial numbers, not 0.5 steps
    by_trial.legend(loc="best", fontsize="small")
    figure.suptitle(search_title(trials, scored))
    return figure


def trials_in_order(leaderboard):
    """The leaderboard in the order trials started, with their number and summed seconds."""
    if leaderboard["status"].astype(str).str.startswith("DERIVED").all():
        raise ValueError("This is a one-shot search: its leaderboard lists derived architectures, not trials. "
                         "plot_one_shot draws its supernet epochs.")
    trials = leaderboard.copy()
    number = pd.to_numeric(trials["trial"], errors="coerce")
    # keras-tuner numbers its trials; other ids keep their order as strings.
    trials["number"] = number if number.notna().all() else trials["trial"].astype(str).rank(method="first")
    trials = trials.sort_values("number", kind="stable").reset_index(drop=True)
    trials["elapsed"] = trials["seconds"].astype(float).fillna(0.0).cumsum()
    return trials


def draw_trials(ax, scored, x):
    """Fresh and promoted trials as points, promotions as dotted links, and the best-so-far steps."""
    promoted = scored["from_trial"].notna()
    ax.scatter(scored.loc[~promoted, x], scored.loc[~promoted, "score"], s=28, color="C0", label="trial", zorder=3)
    if promoted.any():
        ax.scatter(scored.loc[promoted, x], scored.loc[promoted, "score"], s=40, marker="^", color="C1",
                   label=PROMOTED_LABEL, zorder=3)
        draw_promotion_links(ax, scored, x)
    best = scored["score"].astype(float).cummax()
    ax.step(scored[x], best, where="post", color="C2", linewidth=1.5, label=BEST_LABEL, zorder=2)


def draw_promotion_links(ax, scored, x):
    """A dotted line from each promoted trial back to the trial it went on from."""
    position = {str(row.trial): (row[x], row.score) for _, row in scored.iterrows()}
    for _, row in scored[scored["from_trial"].notna()].iterrows():
        parent = position.get(str(row.from_trial))
        if parent is not None:
            ax.plot([parent[0], row[x]], [parent[1], row.score], linestyle=":", color="C1", linewidth=1,
                    label=PROMOTION_LINK_LABEL, zorder=1)


def search_title(trials, scored):
    """'N trials, best S (trial T)', plus how many have no score."""
    best = scored.loc[scored["score"].astype(float).idxmax()]
    title = f"{len(trials)} trials, best {best.score:.4f} (trial {best.trial})"
    missing = len(trials) - len(scored)
    return title + (f"; {missing} without a score (failed or cut short), not drawn" if missing else "")

