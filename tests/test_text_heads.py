"""How a text network ends: pooling over positions and the bag-of-n-grams branch, as genotype,
search space, network and exported model."""
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from autonas import TextSearchClassifier
from autonas.data.text import CHARACTER_CUTTING, ngram_statistics, spec_from_texts
from autonas.layers import AttentionPooling
from autonas.oracles.decisions import SpaceEncoding
from autonas.space import CellHyperModel, CellSearchSpace, Genotype, build_classifier, operations_for_rank
from autonas.space.genotype import NGRAM_BRANCHES, POOLINGS, Head
from autonas.space.network import NetworkSize
from autonas.space.starting_cells import parallel_cell, plain_cell, starting_cells

SERVE_SCRIPT = Path(__file__).with_name("serve_saved_model.py")
TEXTS = np.array(["a good film", "a bad film", "good good fun", "bad bad bad film", "the plot was good"] * 4)
CELL = plain_cell(2, "conv_3")
HEADS = [Head(pooling, ngrams) for pooling in POOLINGS for ngrams in NGRAM_BRANCHES]


def text_space(**heads):
    heads = heads or {"poolings": POOLINGS, "ngram_branches": NGRAM_BRANCHES}
    return CellSearchSpace(operations_for_rank(1), num_blocks=2, rank=1, reduction_cell=False, **heads)


@pytest.fixture(scope="module")
def spec():
    return spec_from_texts(TEXTS, max_vocabulary=100, sequence_length=None, embedding_dim=8)


def test_default_head_is_none_so_earlier_genotypes_are_unchanged():
    assert Genotype(normal=CELL, head=Head()) == Genotype(normal=CELL)
    assert Genotype(normal=CELL, head=Head()).head is None
    assert "head" not in Genotype(normal=CELL).to_dict()
    assert Genotype(normal=CELL).ending == Head()


@pytest.mark.parametrize("head", HEADS, ids=str)
def test_head_round_trips_through_json_and_the_space(head):
    genotype = Genotype(normal=CELL, head=head)
    assert Genotype.from_json(genotype.to_json()) == genotype
    space = text_space()
    hp = space.hyperparameters()
    hp.values = space.values(genotype)
    declared = space.declare(hp)
    assert declared.ending == (Head(ngrams="alone") if head.ngrams == "alone" else head)
    if head.reads_cells:
        assert declared == genotype


@pytest.mark.parametrize("pooling, ngrams", [("sum", "none"), ("max", "both")])
def test_unknown_head_choices_are_refused(pooling, ngrams):
    with pytest.raises(ValueError, match="must be one of"):
        Head(pooling, ngrams)


def test_a_space_without_heads_declares_what_it_did_and_refuses_other_heads():
    image_space = CellSearchSpace(num_blocks=2)
    names = [hp.name for hp in image_space.hyperparameters().space]
    assert not [name for name in names if name.startswith("head_")] and len(names) == 16
    with pytest.raises(ValueError, match="not in this space"):
        text_space(poolings=("average",), ngram_branches=("none",)).values(Genotype(normal=CELL, head=Head("max")))
    with pytest.raises(ValueError, match="distinct entries"):
        text_space(poolings=("max", "max"))


def test_networks_without_cells_are_one_configuration():
    """Under "alone" the cells are inactive: evolution cannot spend trials mutating unused cells."""
    space = text_space()
    encoding = SpaceEncoding(space.hyperparameters())
    assert encoding.decisions[0].name == "head_ngrams" and encoding.conditional
    alone = encoding.encode({"head_ngrams": "alone"})
    assert encoding.decode(alone) == {"head_ngrams": "alone"}
    assert encoding.mutable({"head_ngrams": "alone"}) == [0]  # only the branch itself can change
    assert space.values(Genotype(normal=parallel_cell(2, ["conv_5"]), head=Head(ngrams="alone"))) == \
        {"head_ngrams": "alone"}


