"""Where `plot_cell` puts a cell's nodes, edges and operation names (geometry only, no matplotlib).

The two cell inputs sit in the first column, each block one column right of the deepest state
it reads (blocks that could run side by side share a column), the output (the concat of
`cell.concat`) in the last. Each edge is a quadratic curve, matplotlib's `arc3`, bent as little
as keeps it clear of the other nodes; two edges joining the same states bend opposite ways. An
operation's name goes on its edge at the first spot along it that overlaps no node and no name
placed before it (edges fanning out of one input spread apart towards their targets).

Lengths are in data units; `plot_cell` draws `INCHES_PER_UNIT` inches per unit with square
units, which is what the text sizes here assume.
"""
from __future__ import annotations

import dataclasses

from autonas.space.genotype import NUM_CELL_INPUTS

OUTPUT = "output"
COLUMN_GAP, ROW_GAP = 3.5, 1.5
NODE_SIZE = (1.1, 0.6)
INCHES_PER_UNIT = 0.75
BENDS = (0.0, 0.15, -0.15, 0.3, -0.3, 0.45, -0.45, 0.6, -0.6)  # tried in order: the least bend that keeps clear
TWIN_BEND = 0.3
CLEARANCE = 0.3  # how far a curve keeps from the boxes it does not join
# Spots tried along an edge, in order; none near the end, where the name would hide the arrowhead.
LABEL_STEPS = (0.65, 0.5, 0.72, 0.38, 0.58, 0.44, 0.3, 0.69, 0.62, 0.54, 0.47, 0.41, 0.34)
# An 8-point name at INCHES_PER_UNIT: about 0.09 units per character, 0.22 units high with padding.
CHARACTER_WIDTH, LABEL_HEIGHT = 0.09, 0.22
LABEL_MARGIN = 0.05  # room kept round a name: the drawn scale comes out a little under INCHES_PER_UNIT


@dataclasses.dataclass(frozen=True)
class CellLayout:
    """A cell laid out for drawing.

    Attributes:
        positions: {state or OUTPUT: (x, y)} of each node's centre.
        edges: (source, target, operation or None for the concat, bend) per edge.
        labels: {edge index: (x, y)} where each operation's name goes.
    """

    positions: dict
    edges: list
    labels: dict

    @property
    def extent(self):
        """(x_min, x_max, y_min, y_max) holding every node, curve and name."""
        boxes = [(xy, NODE_SIZE) for xy in self.positions.values()]
        boxes += [(xy, label_size(self.edges[index][2])) for index, xy in self.labels.items()]
        boxes += [(point, (0, 0)) for source, target, _, bend in self.edges
                  for point in curve_points(self.positions[source], self.positions[target], bend)]
        margin = 0.2
        lefts, rights = [x - w / 2 for (x, _), (w, _) in boxes], [x + w / 2 for (x, _), (w, _) in boxes]
        bottoms, tops = [y - h / 2 for (_, y), (_, h) in boxes], [y + h / 2 for (_, y), (_, h) in boxes]
        return min(lefts) - margin, max(rights) + margin, min(bottoms) - margin, max(tops) + margin


def layout_cell(cell):
    """The `CellLayout` of `cell`."""
    positions = node_positions(cell)
    edges = cell_edges(cell)
    routed = [(*edge, edge_bend(index, edges, positions)) for index, edge in enumerate(edges)]
    return CellLayout(positions=positions, edges=routed, labels=place_labels(positions, routed))


def node_positions(cell):
    """{state or OUTPUT: (x, y)}: a column per depth, each column spread over the tallest one's
    height and centred on y = 0, blocks ordered by the height of the states they read (fewer
    crossings)."""
    depth = [0] * NUM_CELL_INPUTS
    for block in cell.blocks:
        depth.append(1 + max(depth[state] for state, _ in block.pairs()))
    columns = {}
    for state, column in enumerate(depth):
        columns.setdefault(column, []).append(state)
    height = (max(len(states) for states in columns.values()) - 1) * ROW_GAP
    positions = {}
    for column in sorted(columns):
        states = sorted(columns[column], key=lambda state: -mean_input_height(cell, state, positions))
        spacing = max(ROW_GAP, height / len(states))
        for row, state in enumerate(states):
            positions[state] = (column * COLUMN_GAP, ((len(states) - 1) / 2 - row) * spacing)
    positions[OUTPUT] = ((max(depth) + 1) * COLUMN_GAP, 0.0)
    return positions


