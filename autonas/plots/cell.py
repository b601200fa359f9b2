"""`plot_cell`: a genotype's cells as directed graphs, drawn with matplotlib alone.

`cell_layout.py` decides where nodes, curves and operation names go; this module draws them.
"""
from __future__ import annotations

from autonas.plots.cell_layout import INCHES_PER_UNIT, NODE_SIZE, OUTPUT, layout_cell
from autonas.plots.figure import new_panels
from autonas.space.genotype import NUM_CELL_INPUTS

INPUT_LABELS = (r"$c_{k-2}$", r"$c_{k-1}$")
OUTPUT_LABEL = r"$c_{k}$"
NODE_COLORS = {"input": "#cfe2f3", "block": "#fff2cc", OUTPUT: "#d9ead3"}
CONCAT_COLOR = "0.45"
CELL_TITLES = {"normal": "normal cell", "reduce": "reduction cell"}


def plot_cell(genotype, axes=None):
    """Draw the normal and reduction cells of `genotype` as directed graphs.

    Nodes: the cell inputs c_{k-2} and c_{k-1}, one node per block (numbered from 0; a block
    adds its two operations' results), and the output c_{k}, the concatenation of the states in
    `cell.concat` (dashed edges). Each solid edge is labelled with its operation; colours tell
    operations apart and are the same in both cells. A searched end (`genotype.head`) is named
    in the last panel's title; a network whose n-grams stand alone has no cells to draw, and
    its one panel says so.

    Args:
        genotype: a `Genotype` (one panel when it has no reduction cell).
        axes: None for a new figure, or one Axes per cell to draw into.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:
        >>> autonas.plot_cell(autonas.DARTS_V2).savefig("cells.svg")   # doctest: +SKIP
    """
    if not genotype.ending.reads_cells:
        return _plot_without_cells(genotype, axes)
    layouts = {name: layout_cell(cell) for name, cell in genotype.cells.items()}
    extents = [layout.extent for layout in layouts.values()]
    width = max(x_max - x_min for x_min, x_max, _, _ in extents) * INCHES_PER_UNIT
    # Each row as tall as its cell at the same scale, plus room for the title.
    heights = [(y_max - y_min) * INCHES_PER_UNIT + 0.35 for _, _, y_min, y_max in extents]
    figure, panels = new_panels(len(layouts), panel_size=(max(4.0, width), None), columns=1, row_heights=heights,
                                axes=axes)
    colors = operation_colors(genotype.operations)
    for ax, (name, layout) in zip(panels, layouts.items()):
        draw_cell(ax, layout, colors)
        ax.set_title(CELL_TITLES.get(name, name))
    if genotype.head is not None:
        panels[-1].set_title(f"{panels[-1].get_title()}, then {genotype.head}")
    return figure


def _plot_without_cells(genotype, axes):
    """One panel saying that the network has no cells (its n-grams feed the classifier alone)."""
    figure, (ax,) = new_panels(1, panel_size=(4.0, 1.0), axes=axes)
    ax.text(0.5, 0.5, f"no cells: {genotype.head}", ha="center", va="center")
    ax.set_axis_off()
    return figure


def operation_colors(operations):
    """{operation: colour}, the same for every cell of a genotype."""
    return {name: f"C{index % 10}" for index, name in enumerate(sorted(set(operations)))}


def draw_cell(ax, layout, colors):
    """Nodes as boxes, edges as arrows clipped to the boxes, operation names on the edges."""
    from matplotlib.patches import FancyArrowPatch

    positions = layout.positions
    boxes = {state: draw_node(ax, state, xy) for state, xy in positions.items()}
    for index, (source, target, op, bend) in enumerate(layout.edges):
        color = CONCAT_COLOR if op is None else colors[op]
        ax.add_patch(FancyArrowPatch(positions[source], positions[target], patchA=boxes[source],
                                     patchB=boxes[target], arrowstyle="-|>", mutation_scale=12, color=color,
                                     linewidth=1.3, linestyle="--" if op is None else "-",
                                     connectionstyle=f"arc3,rad={bend}", zorder=1))
        if op is not None:
            ax.text(*layout.labels[index], op, ha="center", va="center", fontsize=8, color=color, zorder=3,
                    bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85))
    x_min, x_max, y_min, y_max = layout.extent
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    ax.set_aspect("equal")  # `arc3` bends in screen space: square units keep the layout's curves
    ax.axis("off")


def draw_node(ax, state, xy):
    """A rounded box with the state's name; returned so edges can be clipped to it."""
    from matplotlib.patches import FancyBboxPatch

    if state == OUTPUT:
        kind, label = OUTPUT, OUTPUT_LABEL
    elif state < NUM_CELL_INPUTS:
        kind, label = "input", INPUT_LABELS[state]
    else:
        kind, label = "block", str(state - NUM_CELL_INPUTS)
    # The rounding pads the box outwards: inset it so the outline is NODE_SIZE, as laid out.
    pad = 0.05
    width, height = NODE_SIZE[0] - 2 * pad, NODE_SIZE[1] - 2 * pad
    box = FancyBboxPatch((xy[0] - width / 2, xy[1] - height / 2), width, height, boxstyle=f"round,pad={pad}",
                         facecolor=NODE_COLORS[kind], edgecolor="0.3", zorder=2)
    ax.add_patch(box)
    ax.text(*xy, label, ha="center", va="center", fontsize=10, zorder=3)
    return box
