"""`oracle="enas"` and `oracle="darts"` through the classifiers: search, leaderboard, history, retraining.

The supernet searches themselves are tested in test_enas.py and test_darts.py; here a two-epoch
search (`DEFAULT_SUPERNET_EPOCHS` lowered) goes through `fit` end to end.
"""
import numpy as np
import pytest

from autonas import ImageSearchClassifier, TextSearchClassifier
from autonas.oneshot import run as one_shot_run
from autonas.tasks import base
from autonas.space import Genotype

HISTORY_COLUMNS = {
    "enas": {"epoch", "controller_entropy", "mean_reward", "most_likely", "parameter_free_share"},
    "darts": {"epoch", "train_loss", "valid_accuracy", "genotype", "parameter_free_share"},
}


@pytest.fixture(autouse=True)
def two_supernet_epochs(monkeypatch):
    monkeypatch.setattr(one_shot_run, "DEFAULT_SUPERNET_EPOCHS", 2)


# With a time limit, the retraining first measures its pace on a few batches (autonas.engine.pace).
@pytest.mark.endtoend
@pytest.mark.parametrize("method, time_limit", [("enas", None), ("darts", "10m")])
def test_image_classifier_searches_with_shared_weights_and_retrains_the_result(method, time_limit, digits, tiny,
                                                                                capsys):
    images, labels = digits
    clf = ImageSearchClassifier(**{**tiny, "oracle": method, "verbose": 1, "time_limit": time_limit}).fit(
        images[:1000], labels[:1000])
    assert isinstance(clf.best_genotype_, Genotype)
    board = clf.leaderboard()
    assert len(board) >= 1 and board["status"].str.startswith("DERIVED").all()
    assert board["architecture"].iloc[0] == str(clf.best_genotype_)
    assert clf.best_score_ == pytest.approx(board["score"].max())
    assert list(clf.search_history_["epoch"]) == [1, 2]
    assert HISTORY_COLUMNS[method] <= set(clf.search_history_.columns)
    printed = capsys.readouterr().out
    assert f"{method} epoch 1" in printed and f"{method} epoch 2" in printed and "supernet of" in printed
    assert f"for {tiny['final_epochs']} epochs" in printed  # the whole retraining fits
    assert clf.retrained_size_.filters == tiny["final_filters"]
    # The derived architecture is retrained from scratch by the ordinary builder: it learns digits.
    assert clf.score(images[1000:], labels[1000:]) > 0.5


def test_text_classifier_searches_with_darts():
    rng = np.random.default_rng(0)
    words = {0: "goal team match coach league".split(), 1: "bread soup oven recipe salt".split()}
    labels = rng.integers(0, 2, 400)
    texts = [" ".join(rng.choice(words[label], 4)) + " the very new" for label in labels]
    clf = TextSearchClassifier(oracle="darts", max_trials=1, epochs=5, final_epochs=5, num_blocks=2,
                               search_filters=8, final_filters=8, search_normal_cells=1, final_normal_cells=1,
                               operations=["conv_3", "max_pool_3", "identity"], batch_size=32, embedding_dim=8,
                               verbose=0, seed=0).fit(texts[:300], labels[:300])
    assert clf.best_genotype_.reduce is None  # short texts: no reduction cell to search
    assert clf.input_spec_.ngram_vocabulary == ()  # a supernet has the default head: no n-grams counted
    assert len(clf.search_history_) == 2
    assert clf.score(texts[300:], labels[300:]) > 0.8


def test_one_shot_settings_are_checked_before_training(tiny):
    with pytest.raises(ValueError, match="warm_start works with oracle='evolution' or 'reinforce', not 'darts'"):
        ImageSearchClassifier(**{**tiny, "oracle": "darts", "warm_start": ["enas"]}).fit(
            np.zeros((20, 8, 8)), np.arange(20) % 2)


class SearchShareSeen(Exception):
    """Raised by the stubbed searches below with the seconds their deadline allowed."""


@pytest.mark.parametrize("oracle, share", [("enas", 0.5), ("darts", 0.5), ("random", 0.7)])
def test_a_one_shot_search_leaves_half_the_time_limit_to_its_retraining_a_trial_search_30_percent(oracle, share, digits, monkeypatch):
    def seen(oracle, space, hypermodel, data, *, deadline, **options):
        raise SearchShareSeen(deadline.seconds)

    monkeypatch.setattr(base, "run_search", seen)
    images, labels = digits
    with pytest.raises(SearchShareSeen) as raised:
        ImageSearchClassifier(oracle=oracle, time_limit=1000, verbose=0, seed=0).fit(images[:200], labels[:200])
    assert raised.value.args[0] == pytest.approx(share * 1000, abs=5)
