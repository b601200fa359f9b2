"""A genotype's width multiplier: the network's filters as a searched decision, so a search with
costs finds models of several sizes, not only several cells of one size."""
import math

import keras_tuner
import numpy as np
import pytest

from autonas import ImageSearchClassifier
from autonas.space import CellHyperModel, CellSearchSpace, Genotype
from autonas.space.genotype import Head
from autonas.space.network import NetworkSize
from autonas.space.starting_cells import plain_cell, starting_cells
from autonas.tasks.base import COST_WIDTH_MULTIPLIERS

CELL = plain_cell(2, "conv_3x3")


def test_one_form_for_the_full_width_and_for_a_network_without_cells():
    assert Genotype(normal=CELL, width_multiplier=1).width_multiplier is None
    assert Genotype(normal=CELL, width_multiplier=1.0) == Genotype(normal=CELL)
    assert Genotype(normal=CELL, head=Head(ngrams="alone"), width_multiplier=0.5).width_multiplier is None
    half = Genotype(normal=CELL, reduce=CELL, width_multiplier=np.float32(0.5))
    assert half.width_multiplier == 0.5 and isinstance(half.width_multiplier, float)
    assert Genotype.from_json(half.to_json()) == half
    assert str(half).endswith("| width: x0.5") and half.summary().startswith("W0.5 ")


@pytest.mark.parametrize("value", [0, -0.5, math.inf, math.nan, "0.5", True])
def test_a_bad_width_multiplier_is_refused(value):
    with pytest.raises(ValueError, match="width_multiplier must be a positive number"):
        Genotype(normal=CELL, width_multiplier=value)


def test_a_widened_size_multiplies_its_filters_and_keeps_two_at_least():
    assert NetworkSize(filters=16).widened(0.25) == NetworkSize(filters=4)
    assert NetworkSize(filters=4, normal_cells=2).widened(0.25) == NetworkSize(filters=2, normal_cells=2)
    assert NetworkSize(filters=16).widened(None) == NetworkSize(filters=16)


def test_the_space_searches_the_multipliers_and_a_starting_cell_takes_the_full_width():
    space = CellSearchSpace(num_blocks=2, width_multipliers=(0.25, 0.5, 1.0))
    assert space.network_choices["width_multiplier"] == (0.25, 0.5, 1.0)
    assert space.choices_configuration()["width_multipliers"] == [0.25, 0.5, 1.0]
    for genotype in starting_cells(space):
        values = space.values(genotype)
        assert values["width_multiplier"] == 1.0
        hp = keras_tuner.HyperParameters()
        hp.values.update(values)
        assert space.declare(hp) == genotype
    quarter = Genotype(normal=CELL, reduce=CELL, width_multiplier=0.25)
    assert space.values(quarter)["width_multiplier"] == 0.25
    with pytest.raises(ValueError, match=r"width multiplier \(2\) is not in this space"):
        space.values(Genotype(normal=CELL, reduce=CELL, width_multiplier=2.0))
    with pytest.raises(ValueError, match="width_multipliers must list distinct positive floats"):
        CellSearchSpace(num_blocks=2, width_multipliers=(0.5, 0.5))


def test_a_space_of_one_multiplier_fixes_it_without_a_decision():
    space = CellSearchSpace(num_blocks=2, width_multipliers=(0.5,))
    assert "width_multiplier" not in space.network_choices
    assert space.declare(keras_tuner.HyperParameters()).width_multiplier == 0.5
    assert space.values(Genotype(normal=CELL, reduce=CELL)) == space.values(
        Genotype(normal=CELL, reduce=CELL, width_multiplier=0.5))


def test_the_network_is_built_at_the_multiplied_width():
    import keras

    def inputs():
        raw = keras.Input((8, 8, 1))
        return raw, raw

    hypermodel = CellHyperModel(CellSearchSpace(num_blocks=2, width_multipliers=(0.5, 1.0)), inputs_builder=inputs,
                                num_classes=3, size=NetworkSize(filters=16))
    full = Genotype(normal=CELL, reduce=CELL)
    half = Genotype(normal=CELL, reduce=CELL, width_multiplier=0.5)
    assert hypermodel.count_params(half) == hypermodel.network(full, size=NetworkSize(filters=8)).count_params()
    assert hypermodel.count_params(half) < hypermodel.count_params(full) / 2.5  # convolutions shrink as its square
    final = NetworkSize(filters=32, normal_cells=2)
    assert hypermodel.count_params(half, size=final) == hypermodel.count_params(full, size=final.widened(0.5))


def test_multipliers_are_searched_by_default_only_with_costs():
    assert ImageSearchClassifier()._network_choices() == {}
    costed = ImageSearchClassifier(objective=["val_accuracy", "params"])
    assert costed._network_choices() == {"width_multipliers": COST_WIDTH_MULTIPLIERS}
    assert ImageSearchClassifier(max_params=1e5)._network_choices() == {"width_multipliers": COST_WIDTH_MULTIPLIERS}
    assert ImageSearchClassifier(width_multipliers=[1])._network_choices() == {"width_multipliers": (1.0,)}
    given = ImageSearchClassifier(objective=["val_accuracy", "params"], width_multipliers=[0.5, 2])
    assert given._network_choices() == {"width_multipliers": (0.5, 2.0)}


def test_a_fixed_multiplier_builds_every_trial_and_the_final_model_at_it(tiny, tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    settings = {**tiny, "max_trials": 1, "epochs": 1, "final_epochs": 1, "final_filters": 16,
                "warm_start": [Genotype(normal=CELL, reduce=CELL)], "directory": str(tmp_path / "s")}
    half = ImageSearchClassifier(**settings, width_multipliers=[0.5]).fit(digits.images[:200], digits.target[:200])
    full = ImageSearchClassifier(**{**settings, "overwrite": True}).fit(digits.images[:200], digits.target[:200])
    assert half.best_genotype_.width_multiplier == 0.5 and full.best_genotype_.width_multiplier is None
    assert half.leaderboard().params[0] < full.leaderboard().params[0]
    assert half.model_.count_params() < full.model_.count_params()
    assert half.retrained_size_ == full.retrained_size_  # the size given; the genotype widens it
