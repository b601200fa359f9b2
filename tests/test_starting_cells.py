"""A search first tries a plain residual convolution cell and the published cells that fit."""
import keras

from autonas.engine.search import resolve_warm_start, run_search
from autonas.space import NASNET_A, CellSearchSpace, NetworkSize, build_classifier, operations_for_rank
from autonas.space.starting_cells import plain_cell, starting_cells
from test_engine import problem  # noqa: F401  (the shared digits search fixture)


def test_the_plain_cell_is_a_residual_chain_of_convolutions():
    cell = plain_cell(3, "conv_3x3")
    assert [block.pairs() for block in cell.blocks] == [((1, "conv_3x3"), (1, "identity")),
                                                        ((2, "conv_3x3"), (2, "identity")),
                                                        ((3, "conv_3x3"), (3, "identity"))]
    assert cell.concat == (4,)


def test_starting_cells_fit_their_space_and_build():
    for rank, blocks, reduction in [(2, 4, True), (2, 5, True), (1, 4, False)]:
        space = CellSearchSpace(operations_for_rank(rank), num_blocks=blocks, rank=rank, reduction_cell=reduction)
        cells = starting_cells(space)
        assert cells, space
        for genotype in cells:
            space.values(genotype)  # raises if it does not fit
    five = starting_cells(CellSearchSpace(num_blocks=5))
    assert NASNET_A in five and len(five) == 4  # the plain cell, NASNet-A, AmoebaNet-A, ENAS
    inputs = keras.Input((8, 8, 1))
    model = build_classifier(five[0], inputs=inputs, features=inputs, num_classes=3, size=NetworkSize(filters=4))
    assert model.output_shape == (None, 3)


def test_a_space_without_the_plain_convolution_starts_from_nothing():
    assert starting_cells(CellSearchSpace(["sep_conv_3x3", "identity"], num_blocks=2)) == []


def test_only_oracles_that_take_starting_points_get_them_by_default():
    space = CellSearchSpace(num_blocks=2)
    assert resolve_warm_start(None, "evolution", space) == starting_cells(space)
    assert resolve_warm_start(None, "random", space) == []
    assert resolve_warm_start([], "evolution", space) == []
    assert resolve_warm_start(["enas"], "reinforce", space) == ["enas"]


def test_evolution_tries_the_plain_cell_first(problem, tmp_path):  # noqa: F811
    space, hypermodel, data = problem
    outcome = run_search("evolution", space, hypermodel, data, epochs=1, max_trials=1, directory=str(tmp_path),
                         seed=0, verbose=0)
    assert outcome.genotype == starting_cells(space)[0]
