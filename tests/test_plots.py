"""The plots: files written, and the artists drawn match the search, the cells and the epochs."""
import collections
import itertools
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

import autonas  # noqa: E402
from autonas import ImageSearchClassifier, plot_cell, plot_front, plot_one_shot, plot_search  # noqa: E402
from autonas.oneshot import OneShotResult  # noqa: E402
from autonas.space import PUBLISHED_CELLS, Block, Cell, Genotype  # noqa: E402
from autonas.space.genotype import Head  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _leaderboard():
    """Six trials, best first as `leaderboard()` gives them: one failed, two promoted from earlier ones."""
    rows = [("00", 0.70, 10.0, None), ("01", 0.65, 12.0, None), ("02", np.nan, np.nan, None),
            ("03", 0.80, 11.0, None), ("04", 0.85, 30.0, "03"), ("05", 0.75, 25.0, "00")]
    frame = pd.DataFrame([{"trial": trial, "architecture": "a", "score": score, "params": 100, "epochs": 1,
                           "seconds": seconds, "status": "FAILED" if np.isnan(score) else "COMPLETED",
                           "from_trial": pd.NA if parent is None else parent}
                          for trial, score, seconds, parent in rows])
    return frame.sort_values("score", ascending=False, na_position="last").reset_index(drop=True)


def _genotype():
    """Block 0 reads c_{k-2} twice (two edges between the same nodes); the reduction cell concatenates an input."""
    normal = Cell.from_blocks([Block(0, "sep_conv_3x3", 0, "identity"), Block(2, "max_pool_3x3", 1, "conv_3x3")])
    reduce = Cell(blocks=(Block(1, "avg_pool_3x3", 0, "dil_conv_3x3"),), concat=(1, 2))
    return Genotype(normal=normal, reduce=reduce)


def _scatter_points(ax):
    return [point for collection in ax.collections if isinstance(collection, PathCollection)
            for point in collection.get_offsets()]


def _line(ax, label):
    (line,) = [line for line in ax.get_lines() if line.get_label() == label]
    return line


def _operation_labels(ax, cell):
    return [text.get_text() for text in ax.texts if text.get_text() in set(cell.operations)]


def _check_png(path):
    assert path.read_bytes()[:8] == PNG_SIGNATURE and path.stat().st_size > 5000


def _check_svg(path):
    text = path.read_text()
    assert "<svg" in text and text.rstrip().endswith("</svg>")


# ----------------------------------------------------------------- plot_search
def test_search_plot_draws_every_scored_trial_against_number_and_time(tmp_path):
    figure = plot_search(_leaderboard())
    by_trial, by_time = figure.axes
    for ax in (by_trial, by_time):
        assert len(_scatter_points(ax)) == 5  # six trials, one without a score
    promoted = [c for c in by_trial.collections if c.get_label().startswith("promoted")]
    assert sorted(map(tuple, promoted[0].get_offsets())) == [(4, 0.85), (5, 0.75)]
    # Time: trial seconds summed in trial order (the failed trial adds none).
    assert sorted(x for x, _ in _scatter_points(by_time)) == [10, 22, 33, 63, 88]
    assert "start times are not recorded" in by_time.get_xlabel()
    assert "1 without a score" in figure._suptitle.get_text()
    figure.savefig(tmp_path / "search.png")
    figure.savefig(tmp_path / "search.svg")
    _check_png(tmp_path / "search.png")
    _check_svg(tmp_path / "search.svg")


def test_search_plot_best_so_far_is_the_running_maximum_in_trial_order():
    figure = plot_search(_leaderboard())
    for ax in figure.axes:
        best = _line(ax, "best so far").get_ydata()
        np.testing.assert_allclose(best, [0.70, 0.70, 0.80, 0.85, 0.85])
        assert np.all(np.diff(_line(ax, "best so far").get_xdata()) > 0)


def test_search_plot_links_each_promoted_trial_to_its_parent():
    ax = plot_search(_leaderboard()).axes[0]
    links = sorted((tuple(line.get_xdata()), tuple(line.get_ydata())) for line in ax.get_lines()
                   if line.get_label() == "_promotion")
    assert links == [((0, 5), (0.70, 0.75)), ((3, 4), (0.80, 0.85))]


def test_search_plot_draws_into_given_axes_and_refuses_one_shot_leaderboards():
    figure = matplotlib.figure.Figure()
    axes = figure.subplots(1, 2)
    assert plot_search(_leaderboard(), axes=axes) is figure
    with pytest.raises(ValueError, match="2 Axes"):
        plot_search(_leaderboard(), axes=axes[:1])
    derived = _leaderboard().assign(status="DERIVED (sampled)")
    with pytest.raises(ValueError, match="plot_one_shot"):
        plot_search(derived)