def test_text_spaces_start_from_tf_idf_and_kims_cnn():
    starts = starting_cells(text_space())
    assert [genotype.ending for genotype in starts] == [Head(), Head(ngrams="alone"), Head(pooling="max")]
    assert {op for block in starts[2].normal.blocks for op in (block.op_a,)} == {"conv_3", "conv_5"}
    assert starts[2].normal.concat == (2, 3)  # the convolutions side by side
    assert [g.ending for g in starting_cells(text_space(poolings=("average",), ngram_branches=("none",)))] == [Head()]


CUTTINGS = {"words": {}, "characters": CHARACTER_CUTTING}


@pytest.mark.parametrize("cutting", CUTTINGS, ids=str)
def test_ngram_statistics_match_what_keras_adapts(cutting):
    vocabulary, idf = ngram_statistics(TEXTS, max_ngrams=50, **CUTTINGS[cutting])
    settings = {"ngrams": 2, **CUTTINGS[cutting]}
    adapted = keras.layers.TextVectorization(max_tokens=51, output_mode="tf_idf", **settings)
    adapted.adapt(tf.constant(TEXTS))
    rebuilt = keras.layers.TextVectorization(output_mode="tf_idf", vocabulary=list(vocabulary),
                                             idf_weights=np.asarray(idf, "float32"), **settings)
    probe = tf.constant(["good film", "bad plot twist", "", "a good good film"])
    assert list(vocabulary) == adapted.get_vocabulary()[1:]
    np.testing.assert_allclose(rebuilt(probe).numpy(), adapted(probe).numpy(), rtol=1e-6)


def ngram_vectors(spec, texts):
    inputs = keras.Input(shape=(), dtype="string")
    return keras.Model(inputs, spec.build_ngrams(inputs, scale=1.0))(tf.constant(texts)).numpy()


def test_character_ngrams_read_unseen_words_and_ignore_unknown_ones(spec):
    """An unseen word still shares character n-grams with seen ones ("goodness" with "good"),
    while n-grams never seen weigh nothing, as in scikit-learn (not Keras's mean weight)."""
    assert spec.character_vocabulary and len(spec.character_vocabulary) == len(spec.character_idf_weights)
    words = len(spec.ngram_vocabulary) + 1  # the word block, its unknown column first
    unseen, foreign, empty = ngram_vectors(spec, ["goodness", "xyzzy qwv", ""])
    np.testing.assert_allclose(np.linalg.norm(unseen[words:]), 1.0, rtol=1e-5)  # the known character n-grams
    assert not foreign[words:].any() and np.isfinite(foreign).all()
    assert not empty.any()
    assert unseen[0] > 0 and not unseen[1:words].any()  # the word itself: only Keras's unknown column


def test_a_spec_without_character_ngrams_reads_words_only():
    words_only = spec_from_texts(TEXTS, max_vocabulary=100, sequence_length=None, embedding_dim=8,
                                 character_ngrams=False)
    assert words_only.character_vocabulary == ()
    assert ngram_vectors(words_only, ["good film"]).shape == (1, len(words_only.ngram_vocabulary) + 1)


@pytest.mark.parametrize("head", HEADS, ids=str)
def test_every_head_builds_a_classifier(spec, head):
    hypermodel = CellHyperModel(text_space(), inputs_builder=spec.build_inputs, ngrams_builder=spec.build_ngrams,
                                num_classes=3, size=NetworkSize(filters=4))
    model = hypermodel.build_genotype(Genotype(normal=CELL, head=head))
    probabilities = model(tf.constant(["good film", "never seen words"])).numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    names = [layer.name for layer in model.layers]
    assert ("ngrams" in names) == (head.ngrams != "none")
    assert any(name.startswith("stage0_normal0") for name in names) == head.reads_cells
    if not head.reads_cells:  # TF-IDF + a linear layer: one weight per n-gram and class
        ngrams = len(spec.ngram_vocabulary) + 1 + len(spec.character_vocabulary) + 1  # each with its unknown column
        assert model.count_params() == ngrams * 3 + 3