def mean_input_height(cell, state, positions):
    """The mean y of the states block `state` reads (0 for a cell input, which reads none)."""
    if state < NUM_CELL_INPUTS:
        return 0.0
    inputs = [positions[source][1] for source, _ in cell.blocks[state - NUM_CELL_INPUTS].pairs()]
    return sum(inputs) / len(inputs)


def cell_edges(cell):
    """(source, target, operation or None) for every edge: block inputs, then the concat."""
    edges = [(state, NUM_CELL_INPUTS + index, op) for index, block in enumerate(cell.blocks)
             for state, op in block.pairs()]
    return edges + [(state, OUTPUT, None) for state in cell.concat]


def edge_bend(index, edges, positions):
    """The curvature of edge `index`: the least in `BENDS` that keeps clear of the other nodes.

    Two edges between the same nodes (a block reading one state twice) take opposite bends.
    """
    source, target, _ = edges[index]
    twins = [other for other, edge in enumerate(edges) if edge[:2] == (source, target)]
    if len(twins) > 1:
        return TWIN_BEND if twins.index(index) % 2 == 0 else -TWIN_BEND
    others = [(xy, NODE_SIZE) for state, xy in positions.items() if state not in (source, target)]
    clearances = [min((gap((point, (0, 0)), box) for point in curve_points(positions[source], positions[target], bend)
                       for box in others), default=float("inf")) for bend in BENDS]
    enough = [bend for bend, room in zip(BENDS, clearances) if room >= CLEARANCE]
    return enough[0] if enough else BENDS[clearances.index(max(clearances))]


def place_labels(positions, edges):
    """{edge index: (x, y)}: each operation's name at the first of `LABEL_STEPS` along its edge
    that overlaps no node and no name placed before; where every one does, the least covered."""
    taken = [(xy, NODE_SIZE) for xy in positions.values()]
    labels = {}
    for index, (source, target, op, bend) in enumerate(edges):
        if op is None:
            continue
        spots = curve_points(positions[source], positions[target], bend, steps=LABEL_STEPS)
        room = [min(gap((spot, label_size(op)), box) for box in taken) for spot in spots]
        free = [spot for spot, space in zip(spots, room) if space > LABEL_MARGIN]
        labels[index] = free[0] if free else spots[room.index(max(room))]
        taken.append((labels[index], label_size(op)))
    return labels


def label_size(op):
    """(width, height) an operation's name takes, in data units."""
    return len(op) * CHARACTER_WIDTH + 0.1, LABEL_HEIGHT


def gap(box, other):
    """How far apart two boxes ((x, y) centre, (width, height)) are; negative when they overlap."""
    ((x, y), (w, h)), ((ox, oy), (ow, oh)) = box, other
    return max(abs(x - ox) - (w + ow) / 2, abs(y - oy) - (h + oh) / 2)


def curve_points(start, end, bend, steps=(0.2, 0.35, 0.5, 0.65, 0.8)):
    """Points along matplotlib's `arc3` curve from `start` to `end`, at fractions `steps`: the
    quadratic Bezier whose control point sits `bend` chord lengths off the chord's middle."""
    (x1, y1), (x2, y2) = start, end
    cx, cy = (x1 + x2) / 2 + bend * (y2 - y1), (y1 + y2) / 2 - bend * (x2 - x1)
    return [((1 - t) ** 2 * x1 + 2 * t * (1 - t) * cx + t ** 2 * x2,
             (1 - t) ** 2 * y1 + 2 * t * (1 - t) * cy + t ** 2 * y2) for t in steps]
