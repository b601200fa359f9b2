"""How the embedded sequence cuts texts into tokens (`tokens=`): the vocabulary adapted, the
model's own tokenizer, saving, and bad values."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from autonas import TextSearchClassifier
from autonas.data.text import spec_from_texts

TEXTS = np.array(["What is the capital of Paris?", "Don't stop, Paris!", "the café is naïve", "WHO won?"] * 3)


def spec_for(tokens):
    return spec_from_texts(TEXTS, max_vocabulary=100, sequence_length=8, embedding_dim=4, ngrams=False,
                           tokens=tokens)


@pytest.mark.parametrize("tokens, present, absent", [
    ("words", {"paris", "dont", "café", "naïve", "who"}, {"?", "!", ",", "Paris", "don't"}),
    ("punctuation", {"paris", "don't", "?", "!", ",", "café", "naïve", "who"}, {"Paris", "dont", "paris?"}),
    ("cased", {"Paris", "Don't", "?", "!", ",", "WHO", "What", "café"}, {"paris", "who", "Paris?"}),
])
def test_each_tokenization_adapts_the_vocabulary_it_documents(tokens, present, absent):
    vocabulary = set(spec_for(tokens).vocabulary)
    assert present <= vocabulary
    assert not absent & vocabulary


@pytest.mark.parametrize("tokens, expected", [("words", ["paris"]), ("punctuation", ["paris", "?"]),
                                              ("cased", ["Paris", "?"])])
def test_the_model_tokenizes_as_the_vocabulary_was_adapted(tokens, expected):
    spec = spec_for(tokens)
    inputs, features = spec.build_inputs()
    tokenizer = keras.Model(inputs, keras.Model(inputs, features).get_layer("tokenize").output)
    ids = tokenizer(tf.constant(["Paris?", "never seen"])).numpy()
    reserved = 2  # padding and unknown come first
    assert list(ids[0][:len(expected)]) == [spec.vocabulary.index(token) + reserved for token in expected]
    assert (ids[0][len(expected):] == 0).all()
    assert list(ids[1][:2]) == [1, 1]


def test_a_model_with_punctuation_tokens_reloads_from_a_keras_file(tmp_path):
    inputs, features = spec_for("punctuation").build_inputs()
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(features))
    model.save(tmp_path / "tokens.keras")
    reloaded = keras.saving.load_model(tmp_path / "tokens.keras")
    probe = tf.constant(["What is the capital of PARIS?", "Ünïcödé 文字 ✓"])
    np.testing.assert_allclose(reloaded(probe).numpy(), model(probe).numpy(), rtol=1e-6)


@pytest.mark.parametrize("value", ["lower", None, "Words", 1])
def test_bad_tokens_are_refused_before_training(value, tmp_path):
    with pytest.raises(ValueError, match="tokens must be one of"):
        TextSearchClassifier(tokens=value, directory=str(tmp_path / "s")).fit(["a b", "c d"], [0, 1])
    assert not (tmp_path / "s").exists()
