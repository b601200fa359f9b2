"""Text classification by architecture search over 1-D cells; raw strings in, raw strings served."""
from __future__ import annotations

import numbers

import numpy as np

from autonas.data import text as text_data
from autonas.data.labels import check_labels, check_splittable, encode_labels, fit_classes
from autonas.data.pipeline import from_arrays, split_arrays
from autonas.engine.blend import find_partner
from autonas.engine.search import is_one_shot
from autonas.space.genotype import NGRAM_BRANCHES, POOLINGS
from autonas.space.operations import operations_for_rank
from autonas.tasks.base import SearchClassifier
from autonas.tasks.parameters import check_integer

TEXT_OPERATIONS = operations_for_rank(1)


class TextSearchClassifier(SearchClassifier):
    """Search 1-D cells over embedded tokens for a text classifier, then retrain the best.

    Tokenisation (`TextVectorization` with a vocabulary adapted on the training texts) and the
    embedding live inside the model, so the exported SavedModel takes a batch of raw strings.
    The search also picks how the network ends: average, max or attention pooling over the
    cells' positions, and a TF-IDF bag of word 1- and 2-grams beside the cells, or alone (a
    linear model over it); `best_genotype_.head` says which (None: average pooling alone).
    Sequences shorter than 64 tokens get no reduction cells (sentence classifiers pool over the
    whole sentence), so only the normal cell is searched and `best_genotype_.reduce` is None.
    Parameters shared with `ImageSearchClassifier` mean the same (`parallel_trials` too: trials
    side by side in worker processes, since one small trial leaves cores idle); the text-only
    ones are below. Text, like images, trains with Adam: SGD led it on the cells alone, but
    under SGD max pooling failed to train and the n-grams alone underfit (docs/how-a-fit-works.md,
    "Text defaults").

    Args:
        max_vocabulary: most frequent tokens kept (others map to the unknown token), and as
            many word 1- and 2-grams for the n-gram branch, and 2.5 times as many character
            2- to 5-grams.
        sequence_length: tokens kept per text; None picks the 95th percentile of the training
            texts' token counts, within [8, 256].
        embedding_dim: width of the token embedding, or a list of widths for the search to
            choose from (`best_genotype_.embedding` says which won).
        tokens: how the embedded sequence cuts texts into tokens: "punctuation" (the default:
            lower-cased words, and punctuation marks as tokens of their own), "words"
            (lower-cased, punctuation dropped: Keras's default) or "cased" (as "punctuation",
            with case kept, as Kim (2014) did for TREC). The n-gram branch always reads
            lower-cased words.
        blend_ngrams: when the winner has cells, average its class probabilities with those
            of the search's best network of n-grams alone if that average scores higher on the
            validation data (`blended_trial_` says which trial; the n-grams network retrains in
            seconds). False: the winner alone.

    Example:
        >>> clf = TextSearchClassifier(time_limit="15m", seed=0)
        >>> clf.fit(["good film", "bad film", ...], ["pos", "neg", ...])     # doctest: +SKIP
        >>> clf.predict(["a good one"])                                        # doctest: +SKIP
    """

    project_name = "text_search"
    rank = 1

    def __init__(self, *, max_trials=None, epochs=None, final_epochs=None, time_limit=None, oracle="evolution",
                 seed=None, directory=None, overwrite=False, verbose=1, retrain=True, batch_size=128,
                 num_blocks=4, operations=None, search_filters=16, search_normal_cells=1, final_filters=32,
                 final_normal_cells=2, optimizer="adam", learning_rate=None, dropout=0.2, warm_start=None,
                 distribution_strategy=None, parallel_trials=1, successive_halving=False, objective="val_accuracy",
                 max_params=None, max_latency_ms=None, latency_batch_size=None, width_multipliers=None,
                 max_vocabulary=20000, sequence_length=None, embedding_dim=64, tokens=text_data.DEFAULT_TOKENS,
                 blend_ngrams=True):
        super().__init__(max_trials=max_trials, epochs=epochs, final_epochs=final_epochs, time_limit=time_limit,
                         oracle=oracle, seed=seed, directory=directory, overwrite=overwrite, verbose=verbose,
                         retrain=retrain, batch_size=batch_size, num_blocks=num_blocks, operations=operations,
                         search_filters=search_filters, search_normal_cells=search_normal_cells,
                         final_filters=final_filters, final_normal_cells=final_normal_cells,
                         optimizer=optimizer, learning_rate=learning_rate, dropout=dropout, warm_start=warm_start,
                         distribution_strategy=distribution_strategy, parallel_trials=parallel_trials,
                         successive_halving=successive_halving, objective=objective, max_params=max_params,
                         max_latency_ms=max_latency_ms, latency_batch_size=latency_batch_size,
                         width_multipliers=width_multipliers)
        self.max_vocabulary = max_vocabulary
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.tokens = tokens
        self.blend_ngrams = blend_ngrams

    def __sklearn_tags__(self):
        """Texts are a 1-D sequence of strings (or one column of them), not numeric rows."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        return tags

    def _default_operations(self):
        return TEXT_OPERATIONS

    def _network_choices(self):
        """Every head pooling and n-gram branch, so Kim's CNN (max pooling) and TF-IDF + a linear
        model (n-grams alone) are points of the space, and the embedding widths when several are
        given; a one-shot supernet has the default head and one width."""
        if is_one_shot(self.oracle):
            return super()._network_choices()
        widths = self._embedding_widths()
        return {"poolings": POOLINGS, "ngram_branches": NGRAM_BRANCHES,
                **({"embedding_widths": widths} if len(widths) > 1 else {}), **super()._network_choices()}

    def _embedding_widths(self):
        """The embedding widths asked for, as a tuple of ints (one when `embedding_dim` is one)."""
        if isinstance(self.embedding_dim, numbers.Integral):
            return (int(self.embedding_dim),)
        return tuple(int(width) for width in self.embedding_dim)

    def _blend_partner(self, outcome, data, *, objective, strategy):
        if not self.blend_ngrams:
            return None
        return find_partner(outcome, data, objective=objective, strategy=strategy, verbose=self.verbose)

    def _check_params(self):
        if not _is_positive_integer(self.max_vocabulary):
            raise ValueError(f"max_vocabulary must be a positive integer, got {self.max_vocabulary!r}.")
        widths = self.embedding_dim
        if not _is_positive_integer(widths) and not (
                isinstance(widths, (list, tuple)) and widths and len(set(widths)) == len(widths)
                and all(_is_positive_integer(width) for width in widths)):
            raise ValueError(f"embedding_dim must be a positive integer or a list of distinct ones to search, "
                             f"got {widths!r}.")
        if len(self._embedding_widths()) > 1 and is_one_shot(self.oracle):
            raise ValueError(f"oracle={self.oracle!r} trains one supernet with one embedding width; pass one "
                             f"embedding_dim, or a trial oracle such as 'evolution' to search {list(widths)}.")
        if self.tokens not in text_data.TOKENIZATIONS:
            raise ValueError(f"tokens must be one of {text_data.TOKENIZATIONS}, got {self.tokens!r}.")
        if not isinstance(self.blend_ngrams, (bool, np.bool_)):
            raise ValueError(f"blend_ngrams must be True or False, got {self.blend_ngrams!r}.")
        if self.sequence_length is not None:  # None: the 95th percentile of the training texts
            check_integer("sequence_length", self.sequence_length, 1)
        return super()._check_params()

    def _prepare_fit_data(self, x, y, validation_split, validation_data, seed, batch_size):
        texts = text_data.check_texts(x)
        y = check_labels(y, len(texts))
        classes = fit_classes(y)
        labels = encode_labels(y, classes)
        if validation_data is not None:
            try:
                x_val, y_val = validation_data
            except (TypeError, ValueError):
                raise ValueError("validation_data must be a pair (x_val, y_val).") from None
            x_train, y_train = texts, labels
            x_val = text_data.check_texts(x_val, name="validation x")
            y_val = encode_labels(check_labels(y_val, len(x_val)), classes)
        else:
            check_splittable(labels, classes)
            x_train, x_val, y_train, y_val = split_arrays(texts, labels, validation_split, seed)
        spec = text_data.spec_from_texts(x_train, max_vocabulary=self.max_vocabulary,
                                         sequence_length=self.sequence_length,
                                         embedding_dim=self._embedding_widths()[0],
                                         ngrams=not is_one_shot(self.oracle), tokens=self.tokens)
        data = from_arrays(x_train.astype(str), y_train, x_val.astype(str), y_val, batch_size=batch_size,
                           seed=seed)
        return data, spec, classes

    def _check_predict_inputs(self, x):
        return self.input_spec_.check(x)

    def _probe_inputs(self):
        words = list(self.input_spec_.vocabulary[:50]) or ["text"]
        long_text = " ".join(words * (4 * self.input_spec_.sequence_length // len(words) + 1))
        return np.array(["", "unseen wörds ✓ 文字", words[0], long_text, " ".join(words[:5]).upper()])


def _is_positive_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1
