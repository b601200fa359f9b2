import keras_tuner
import numpy as np
import pytest

from autonas.oracles.decisions import INACTIVE, SpaceEncoding


def _space():
    hp = keras_tuner.HyperParameters()
    hp.Choice("op", ["conv", "pool", "skip"])
    hp.Boolean("bn")
    hp.Int("units", 8, 64, step=8)  # 8 values: exact
    hp.Int("width", 1, 1000)  # 1000 values: binned
    hp.Float("lr", 1e-4, 1e-1, sampling="log")  # continuous: binned, log-spaced
    hp.Float("dropout", 0.0, 0.4, step=0.1)
    hp.Fixed("fixed", 3)
    hp.Choice("kind", ["plain", "residual"])
    with hp.conditional_scope("kind", ["residual"]):
        hp.Int("depth", 1, 4)
    return hp


def test_options_per_type():
    enc = SpaceEncoding(_space(), num_bins=10)
    by_name = {d.name: d for d in enc.decisions}
    assert by_name["op"].options == ("conv", "pool", "skip")
    assert by_name["bn"].options == (False, True)
    assert by_name["units"].options == (8, 16, 24, 32, 40, 48, 56, 64)
    assert len(by_name["width"].options) == 10
    assert all(isinstance(v, int) and 1 <= v <= 1000 for v in by_name["width"].options)
    lr = np.array(by_name["lr"].options)
    assert len(lr) == 10 and lr.min() > 1e-4 and lr.max() < 1e-1
    ratios = lr[1:] / lr[:-1]
    assert np.allclose(ratios, ratios[0])  # log-spaced bins
    assert len(by_name["dropout"].options) == 5
    assert by_name["fixed"].options == (3,)
    assert enc.sizes == tuple(d.size for d in enc.decisions)


def test_decode_encode_round_trip_with_conditions():
    enc = SpaceEncoding(_space(), num_bins=10)
    rng = np.random.default_rng(0)
    for _ in range(50):
        idx = [int(rng.integers(k)) for k in enc.sizes]
        values = enc.decode(idx)
        assert ("depth" in values) == (values["kind"] == "residual")
        back = enc.encode(values)
        assert enc.decode(back) == values
        if values["kind"] == "plain":
            assert back[-1] == INACTIVE


def test_encode_off_grid_value_maps_to_nearest_bin():
    enc = SpaceEncoding(_space(), num_bins=10)
    lr_index = [d.name for d in enc.decisions].index("lr")
    lr_options = enc.decisions[lr_index].options
    values = enc.decode([0] * len(enc))
    values["lr"] = lr_options[3] * 1.01
    assert enc.encode(values)[lr_index] == 3


def test_complete_fills_drops_and_rejects_unknown():
    enc = SpaceEncoding(_space())
    rng = np.random.default_rng(0)
    full = enc.complete({"op": "pool", "kind": "plain", "depth": 2}, rng)
    assert full["op"] == "pool" and "depth" not in full
    assert set(full) == {"op", "bn", "units", "width", "lr", "dropout", "fixed", "kind"}
    with pytest.raises(ValueError, match="not in the search space"):
        enc.complete({"nope": 1}, rng)


def test_mutate_changes_one_hyperparameter_and_resolves_conditions():
    enc = SpaceEncoding(_space())
    rng = np.random.default_rng(1)
    values = enc.complete({"kind": "plain"}, rng)
    kind = [d.name for d in enc.decisions].index("kind")
    child = enc.mutate(values, kind, enc.alternatives(values, kind)[0], rng)
    assert child["kind"] == "residual" and child["depth"] in (1, 2, 3, 4)
    assert {k: v for k, v in child.items() if k not in ("kind", "depth")} == {
        k: v for k, v in values.items() if k != "kind"
    }
    op = [d.name for d in enc.decisions].index("op")
    for option in enc.alternatives(values, op):
        mutated = enc.mutate(values, op, option, rng)
        assert mutated["op"] != values["op"]
        assert {k for k in values if values[k] != mutated.get(k)} == {"op"}
    # A Fixed hyperparameter has nothing to mutate.
    assert "fixed" not in {enc.decisions[i].name for i in enc.mutable(values)}


def test_decode_rejects_bad_index():
    enc = SpaceEncoding(_space())
    with pytest.raises(ValueError):
        enc.decode([0] * (len(enc) - 1))
    with pytest.raises(ValueError):
        enc.decode([99] + [0] * (len(enc) - 1))
