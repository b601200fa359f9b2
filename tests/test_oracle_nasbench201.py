"""benchmarks/nasbench201.py on a synthetic table (and on the real one when it is at hand)."""
import csv
import importlib.util
import itertools
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL_TABLE = os.path.join(ROOT, "..", "shared", "data", "nas", "nb201_tss_combined.csv")


@pytest.fixture(scope="module")
def nb():
    spec = importlib.util.spec_from_file_location("nasbench201", os.path.join(ROOT, "benchmarks", "nasbench201.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_table(nb, path):
    """Every cell; accuracy grows with the number of 3x3 convolutions (the optimum: all six)."""
    columns = ["index", "arch_str"]
    for ds in nb.DATASETS:
        columns += [f"{ds}_test_200ep", f"{ds}_valid_12ep"]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for i, ops in enumerate(itertools.product(nb.OPERATIONS, repeat=6)):
            values = {nb.edge_name(t, s): op for (t, s), op in zip(nb.EDGES, ops)}
            good = sum(op == "nor_conv_3x3" for op in ops) + 0.1 * sum(op == "skip_connect" for op in ops)
            writer.writerow([i, nb.arch_str(values)] + [50 + 5 * good, 40 + 5 * good] * len(nb.DATASETS))


def test_arch_str_format_and_space(nb):
    values = {nb.edge_name(t, s): "nor_conv_3x3" for t, s in nb.EDGES}
    values["edge_3_1"] = "skip_connect"
    assert nb.arch_str(values) == (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_3x3~2|"
    )
    assert nb._parse_arch(nb.arch_str(values)) == [values[nb.edge_name(t, s)] for t, s in nb.EDGES]
    space = nb.search_space()
    assert [hp.name for hp in space.space] == [nb.edge_name(t, s) for t, s in nb.EDGES]
    assert all(list(hp.values) == list(nb.OPERATIONS) for hp in space.space)


def test_runs_every_oracle_and_writes_json(nb, tmp_path, capsys):
    data = tmp_path / "table.csv"
    _fake_table(nb, data)
    out = tmp_path / "out.json"
    code = nb.main(["--data", str(data), "--oracles", "random,evolution,reinforce,hyperband", "--queries", "30",
                    "--seeds", "2", "--workers", "1", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr()
    assert "hyperband: skipped" in printed.err
    assert "propose ms" in printed.out
    report = json.loads(out.read_text())
    assert report["optimum"] == 80.0
    rows = {(r["oracle"], r["queries"]): r for r in report["results"]}
    assert set(rows) == {(o, q) for o in ("random", "evolution", "reinforce") for q in (25, 30)}
    for r in rows.values():
        assert r["seeds"] == 2 and 50 <= r["mean_test"] <= 80 and r["std_test"] >= 0
        assert set(r) == {"oracle", "queries", "mean_test", "std_test", "seeds"}


def test_missing_table_is_reported(nb, tmp_path, capsys):
    assert nb.main(["--data", str(tmp_path / "nope.csv"), "--seeds", "1", "--queries", "5"]) == 2
    assert "--data PATH" in capsys.readouterr().err


@pytest.mark.skipif(not os.path.exists(REAL_TABLE), reason="the NAS-Bench-201 table is not at hand")
def test_real_table(nb):
    table = nb.Table(REAL_TABLE, "cifar10")
    assert table.optimum == pytest.approx(94.37, abs=0.005)
    best = {nb.edge_name(t, s): "nor_conv_3x3" for t, s in nb.EDGES}
    reward, test = table.lookup(best)
    assert 0 < reward < 100 and 0 < test < 100
