"""Published cells expressed in autonas's operation set, usable as warm starts or baselines.

Transcribed from the DARTS code release's genotype file (which records NASNet-A, AmoebaNet-A
and DARTS-V2) and the ENAS micro-search cell as commonly reproduced. Input 0 is the older cell
input (cell k-2), input 1 the newer (cell k-1), as in DARTS. Renamed operations:
`skip_connect` -> `identity`, `conv_7x1_1x7` -> `conv_1x7_7x1`.
"""
from autonas.space.genotype import Block, Cell, Genotype

_RENAMES = {"skip_connect": "identity", "conv_7x1_1x7": "conv_1x7_7x1"}


def _cell(pairs, concat):
    pairs = [(_RENAMES.get(op, op), state) for op, state in pairs]
    blocks = [Block(pairs[i][1], pairs[i][0], pairs[i + 1][1], pairs[i + 1][0]) for i in range(0, len(pairs), 2)]
    return Cell(blocks=tuple(blocks), concat=tuple(concat))


NASNET_A = Genotype(
    normal=_cell([("sep_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 0), ("sep_conv_3x3", 0),
                  ("avg_pool_3x3", 1), ("skip_connect", 0), ("avg_pool_3x3", 0), ("avg_pool_3x3", 0),
                  ("sep_conv_3x3", 1), ("skip_connect", 1)], [2, 3, 4, 5, 6]),
    reduce=_cell([("sep_conv_5x5", 1), ("sep_conv_7x7", 0), ("max_pool_3x3", 1), ("sep_conv_7x7", 0),
                  ("avg_pool_3x3", 1), ("sep_conv_5x5", 0), ("skip_connect", 3), ("avg_pool_3x3", 2),
                  ("sep_conv_3x3", 2), ("max_pool_3x3", 1)], [4, 5, 6]),
)

AMOEBANET_A = Genotype(
    normal=_cell([("avg_pool_3x3", 0), ("max_pool_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 2),
                  ("sep_conv_3x3", 0), ("avg_pool_3x3", 3), ("sep_conv_3x3", 1), ("skip_connect", 1),
                  ("skip_connect", 0), ("avg_pool_3x3", 1)], [4, 5, 6]),
    reduce=_cell([("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("max_pool_3x3", 0), ("sep_conv_7x7", 2),
                  ("sep_conv_7x7", 0), ("avg_pool_3x3", 1), ("max_pool_3x3", 0), ("max_pool_3x3", 1),
                  ("conv_7x1_1x7", 0), ("sep_conv_3x3", 5)], [3, 4, 6]),
)

ENAS = Genotype(
    normal=_cell([("sep_conv_3x3", 1), ("skip_connect", 1), ("sep_conv_5x5", 1), ("skip_connect", 0),
                  ("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("avg_pool_3x3", 1),
                  ("sep_conv_5x5", 1), ("avg_pool_3x3", 0)], [2, 3, 4, 5, 6]),
    reduce=_cell([("sep_conv_5x5", 0), ("avg_pool_3x3", 1), ("sep_conv_3x3", 1), ("avg_pool_3x3", 1),
                  ("sep_conv_3x3", 1), ("avg_pool_3x3", 1), ("sep_conv_5x5", 4), ("avg_pool_3x3", 1),
                  ("sep_conv_3x3", 5), ("sep_conv_5x5", 0)], [2, 3, 6]),
)

DARTS_V2 = Genotype(
    normal=_cell([("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
                  ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],
                 [2, 3, 4, 5]),
    reduce=_cell([("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
                  ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)],
                 [2, 3, 4, 5]),
)

PUBLISHED_CELLS = {"nasnet_a": NASNET_A, "amoebanet_a": AMOEBANET_A, "enas": ENAS, "darts_v2": DARTS_V2}
