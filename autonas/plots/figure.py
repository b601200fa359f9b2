"""The one place matplotlib is imported, so `import autonas` never needs it."""
from __future__ import annotations

import math

INSTALL_HINT = "autonas's plots need matplotlib: pip install autonas[plot] (or pip install 'matplotlib>=3.6')."


def new_panels(count, *, panel_size, columns=None, axes=None, row_heights=None):
    """A figure and `count` Axes: the caller's `axes`, or new ones on a pyplot-free Figure.

    A Figure made without pyplot registers with no backend, so it cannot open a window or
    disturb a notebook's backend; `savefig` still writes PNG, SVG and PDF.

    Args:
        count: panels needed.
        panel_size: (width, height) of one panel, in inches; the height may be None when
            `row_heights` is given.
        columns: panels per row; None puts them all in one row.
        axes: None, or `count` Axes (a single Axes when `count` is 1) to draw into.
        row_heights: the height of each row of panels, in inches; None: all `panel_size`'s.

    Returns:
        (figure, list of Axes).

    Raises:
        ImportError: matplotlib is not installed (names the extra to install).
        ValueError: `axes` holds another number of Axes than `count`.
    """
    if axes is not None:
        axes = [axes] if hasattr(axes, "plot") else list(axes)
        if len(axes) != count:
            raise ValueError(f"This figure draws {count} panel(s): pass {count} Axes, got {len(axes)}.")
        return axes[0].figure, axes
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    columns = columns or count
    rows = math.ceil(count / columns)
    row_heights = row_heights or [panel_size[1]] * rows
    figure = Figure(figsize=(panel_size[0] * columns, sum(row_heights)), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False, height_ratios=row_heights).ravel()
    for unused in grid[count:]:
        unused.remove()
    return figure, list(grid[:count])
