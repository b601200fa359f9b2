"""Text inputs: validation, the vocabulary and sequence length, and the model's preprocessing.

Raw strings reach the model; a `TextVectorization` layer with a fixed vocabulary tokenises them
inside it, so an exported model serves raw strings and agrees with `predict_proba`.
"""
from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from keras import layers

MIN_SEQUENCE_LENGTH = 8
MAX_SEQUENCE_LENGTH = 256
NGRAMS = 2  # the bag-of-n-grams branch reads words and word pairs (TF-IDF over 1-2 grams)
# ... and character 2- to 5-grams beside them (spaces included, so they also span word ends):
# they match a word's stem and affixes where its exact form was never seen. On the mean of four
# sentence sets' validation splits the n-grams network rose from 0.8195 to 0.8283 with them, its
# average with an attention cell from 0.8207 to 0.8300 (docs/how-a-fit-works.md, "Character n-grams").
CHARACTER_NGRAMS = (2, 3, 4, 5)
# Character n-grams kept per word n-gram kept (`max_vocabulary`): 50,000 at the default 20,000.
CHARACTER_VOCABULARY_FACTOR = 2.5
# The n-gram vector's length. A linear layer over unit-length TF-IDF vectors, where each n-gram
# holds a small share, needs about 10x the step size of the cells under Adam to train in a
# trial's few epochs; scaling its input is that step size, for the n-gram weights alone.
NGRAM_SCALE = 10.0
_RESERVED_TOKENS = ("", "[UNK]")  # padding and out-of-vocabulary, added by TextVectorization itself
_OUT_OF_VOCABULARY = _RESERVED_TOKENS[1]
# How the embedded sequence cuts a text into tokens: lower-cased words without punctuation
# (Keras's default), lower-cased words and punctuation marks as tokens of their own, or both with
# case kept (Kim's (2014) preprocessing for TREC). The n-gram branch always reads lower-cased
# words, as scikit-learn's TfidfVectorizer does.
TOKENIZATIONS = ("words", "punctuation", "cased")
# Punctuation marks as tokens led "words" by 0.4 points on the mean of four sentence sets'
# validation splits, for two different cells (docs/how-a-fit-works.md, "How texts are cut").
DEFAULT_TOKENS = "punctuation"


@keras.saving.register_keras_serializable(package="autonas")
def split_punctuation(texts):
    """Make every character that is not a letter, mark, digit, space or apostrophe a token of its
    own ("Paris?" -> "Paris ?"); apostrophes stay inside words ("don't", "'s")."""
    return tf.strings.regex_replace(texts, r"([^\pL\pM\pN\s'])", r" \1 ")


@keras.saving.register_keras_serializable(package="autonas")
def lower_and_split_punctuation(texts):
    """`split_punctuation`, lower-cased (Unicode-aware, unlike Keras's ASCII `"lower"`)."""
    return tf.strings.lower(split_punctuation(texts), encoding="utf-8")


@keras.saving.register_keras_serializable(package="autonas")
def lower_and_collapse_spaces(texts):
    """Lower-cased, every run of white space one space (scikit-learn's character analyzer)."""
    return tf.strings.strip(tf.strings.regex_replace(tf.strings.lower(texts, encoding="utf-8"), r"\s+", " "))


# How the character n-grams are cut, as `TextVectorization` arguments (counted and built alike).
CHARACTER_CUTTING = {"standardize": lower_and_collapse_spaces, "split": "character", "ngrams": CHARACTER_NGRAMS}
_STANDARDIZE = {"words": "lower_and_strip_punctuation", "punctuation": lower_and_split_punctuation,
                "cased": split_punctuation}


def check_texts(x, name="x"):
    """Return `x` as a 1-D numpy array of Python strings.

    Accepts a list, a numpy array of any string dtype (fixed-width unicode or object) or a
    pandas Series of str.

    Raises:
        ValueError: for empty input, a wrong shape, None/NaN items or non-string items.
    """
    values = x.to_numpy() if hasattr(x, "to_numpy") else x
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{name} must be a sequence of texts, got a single string; wrap it in a list.")
    values = np.asarray(values, dtype=object)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of texts, got shape {values.shape}: pass one string per "
                         "sample, one column (e.g. df['text']), or join each row's columns or tokens into one text, "
                         "e.g. [' '.join(row) for row in x].")
    if values.size == 0:
        raise ValueError(f"{name} is empty: pass at least one text per class.")
    for index, item in enumerate(values):
        if item is None or (isinstance(item, float) and np.isnan(item)):
            raise ValueError(f"{name}[{index}] is None/NaN; drop those samples or fill them with ''.")
        if not isinstance(item, str):
            raise ValueError(f"{name}[{index}] is {type(item).__name__}, not a string: {_text_fix(item)}")
    return values


