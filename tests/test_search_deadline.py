"""A search keeps only what its best trial needs to retrain: a winner of n-grams alone retrains in
seconds, so the search goes on into the retraining share instead of ending the fit early."""
import numpy as np
import pytest

from autonas import TextSearchClassifier
from autonas.engine import budget
from autonas.engine.budget import Deadline, SearchDeadline
from autonas.engine.retrain import QUICK_RETRAINING_FACTOR, quick_retraining_seconds
from autonas.space.genotype import Genotype, Head
from autonas.space.starting_cells import plain_cell

CELL = plain_cell(2, "conv_3")
ALONE = Genotype(normal=CELL, head=Head(ngrams="alone"))
POOLED = Genotype(normal=CELL, reduce=CELL, head=Head(pooling="max"))


def test_a_search_deadline_is_its_share_of_what_remains_until_told_to_keep_less():
    now = [0.0]
    fit = Deadline(200.0, clock=lambda: now[0])
    now[0] = 100.0  # data preparation took half the limit
    search = SearchDeadline(fit, 0.7)
    assert search.seconds == pytest.approx(70.0)
    search.keep(4.0)
    assert search.seconds == pytest.approx(96.0)
    now[0] = 150.0
    assert search.remaining == pytest.approx(46.0)
    search.keep(500.0)  # never more than the share's rest: the search's end never comes sooner than it
    assert search.seconds == pytest.approx(70.0)
    search.keep(4.0)
    search.keep(None)  # a later best needs the whole rest again
    assert search.seconds == pytest.approx(70.0)
    assert search.remaining == pytest.approx(20.0)


def test_a_search_deadline_without_a_limit_never_arrives():
    search = SearchDeadline(Deadline(None), 0.7)
    search.keep(3.0)
    assert search.seconds is None and search.remaining is None and search.fits(1e9)


def test_only_a_winner_retrained_as_validated_is_quick():
    assert quick_retraining_seconds(ALONE, 10.0, None) == pytest.approx(QUICK_RETRAINING_FACTOR * 10.0)
    assert quick_retraining_seconds(POOLED, 10.0, None) is None  # cells grow with the final size
    assert quick_retraining_seconds(ALONE, 10.0, 30) is None  # the user's final_epochs win


@pytest.fixture
def kept(monkeypatch):
    """Every `SearchDeadline.keep` a fit made, in order."""
    calls = []
    keep = SearchDeadline.keep

    def recording(self, seconds):
        calls.append(seconds)
        return keep(self, seconds)

    monkeypatch.setattr(budget.SearchDeadline, "keep", recording)
    return calls


def easy_texts(count=120):
    rng = np.random.default_rng(0)
    words = {"sport": "match goal team score".split(), "food": "bread cheese soup oven".split()}
    labels = rng.choice(sorted(words), size=count)
    return [" ".join(rng.choice(words[label], 3)) + " the new one" for label in labels], labels


@pytest.mark.parametrize("winner", [ALONE, POOLED])
def test_the_search_keeps_what_its_best_trial_needs_to_retrain(tiny, tmp_path, kept, winner):
    texts, labels = easy_texts()
    clf = TextSearchClassifier(**{**tiny, "epochs": 2, "final_epochs": None, "time_limit": 3600,
                                  "operations": ["conv_3", "identity"], "directory": str(tmp_path / "s")},
                               warm_start=[winner]).fit(texts, labels)
    best = clf.leaderboard().iloc[0]
    assert clf.best_genotype_.ending == winner.ending
    assert kept[0] is None  # the share, before any trial
    if winner is ALONE:
        assert kept[-1] == pytest.approx(QUICK_RETRAINING_FACTOR * best.seconds)
    else:
        assert kept[-1] is None


def test_a_given_final_epochs_keeps_the_retraining_share(tiny, tmp_path, kept):
    texts, labels = easy_texts()
    TextSearchClassifier(**{**tiny, "epochs": 2, "final_epochs": 2, "time_limit": 3600,
                            "operations": ["conv_3", "identity"], "directory": str(tmp_path / "s")},
                         warm_start=[ALONE]).fit(texts, labels)
    assert kept and all(seconds is None for seconds in kept)