def test_ngram_heads_need_a_text_input():
    inputs = keras.Input((8, 4))
    with pytest.raises(ValueError, match="only text networks have"):
        build_classifier(Genotype(normal=CELL, head=Head(ngrams="fused")), inputs=inputs, features=inputs,
                         num_classes=2, size=NetworkSize(filters=4))


def test_attention_pooling_starts_as_the_mean_and_reloads(tmp_path):
    x = keras.random.normal((2, 6, 3), seed=0)
    np.testing.assert_allclose(AttentionPooling()(x).numpy(), np.mean(x.numpy(), axis=1), rtol=1e-5)
    inputs = keras.Input((6, 3))
    model = keras.Model(inputs, AttentionPooling()(inputs))
    model.save(tmp_path / "pool.keras")
    reloaded = keras.saving.load_model(tmp_path / "pool.keras")
    np.testing.assert_allclose(reloaded(x).numpy(), model(x).numpy(), rtol=1e-6)


@pytest.mark.parametrize("head, tokens", [(Head(pooling="attention"), "punctuation"), (Head(ngrams="alone"), "words"),
                                          (Head("max", "fused"), "cased")], ids=str)
def test_every_branch_serves_raw_strings_in_a_fresh_process(tiny, head, tokens, tmp_path):
    words = {"sport": "match goal team score".split(), "food": "bread cheese soup oven".split()}
    rng = np.random.default_rng(0)
    labels = rng.choice(sorted(words), size=640)
    texts = [" ".join(rng.choice(words[label], 3)) + " the new one" for label in labels]
    genotype = Genotype(normal=CELL, reduce=CELL, head=head)  # warm starts fit texts long enough to reduce too
    clf = TextSearchClassifier(**{**tiny, "operations": ["conv_3", "identity"], "epochs": 6, "final_epochs": 6,
                                  "embedding_dim": 8, "tokens": tokens, "directory": str(tmp_path / "search")},
                               warm_start=[genotype]).fit(texts, labels)
    assert clf.best_genotype_.ending == head and clf.input_spec_.tokens == tokens
    assert clf.best_genotype_.normal == CELL or not head.reads_cells
    clf.export(tmp_path / "model")
    probe = np.array(["", "goal for the team", "Ünïcödé 文字 ✓ soup", " ".join(["bread"] * 3000), "BREAD OVEN!"])
    np.save(tmp_path / "inputs.npy", probe)
    subprocess.run([sys.executable, str(SERVE_SCRIPT), str(tmp_path / "model"), str(tmp_path / "inputs.npy"),
                    str(tmp_path / "served.npy")], check=True)
    served = np.load(tmp_path / "served.npy")
    assert np.max(np.abs(served - clf.predict_proba(probe))) <= 1e-5
    assert clf.score(texts, labels) > 0.9  # the topic words decide the class: every branch must learn them


# ----------------------------------------------------------------- the embedding width
def test_embedding_width_is_searched_under_the_cells_and_built_as_chosen(spec):
    space = text_space(poolings=POOLINGS, ngram_branches=NGRAM_BRANCHES, embedding_widths=(8, 16))
    assert list(space.network_choices) == ["head_ngrams", "head_pooling", "embedding_dim"]
    wide = Genotype(normal=CELL, head=Head("max"), embedding=16)
    assert Genotype.from_json(wide.to_json()) == wide and "embedding: 16" in str(wide)
    hp = space.hyperparameters()
    hp.values = space.values(wide)
    assert space.declare(hp) == wide
    assert space.values(Genotype(normal=CELL))["embedding_dim"] == 8  # None: the task's width, the first
    assert space.values(Genotype(normal=CELL, head=Head(ngrams="alone"), embedding=16)) == {"head_ngrams": "alone"}
    assert Genotype(normal=CELL, head=Head(ngrams="alone"), embedding=16).embedding is None  # nothing embedded
    hypermodel = CellHyperModel(space, inputs_builder=spec.build_inputs, ngrams_builder=spec.build_ngrams,
                                num_classes=2, size=NetworkSize(filters=4))
    assert hypermodel.network(wide).get_layer("embed").output_dim == 16
    assert hypermodel.network(Genotype(normal=CELL)).get_layer("embed").output_dim == spec.embedding_dim
    with pytest.raises(ValueError, match="embedding width"):
        text_space().values(wide)  # a space that leaves the width to the task
    with pytest.raises(ValueError, match="distinct positive ints"):
        text_space(embedding_widths=(8, 8))