@pytest.mark.endtoend
def test_search_plot_of_a_real_search(digits, tiny, tmp_path):
    images, labels = digits
    clf = ImageSearchClassifier(**{**tiny, "max_trials": 2, "epochs": 1, "retrain": False})
    clf.fit(images[:300], labels[:300])
    figure = plot_search(clf)
    assert len(_scatter_points(figure.axes[0])) == len(clf.leaderboard()) == 2
    assert _line(figure.axes[0], "best so far").get_ydata()[-1] == pytest.approx(clf.best_score_)
    figure.savefig(tmp_path / "search.png")
    _check_png(tmp_path / "search.png")
    cells = plot_cell(clf.best_genotype_)
    assert _operation_labels(cells.axes[0], clf.best_genotype_.normal)
    with pytest.raises(ValueError, match="plot_search"):
        plot_one_shot(clf)


# ----------------------------------------------------------------- plot_cell
def test_cell_plot_labels_every_edge_with_its_operation(tmp_path):
    genotype = _genotype()
    figure = plot_cell(genotype)
    assert [ax.get_title() for ax in figure.axes] == ["normal cell", "reduction cell"]
    for ax, cell in zip(figure.axes, (genotype.normal, genotype.reduce)):
        assert collections.Counter(_operation_labels(ax, cell)) == collections.Counter(cell.operations)
        arrows = [patch for patch in ax.patches if isinstance(patch, FancyArrowPatch)]
        assert len(arrows) == 2 * len(cell.blocks) + len(cell.concat)
    figure.savefig(tmp_path / "cells.svg")
    figure.savefig(tmp_path / "cells.png")
    _check_svg(tmp_path / "cells.svg")
    _check_png(tmp_path / "cells.png")
    assert "sep_conv_3x3" in (tmp_path / "cells.svg").read_text()


def test_a_block_reading_one_state_twice_gets_two_distinct_edges():
    ax = plot_cell(_genotype()).axes[0]
    arrows = [patch for patch in ax.patches if isinstance(patch, FancyArrowPatch)]
    rads = [arrow.get_connectionstyle().rad for arrow in arrows[:2]]  # block 0's edges, both from c_{k-2}
    assert rads[0] == -rads[1] != 0


def test_genotype_plot_is_plot_cell_and_one_panel_without_reduction_cell():
    genotype = Genotype(normal=_genotype().normal)
    figure = genotype.plot()
    assert len(figure.axes) == 1
    assert sorted(_operation_labels(figure.axes[0], genotype.normal)) == sorted(genotype.normal.operations)


def test_cell_plot_names_a_searched_end_and_draws_no_cells_when_the_ngrams_stand_alone():
    genotype = Genotype(normal=_genotype().normal, head=Head("max", "fused"))
    assert [ax.get_title() for ax in plot_cell(genotype).axes] == ["normal cell, then max pooling + ngrams"]
    alone = plot_cell(Genotype(normal=_genotype().normal, head=Head(ngrams="alone")))
    assert len(alone.axes) == 1 and not alone.axes[0].patches
    assert [text.get_text() for text in alone.axes[0].texts] == ["no cells: ngrams alone"]


CROWDED = pytest.mark.xfail(strict=True, reason="ENAS's reduction cell sends six edges out of c_{k-1} (two pairs "
                            "to the same blocks): one name finds no free spot and touches a node")


@pytest.mark.parametrize("name", [pytest.param(name, marks=CROWDED) if name == "enas" else name
                                  for name in sorted(PUBLISHED_CELLS)])
def test_published_cells_draw_without_overlapping_names(name):
    """Legibility, measured on the rendered figure: no operation name overlaps another or a node."""
    genotype = PUBLISHED_CELLS[name]
    figure = plot_cell(genotype)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # the constrained layout places the axes while drawing
    renderer = canvas.get_renderer()
    for ax, cell in zip(figure.axes, genotype.cells.values()):
        names = [text.get_window_extent(renderer) for text in ax.texts if text.get_text() in set(cell.operations)]
        nodes = [patch.get_window_extent(renderer) for patch in ax.patches if not isinstance(patch, FancyArrowPatch)]
        assert len(names) == 2 * len(cell.blocks)
        for first, second in itertools.combinations(names, 2):
            assert not first.overlaps(second), f"{name}: two operation names overlap"
        for label, node in itertools.product(names, nodes):
            assert not label.overlaps(node), f"{name}: an operation name covers a node"


