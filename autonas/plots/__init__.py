"""Figures of a search: scores over trials, accuracy against cost, the cells found, a one-shot search's epochs.

Each function returns a `matplotlib.figure.Figure` built without pyplot (no backend is chosen
or changed); save it with `figure.savefig("search.png")` or `.svg`. matplotlib is imported only
when a figure is drawn: it is the optional extra `pip install autonas[plot]`.

`search.py` holds `plot_search`; `front.py` `plot_front` (accuracy against a serving cost); `cell.py` `plot_cell` (also `Genotype.plot`), drawing what
`cell_layout.py` places; `one_shot.py` `plot_one_shot`; `figure.py` is the one place matplotlib
is imported.
"""
from autonas.plots.cell import plot_cell
from autonas.plots.front import plot_front
from autonas.plots.one_shot import plot_one_shot
from autonas.plots.search import plot_search

__all__ = ["plot_cell", "plot_front", "plot_one_shot", "plot_search"]