def _text_fix(item):
    """How to turn a non-string text item into a string. Bytes are refused rather than decoded:
    their encoding is the user's to know (the sentence sets here are Latin-1, not UTF-8)."""
    if isinstance(item, (bytes, bytearray)):
        return "decode bytes first, e.g. [t.decode('utf-8') for t in x], with your files' encoding."
    if isinstance(item, (list, tuple, np.ndarray)):
        return ("pass one string per sample, not nested sequences; join tokenised texts first, "
                "e.g. [' '.join(tokens) for tokens in x].")
    return "texts must be str; convert other values with str() if they really are texts."


@dataclasses.dataclass(frozen=True)
class TextInputSpec:
    """How texts become the feature sequence the cells read.

    Attributes:
        vocabulary: tokens, most frequent first (without the padding and unknown tokens).
        sequence_length: tokens kept per text (longer texts are cut, shorter ones padded).
        embedding_dim: width of the token embedding.
        tokens: how texts are cut into the embedded tokens, one of `TOKENIZATIONS`.
        ngram_vocabulary: word 1- and 2-grams for the bag-of-n-grams branch, most frequent
            first (without the unknown token).
        idf_weights: the inverse document frequency of each n-gram (Keras gives unknown ones
            their mean).
        character_vocabulary, character_idf_weights: the same for character n-grams
            (`CHARACTER_NGRAMS`); empty: the branch reads words only.
    """

    vocabulary: tuple
    sequence_length: int
    embedding_dim: int
    ngram_vocabulary: tuple = ()
    idf_weights: tuple = ()
    tokens: str = DEFAULT_TOKENS
    character_vocabulary: tuple = ()
    character_idf_weights: tuple = ()

    def build_inputs(self, embedding_dim=None):
        """`(inputs, features)`: a raw-string Keras Input and the embedded token sequence, each
        token `embedding_dim` wide (default: the spec's)."""
        inputs = keras.Input(shape=(), dtype="string", name="text")
        tokens = layers.TextVectorization(vocabulary=list(self.vocabulary), output_sequence_length=self.sequence_length,
                                          standardize=_STANDARDIZE[self.tokens], name="tokenize")(inputs)
        features = layers.Embedding(len(self.vocabulary) + len(_RESERVED_TOKENS), embedding_dim or self.embedding_dim,
                                    name="embed")(tokens)
        return inputs, features

    def build_ngrams(self, inputs, scale=None):
        """The bag of word 1- and 2-grams of the raw-string `inputs`, TF-IDF weighted and scaled
        to unit length (as scikit-learn's `TfidfVectorizer` gives a linear model), beside the
        same for character n-grams when the spec has them (as scikit-learn's `FeatureUnion` of
        the two), then scaled by `scale` (default `NGRAM_SCALE`)."""
        if not self.ngram_vocabulary:
            raise ValueError("This text spec has no n-gram vocabulary; build it with spec_from_texts.")
        counts = layers.TextVectorization(ngrams=NGRAMS, output_mode="tf_idf", vocabulary=list(self.ngram_vocabulary),
                                          idf_weights=np.asarray(self.idf_weights, "float32"),
                                          name="ngrams")(inputs)
        unit = layers.UnitNormalization(name="ngrams_unit")(counts)
        if self.character_vocabulary:
            # Unknown character n-grams weigh nothing (as in scikit-learn): one text in a few
            # has many, and at Keras's mean weight their column would dwarf the known ones.
            characters = layers.TextVectorization(
                output_mode="tf_idf", vocabulary=[_OUT_OF_VOCABULARY, *self.character_vocabulary],
                idf_weights=np.asarray([0.0, *self.character_idf_weights], "float32"), name="character_ngrams",
                **CHARACTER_CUTTING)(inputs)
            unit = layers.Concatenate(name="ngrams_both")(
                [unit, layers.UnitNormalization(name="character_ngrams_unit")(characters)])
        return layers.Rescaling(NGRAM_SCALE if scale is None else scale, name="ngrams_scale")(unit)

    @property
    def spatial_shape(self):
        """The shape the cells see, without channels: one position per token."""
        return (self.sequence_length,)

    def to_dict(self):
        return {"dtype": "string", "shape": [], "tokens": self.tokens, "sequence_length": self.sequence_length,
                "vocabulary_size": len(self.vocabulary), "ngram_vocabulary_size": len(self.ngram_vocabulary),
                "character_ngram_vocabulary_size": len(self.character_vocabulary)}

    def check(self, x, name="x"):
        return as_string_dataset(check_texts(x, name=name))


