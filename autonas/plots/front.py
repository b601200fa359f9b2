"""`plot_front`: accuracy against a serving cost for every trial, with the Pareto front drawn.

A search with `objective=["val_accuracy", <cost>]` keeps the trials no other beats on both
(`pareto_front_`); this draws them as a step line over every trained trial, the fitted model's
trial circled, and each limit (`max_params`, `max_latency_ms`) as a vertical line.
"""
from __future__ import annotations

from autonas.engine.objectives import COSTS, LIMITS, VIOLATION, SearchObjective
from autonas.plots.figure import new_panels
from autonas.plots.search import trials_in_order

COST_LABELS = {"params": "parameters", "flops": "FLOPs per sample (forward pass)",
               "latency_ms": "latency, one sample (ms)", "batch_latency_ms": "latency, one batch (ms)"}


def plot_front(search, cost=None, axes=None):
    """Plot validation accuracy against `cost` for each trained trial, and its Pareto front.

    Args:
        search: a fitted classifier whose search measured costs (an `objective` with a cost, or
            a limit).
        cost: the cost on the x axis: "params", "flops", "latency_ms" or "batch_latency_ms";
            None: the objective's first cost, else "latency_ms" when limits alone were set.
        axes: None for a new figure, or one Axes to draw into.

    Returns:
        The `matplotlib.figure.Figure`.

    Raises:
        ValueError: the search measured no costs, or `cost` is not one it measured.

    Example:
        >>> autonas.plot_front(clf, "latency_ms").savefig("front.png")   # doctest: +SKIP
    """
    board = search.leaderboard()
    # Every leaderboard has the trained model's params; a search that measured costs has them all.
    measured = [c for c in COSTS if c in board] if "flops" in board else []
    if not measured:
        raise ValueError("This search measured no costs: fit with objective=['val_accuracy', 'latency_ms'] (or "
                         "'params', 'flops'), or a limit such as max_params=, to plot a front.")
    objective = search._search_objective()
    if cost is None:
        cost = next((name for name in objective.names[1:]), "latency_ms")
    if cost not in measured:
        raise ValueError(f"cost must be one the search measured, {measured}, got {cost!r}.")
    trials = trials_in_order(board)
    trained = trials[trials["score"].notna()]
    front = SearchObjective((objective.names[0], cost), objective.limits).front(board).sort_values(cost)
    figure, (ax,) = new_panels(1, panel_size=(6, 4.5), axes=axes)
    ax.scatter(trained[cost], trained["score"], s=24, color="0.6", label="trial", zorder=2)
    ax.step(front[cost], front["score"], where="post", color="C0", linewidth=1.5, zorder=3)
    ax.scatter(front[cost], front["score"], s=40, color="C0", label="Pareto front", zorder=4)
    chosen = trained[trained["trial"] == search.selected_trial_]
    ax.scatter(chosen[cost], chosen["score"], s=160, facecolors="none", edgecolors="C3", linewidths=1.5,
               label=f"fitted model (trial {search.selected_trial_})", zorder=5)
    for parameter, name in LIMITS.items():
        if name == cost and name in objective.limits:
            ax.axvline(objective.limits[name], color="C3", linestyle="--", linewidth=1, label=parameter)
    if cost in ("params", "flops"):
        from matplotlib.ticker import EngFormatter, LogLocator, NullFormatter

        ax.set_xscale("log")
        # 20k, 50k, 100k, ...: a log axis's own labels of 2-9 x 10^k overlap.
        ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(COST_LABELS[cost])
    ax.set_ylabel("score (validation accuracy)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    over = int((trials[VIOLATION] > 0).sum()) if VIOLATION in trials else 0
    ax.set_title(f"{len(trained)} trials trained, {len(front)} on the front"
                 + (f"; {over} over the limits, not trained" if over else ""))
    return figure