@pytest.mark.parametrize("value", [0, [], [64, 64], "64", [64, 0.5], True])
def test_bad_embedding_widths_are_refused_before_training(value, tmp_path):
    with pytest.raises(ValueError, match="embedding_dim must be a positive integer or a list"):
        TextSearchClassifier(embedding_dim=value, directory=str(tmp_path / "s")).fit(["a b", "c d"], [0, 1])
    assert not (tmp_path / "s").exists()


def test_a_one_shot_search_takes_one_embedding_width(tmp_path):
    with pytest.raises(ValueError, match="one embedding width"):
        TextSearchClassifier(oracle="darts", embedding_dim=[32, 64], directory=str(tmp_path / "s")).fit(
            ["a b", "c d"], [0, 1])
    assert not (tmp_path / "s").exists()


def test_a_text_search_picks_an_embedding_width(tiny, tmp_path):
    rng = np.random.default_rng(0)
    words = {"sport": "match goal team score".split(), "food": "bread cheese soup oven".split()}
    labels = rng.choice(sorted(words), size=200)
    texts = [" ".join(rng.choice(words[label], 3)) + " the new one" for label in labels]
    clf = TextSearchClassifier(**{**tiny, "max_trials": 3, "operations": ["conv_3", "identity"],
                                  "embedding_dim": [4, 12], "directory": str(tmp_path / "search")}).fit(texts, labels)
    for architecture in clf.leaderboard()["architecture"]:
        assert "(no cells)" in architecture or re.search(r"\| embedding: (4|12)$", architecture), architecture
    if clf.best_genotype_.ending.reads_cells:
        assert clf.model_.get_layer("embed").output_dim == clf.best_genotype_.embedding


def test_a_winner_without_cells_retrains_for_its_trials_epochs_only(tiny, tmp_path):
    """More epochs overfit the linear model over n-grams (retrain.validated_epochs_only)."""
    rng = np.random.default_rng(0)
    words = {"sport": "match goal team score".split(), "food": "bread cheese soup oven".split()}
    labels = rng.choice(sorted(words), size=200)
    texts = [" ".join(rng.choice(words[label], 3)) + " the new one" for label in labels]
    alone = Genotype(normal=CELL, head=Head(ngrams="alone"))
    settings = {**tiny, "epochs": 3, "final_epochs": None, "directory": str(tmp_path / "search"),
                "operations": ["conv_3", "identity"]}
    clf = TextSearchClassifier(**settings, warm_start=[alone]).fit(texts, labels)
    assert clf.best_genotype_.ending == Head(ngrams="alone")
    assert clf.retrained_size_ == NetworkSize(filters=8, normal_cells=1, dropout=0.2)  # the search size
    assert clf._retrained_epochs == 3  # from scratch, as validated: not DEFAULT_FINAL_EPOCHS
    forced = TextSearchClassifier(**{**settings, "final_epochs": 5, "overwrite": True}, warm_start=[alone]).fit(
        texts, labels)
    assert forced._retrained_epochs == 3 + 5  # the user's final_epochs win: on from the trial (tiny's sizes agree)