def spec_from_texts(texts, *, max_vocabulary, sequence_length, embedding_dim, length_percentile=95, ngrams=True,
                    tokens=DEFAULT_TOKENS, character_ngrams=True):
    """Adapt a vocabulary of `tokens` (one of `TOKENIZATIONS`) on `texts` and pick the sequence
    length (the `length_percentile`-th percentile of token counts, within [8, 256]) unless
    `sequence_length` is given; count the n-grams' vocabulary and weights only when `ngrams` (a
    space without the n-gram branch never reads them), those of characters too when
    `character_ngrams`."""
    # Ragged: counting tokens must not pad every text to the longest (one 10 MB text among 40
    # made a 40 x 2M-token matrix, 44 s and 640 MB, where the counts take a fraction of that).
    if tokens not in TOKENIZATIONS:
        raise ValueError(f"tokens must be one of {TOKENIZATIONS}, got {tokens!r}.")
    adapter = layers.TextVectorization(max_tokens=max_vocabulary + len(_RESERVED_TOKENS), ragged=True,
                                       standardize=_STANDARDIZE[tokens])
    adapter.adapt(tf.constant(texts.astype(str)))
    vocabulary = tuple(token for token in adapter.get_vocabulary() if token not in _RESERVED_TOKENS)
    if not vocabulary:
        raise ValueError("The training texts contain no words; check that x holds the texts.")
    if sequence_length is None:
        tokenized = adapter(tf.constant(texts.astype(str)))
        counts = tokenized.row_lengths().numpy()
        sequence_length = int(np.clip(np.ceil(np.percentile(counts, length_percentile)), MIN_SEQUENCE_LENGTH,
                                      MAX_SEQUENCE_LENGTH))
    ngram_vocabulary, idf_weights = ngram_statistics(texts, max_ngrams=max_vocabulary) if ngrams else ((), ())
    character_vocabulary, character_idf_weights = (
        ngram_statistics(texts, max_ngrams=int(CHARACTER_VOCABULARY_FACTOR * max_vocabulary), **CHARACTER_CUTTING)
        if ngrams and character_ngrams else ((), ()))
    return TextInputSpec(vocabulary=vocabulary, sequence_length=int(sequence_length), embedding_dim=int(embedding_dim),
                         ngram_vocabulary=ngram_vocabulary, idf_weights=idf_weights, tokens=tokens,
                         character_vocabulary=character_vocabulary, character_idf_weights=character_idf_weights)


def ngram_statistics(texts, *, max_ngrams, batch_size=256, **cutting):
    """The `max_ngrams` most frequent n-grams of `texts` and their inverse document frequencies,
    `log(1 + texts / (1 + texts holding it))` (Keras's TF-IDF weighting), counted here since
    Keras keeps the weights it adapts private. The n-grams are word 1- and 2-grams unless
    `cutting` gives `TextVectorization`'s `standardize`, `split` and `ngrams` otherwise."""
    cutting = {"ngrams": NGRAMS, **cutting}
    adapter = layers.TextVectorization(max_tokens=max_ngrams + 1, output_mode="multi_hot", **cutting)
    texts = tf.constant(texts.astype(str))
    adapter.adapt(texts)
    vocabulary = tuple(str(token) for token in adapter.get_vocabulary()[1:])  # [UNK] first
    documents = np.zeros(len(vocabulary) + 1)
    for start in range(0, int(texts.shape[0]), batch_size):
        documents += adapter(texts[start:start + batch_size]).numpy().sum(axis=0)
    idf = np.log1p(int(texts.shape[0]) / (1.0 + documents[1:]))
    return vocabulary, tuple(float(w) for w in idf)


def as_string_dataset(texts, batch_size=256):
    """Batched `tf.data` of raw strings (Keras cannot take numpy string arrays directly)."""
    return tf.data.Dataset.from_tensor_slices(tf.constant(np.asarray(texts).astype(str))).batch(batch_size)