# ----------------------------------------------------------------- plot_one_shot
def test_one_shot_plot_draws_only_the_recorded_series(tmp_path):
    history = [{"epoch": epoch, "train_loss": 2 / epoch, "mean_reward": 0.5 + epoch / 20,
                "controller_entropy": 1.5 - epoch / 10, "most_likely": "cell", "parameter_free_share": 0.25,
                "seconds": 3.0} for epoch in range(1, 6)]
    figure = plot_one_shot(history)
    assert [ax.get_title() for ax in figure.axes] == ["loss", "controller mean reward", "controller entropy",
                                                      "parameter-free share"]
    entropy = figure.axes[2].get_lines()
    assert len(entropy) == 1 and list(entropy[0].get_ydata()) == [h["controller_entropy"] for h in history]
    figure.savefig(tmp_path / "one_shot.png")
    _check_png(tmp_path / "one_shot.png")
    result = OneShotResult(method="enas", derived=[], history=history, epochs=5, seconds=15.0, peak_memory_mb=1.0)
    assert plot_one_shot(result)._suptitle.get_text() == "ENAS search, 5 supernet epochs"


def test_one_shot_plot_groups_darts_series_and_gives_unknown_ones_a_panel():
    history = pd.DataFrame({"epoch": [1, 2], "steps": [5, 5], "stopped": [False, True], "train_loss": [1.0, 0.5],
                            "valid_loss": [1.1, 0.6], "valid_accuracy": [0.5, 0.6], "new_statistic": [3.0, 4.0]})
    figure = plot_one_shot(history)
    assert [ax.get_title() for ax in figure.axes] == ["loss", "supernet validation accuracy", "new statistic"]
    assert len(figure.axes[0].get_lines()) == 2
    with pytest.raises(ValueError, match="no epoch"):
        plot_one_shot([])


# ----------------------------------------------------------------- optional matplotlib
def test_a_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install autonas\[plot\]"):
        plot_cell(_genotype())


def test_import_autonas_needs_no_matplotlib():
    code = ("import sys; sys.modules['matplotlib'] = None; import autonas; "
            "assert callable(autonas.plot_search) and 'plot_cell' in autonas.__all__")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)


def test_autonas_exports_the_plots():
    assert {"plot_search", "plot_cell", "plot_one_shot", "plot_front"} <= set(autonas.__all__)


def _costed_search():
    """A fitted classifier's face for `plot_front`: five trials, one over max_params (not trained)."""
    rows = [("0", np.nan, 5000, 0, 4.0), ("1", 0.90, 900, 3, 0.0), ("2", 0.80, 100, 3, 0.0), ("3", 0.85, 950, 3, 0.0),
            ("4", 0.70, 100, 3, 0.0)]
    board = pd.DataFrame([{"trial": t, "architecture": "a", "score": score, "params": params, "flops": 10.0 * params,
                           "latency_ms": params / 1000, "epochs": epochs, "seconds": 1.0, "status": "COMPLETED",
                           "from_trial": pd.NA, "constraint_violation": violation}
                          for t, score, params, epochs, violation in rows])
    search = ImageSearchClassifier(objective=["val_accuracy", "params"], max_params=1000)
    search.leaderboard_, search.selected_trial_ = board, "1"
    return search


def test_front_plot_draws_every_trained_trial_the_front_the_fitted_model_and_the_limit(tmp_path):
    figure = plot_front(_costed_search())
    (ax,) = figure.axes
    offsets = {c.get_label(): c.get_offsets() for c in ax.collections}
    assert len(offsets["trial"]) == 4  # trial 0 was over the limit: never trained, not drawn
    assert sorted(map(tuple, offsets["Pareto front"])) == [(100.0, 0.8), (900.0, 0.9)]
    assert [tuple(p) for p in offsets["fitted model (trial 1)"]] == [(900.0, 0.9)]
    assert [line.get_xdata()[0] for line in ax.lines if line.get_label() == "max_params"] == [1000]
    assert "1 over the limits" in ax.get_title()
    figure.savefig(tmp_path / "front.png")
    assert (tmp_path / "front.png").read_bytes().startswith(PNG_SIGNATURE)


def test_front_plot_refuses_a_search_without_costs_or_an_unmeasured_cost():
    search = _costed_search()
    with pytest.raises(ValueError, match="cost must be one the search measured"):
        plot_front(search, "batch_latency_ms")
    search.leaderboard_ = _leaderboard()
    with pytest.raises(ValueError, match="measured no costs"):
        plot_front(search)
