import json

import keras_tuner
import pytest

from autonas.space import PUBLISHED_CELLS, Block, Cell, CellSearchSpace, Genotype
from autonas.space.operations import IMAGE_OPERATIONS


def _genotype():
    normal = Cell.from_blocks([Block(0, "sep_conv_3x3", 1, "identity"), Block(2, "max_pool_3x3", 0, "conv_3x3")])
    reduce = Cell(blocks=(Block(1, "avg_pool_3x3", 0, "dil_conv_3x3"),), concat=(1, 2))
    return Genotype(normal=normal, reduce=reduce)


def test_unused_block_outputs_are_concatenated():
    cell = Cell.from_blocks([Block(0, "identity", 1, "identity"), Block(0, "identity", 1, "identity"),
                             Block(2, "identity", 3, "identity")])
    assert cell.concat == (4,)


def test_json_round_trip_preserves_equality():
    genotype = _genotype()
    text = genotype.to_json()
    assert json.loads(text)["reduce"]["concat"] == [1, 2]
    assert Genotype.from_json(text) == genotype
    assert hash(Genotype.from_json(text)) == hash(genotype)


@pytest.mark.parametrize("name", sorted(PUBLISHED_CELLS))
def test_published_cells_round_trip(name):
    genotype = PUBLISHED_CELLS[name]
    assert Genotype.from_json(genotype.to_json()) == genotype
    assert set(genotype.operations) <= set(IMAGE_OPERATIONS)


def test_readable_string_names_operations_and_inputs():
    text = str(_genotype())
    assert "normal: [sep_conv_3x3(0) + identity(1)]" in text
    assert "reduce: [avg_pool_3x3(1) + dil_conv_3x3(0)] -> concat[1, 2]" in text
    assert len(_genotype().summary(width=30)) <= 30


@pytest.mark.parametrize("blocks, concat, message", [
    ([Block(2, "identity", 0, "identity")], (2,), "reads state 2"),
    ([Block(0, "", 1, "identity")], (2,), "non-empty name"),
    ([Block(0, "identity", 1, "identity")], (5,), "concat names state 5"),
    ([], (0,), "at least one block"),
])
def test_invalid_cells_are_rejected(blocks, concat, message):
    with pytest.raises(ValueError, match=message):
        Cell(blocks=tuple(blocks), concat=concat)


def test_hyperparameters_encode_and_decode_genotypes():
    space = CellSearchSpace(num_blocks=2)
    genotype = Genotype(normal=_genotype().normal, reduce=_genotype().normal)
    hp = keras_tuner.HyperParameters()
    space.declare(hp)
    hp.values.update(space.values(genotype))
    assert space.declare(hp) == genotype
    assert len(space.hyperparameters().space) == 2 * 2 * 4


@pytest.mark.parametrize("name", ["nasnet_a", "amoebanet_a", "enas"])
def test_five_block_published_cells_encode_as_warm_starts(name):
    space = CellSearchSpace(num_blocks=5)
    hp = space.hyperparameters()
    hp.values.update(space.values(PUBLISHED_CELLS[name]))
    assert space.declare(hp) == PUBLISHED_CELLS[name]


def test_space_rejects_genotypes_it_cannot_express():
    space = CellSearchSpace(num_blocks=5)
    with pytest.raises(ValueError, match="blocks"):
        space.values(PUBLISHED_CELLS["darts_v2"])  # 4 blocks
    with pytest.raises(ValueError, match="concatenates"):
        CellSearchSpace(num_blocks=4).values(PUBLISHED_CELLS["darts_v2"])  # concatenates a used state
    with pytest.raises(ValueError, match="Unknown operation"):
        CellSearchSpace(operations=["conv_9x9"])
    with pytest.raises(ValueError, match="does not work on 2-D"):
        CellSearchSpace(operations=["conv_3"], rank=2)


def test_a_genotype_without_reduction_cell_round_trips_and_prints_one_cell():
    genotype = Genotype(normal=_genotype().normal)
    assert Genotype.from_json(genotype.to_json()) == genotype
    assert "reduce" not in str(genotype) and genotype.summary().startswith("N[") and "R[" not in genotype.summary()
    assert genotype.operations == genotype.normal.operations


def test_a_space_without_reduction_cell_searches_only_the_normal_cell():
    space = CellSearchSpace(num_blocks=2, reduction_cell=False)
    names = list(space.hyperparameters().values)
    assert names and all(name.startswith("normal_") for name in names)
    # A published genotype warm-starts such a space through its normal cell alone.
    published = PUBLISHED_CELLS["enas"]
    values = CellSearchSpace(num_blocks=5, reduction_cell=False).values(published)
    hp = keras_tuner.HyperParameters()
    hp.values.update(values)
    assert CellSearchSpace(num_blocks=5, reduction_cell=False).declare(hp) == Genotype(normal=published.normal)
    with pytest.raises(ValueError, match="no reduce cell"):
        CellSearchSpace(num_blocks=2).values(Genotype(normal=_genotype().normal))
