"""The cell search space as keras-tuner hyperparameters, and a HyperModel that builds it.

Each cell (normal, reduce) has `num_blocks` blocks; each block declares, in order,
`<cell>_b<k>_input_a`, `<cell>_b<k>_op_a`, `<cell>_b<k>_input_b`, `<cell>_b<k>_op_b`, all
`Choice`s, so any keras-tuner oracle (RandomSearch, BayesianOptimization, Hyperband, or autonas's
own) can search it, and a mutation of one hyperparameter changes one input or one operation.
A space given more than one n-gram branch, head pooling or embedding width (texts), or width
multiplier, declares `head_ngrams` before the cells and `head_pooling`, `embedding_dim` and
`width_multiplier` after them, the same way.

Example:
    >>> import keras_tuner
    >>> space = CellSearchSpace(num_blocks=2)
    >>> hp = keras_tuner.HyperParameters()
    >>> genotype = space.declare(hp)        # defaults: first choice everywhere
    >>> space.values(genotype) == hp.values
    True
"""
from __future__ import annotations

import contextlib

import keras
import keras_tuner

from autonas.space.genotype import NGRAM_BRANCHES, NUM_CELL_INPUTS, POOLINGS, Block, Cell, Genotype, Head
from autonas.space.network import NetworkSize, build_classifier
from autonas.space.operations import IMAGE_OPERATIONS, check_operations

CELL_TYPES = ("normal", "reduce")
SLOTS = ("a", "b")


class CellSearchSpace:
    """Genotypes with `num_blocks` blocks per cell over a list of registered operations.

    Args:
        operations: operation names from the registry (all must support `rank`).
        num_blocks: blocks per cell (B; NASNet uses 5, DARTS 4).
        rank: 2 for images, 1 for sequences.
        reduction_cell: whether to search a reduction cell too; False for networks without
            reductions (see `autonas.space.network.default_reductions`).
        poolings: the head poolings to search (`autonas.space.genotype.POOLINGS`); one entry
            fixes it.
        ngram_branches: the n-gram branches to search (`NGRAM_BRANCHES`; anything but "none"
            needs a text network).
        embedding_widths: the token-embedding widths to search (text networks); the default,
            `(None,)`, leaves the width to the task (`Genotype.embedding` None).
        width_multipliers: the multipliers of the network's filters to search
            (`Genotype.width_multiplier`); the default, `(None,)`, builds every size as given.
    """

    def __init__(self, operations=IMAGE_OPERATIONS, num_blocks=4, rank=2, reduction_cell=True,
                 poolings=POOLINGS[:1], ngram_branches=NGRAM_BRANCHES[:1], embedding_widths=(None,),
                 width_multipliers=(None,)):
        self.operations = tuple(operations)
        check_operations(self.operations, rank)
        if int(num_blocks) < 1:
            raise ValueError(f"num_blocks must be at least 1, got {num_blocks}.")
        self.num_blocks = int(num_blocks)
        self.rank = rank
        self.cell_types = CELL_TYPES if reduction_cell else CELL_TYPES[:1]
        self.poolings, self.ngram_branches = tuple(poolings), tuple(ngram_branches)
        for name, chosen, known in (("poolings", self.poolings, POOLINGS),
                                    ("ngram_branches", self.ngram_branches, NGRAM_BRANCHES)):
            if not chosen or not set(chosen) <= set(known) or len(set(chosen)) != len(chosen):
                raise ValueError(f"{name} must list distinct entries of {known}, got {list(chosen)!r}.")
        self.embedding_widths = _sizes("embedding_widths", embedding_widths, int)
        self.width_multipliers = _sizes("width_multipliers", width_multipliers, float)

    @property
    def network_choices(self):
        """The decisions this space searches outside the cells, `{hyperparameter name:
        options}` (those with more than one option), in declaration order."""
        choices = {"head_ngrams": self.ngram_branches, "head_pooling": self.poolings,
                   "embedding_dim": self.embedding_widths, "width_multiplier": self.width_multipliers}
        return {name: options for name, options in choices.items() if len(options) > 1}

    def choices_configuration(self):
        """The keywords that rebuild this space's `network_choices` (None when it has none), as
        a resumed search's record keeps them."""
        if not self.network_choices:
            return None
        configuration = {"poolings": list(self.poolings), "ngram_branches": list(self.ngram_branches),
                         "embedding_widths": list(self.embedding_widths)}
        if "width_multiplier" in self.network_choices:  # absent from the records of earlier searches
            configuration["width_multipliers"] = list(self.width_multipliers)
        return configuration

    @staticmethod
    def _name(cell, block, slot, what):
        return f"{cell}_b{block}_{what}_{slot}"

    def declare(self, hp):
        """Declare (or read) this space's hyperparameters on `hp` and return the genotype.

        With "alone" among several n-gram branches, the cells, the pooling, the embedding width
        and the width multiplier are declared in a keras-tuner conditional scope on `head_ngrams`:
        a network without cells has no cell decisions, so every such network is one configuration
        (tried once, never mutated in its unused cells), and its genotype carries the space's
        default cells.
        """
        ngrams = self._choose(hp, "head_ngrams", self.ngram_branches)
        with self._cells_scope(hp):
            cells = self._declare_cells(hp)
            pooling = self._choose(hp, "head_pooling", self.poolings)
            embedding = self._choose(hp, "embedding_dim", self.embedding_widths)
            multiplier = self._choose(hp, "width_multiplier", self.width_multipliers)
        if ngrams == "alone":
            cells, pooling = self._declare_cells(keras_tuner.HyperParameters()), self.poolings[0]
        return Genotype(**cells, head=Head(pooling=pooling, ngrams=ngrams), embedding=embedding,
                        width_multiplier=multiplier)

    def _declare_cells(self, hp):
        """The cells chosen on `hp`, or None when their decisions are inactive (`declare`)."""
        chosen = {cell: [{f"{what}_{slot}": hp.Choice(self._name(cell, index, slot, what), options)
                          for slot in SLOTS
                          for what, options in (("input", list(range(NUM_CELL_INPUTS + index))),
                                                ("op", list(self.operations)))}
                         for index in range(self.num_blocks)]
                  for cell in self.cell_types}
        if any(value is None for blocks in chosen.values() for block in blocks for value in block.values()):
            return None
        return {cell: Cell.from_blocks(Block(**block) for block in blocks) for cell, blocks in chosen.items()}

    def _choose(self, hp, name, options):
        """A decision outside the cells: declared when it has several options, else the only one."""
        return hp.Choice(name, list(options)) if len(options) > 1 else options[0]

    def _cells_scope(self, hp):
        """Where the cells are declared: only under the n-gram branches that read them."""
        reading = [branch for branch in self.ngram_branches if branch != "alone"]
        if len(self.ngram_branches) > 1 and len(reading) < len(self.ngram_branches):
            return hp.conditional_scope("head_ngrams", reading)
        return contextlib.nullcontext()

    def hyperparameters(self):
        """A fresh `keras_tuner.HyperParameters` holding the whole space."""
        hp = keras_tuner.HyperParameters()
        self.declare(hp)
        return hp

    def values(self, genotype):
        """The hyperparameter values that encode `genotype` (e.g. to warm-start a search).

        A space without a reduction cell ignores the genotype's reduction cell.

        Raises:
            ValueError: if the genotype does not fit this space (block count, operations).
        """
        values = {}
        if genotype.ending.ngrams == "alone" and "alone" in self.ngram_branches and (
                "head_ngrams" in self.network_choices):
            return {"head_ngrams": "alone"}  # no cell decisions (see `declare`)
        for cell_type in self.cell_types:
            cell = getattr(genotype, cell_type)
            if cell is None:
                raise ValueError(f"The genotype has no {cell_type} cell, but this space searches one.")
            if len(cell.blocks) != self.num_blocks:
                raise ValueError(
                    f"The {cell_type} cell has {len(cell.blocks)} blocks but the space has {self.num_blocks}; "
                    "set num_blocks to match."
                )
            if cell != Cell.from_blocks(cell.blocks):
                raise ValueError(
                    f"The {cell_type} cell concatenates states {list(cell.concat)}, but this space always "
                    "concatenates the unused block outputs; the genotype cannot be expressed here."
                )
            for index, block in enumerate(cell.blocks):
                for slot, (state, op) in zip(SLOTS, block.pairs()):
                    if op not in self.operations:
                        raise ValueError(f"Operation {op!r} of the {cell_type} cell is not in this space.")
                    values[self._name(cell_type, index, slot, "input")] = state
                    values[self._name(cell_type, index, slot, "op")] = op
        for name, chosen, options in (("head_ngrams", genotype.ending.ngrams, self.ngram_branches),
                                      ("head_pooling", genotype.ending.pooling, self.poolings)):
            if chosen not in options:
                raise ValueError(f"The genotype's head ({genotype.ending}) is not in this space, whose heads "
                                 f"have {name[5:]} {list(options)}.")
            if name in self.network_choices:
                values[name] = chosen
        width = genotype.embedding
        if "embedding_dim" in self.network_choices:
            width = values["embedding_dim"] = width or self.embedding_widths[0]  # None: the task's, the first
        if width not in self.embedding_widths:
            raise ValueError(f"The genotype's embedding width ({width}) is not in this space, whose widths are "
                             f"{list(self.embedding_widths)}.")
        multipliers = [multiplier or 1.0 for multiplier in self.width_multipliers]
        multiplier = genotype.width_multiplier or 1.0
        if multiplier not in multipliers:
            if genotype.width_multiplier is not None:
                raise ValueError(f"The genotype's width multiplier ({multiplier:g}) is not in this space, whose "
                                 f"multipliers are {multipliers}.")
            multiplier = multipliers[0]  # a genotype that names none (a starting cell) takes the space's first
        if "width_multiplier" in self.network_choices:
            values["width_multiplier"] = multiplier
        return values


def _sizes(name, options, kind):
    """`options` as a tuple: `(None,)` (the task's own), or distinct positive values of `kind`."""
    options = tuple(options)
    if options != (None,) and (not options or len(set(options)) != len(options) or not all(
            isinstance(option, kind) and not isinstance(option, bool) and option > 0 for option in options)):
        raise ValueError(f"{name} must list distinct positive {kind.__name__}s, got {list(options)!r}.")
    return options


OPTIMIZERS = ("sgd", "adam")
# Peak learning rates used when none is given: NASNet/DARTS's SGD setting, and the Adam rate that
# did marginally better than 1e-2 on four text data sets (docs/how-a-fit-works.md, "Text defaults").
DEFAULT_LEARNING_RATES = {"sgd": 0.1, "adam": 3e-3}


def check_optimizer(name):
    """`name` if it is one of `OPTIMIZERS`, else a ValueError naming the choices."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}.")
    return name


def make_optimizer(name, learning_rate, global_clipnorm=None):
    """A fresh Keras optimizer called `name` (see `OPTIMIZERS`), optionally clipping the global
    gradient norm."""
    if check_optimizer(name) == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True,
                                    global_clipnorm=global_clipnorm)
    return keras.optimizers.Adam(learning_rate=learning_rate, global_clipnorm=global_clipnorm)


class CellHyperModel(keras_tuner.HyperModel):
    """Builds compiled classifiers from the cell space.

    Args:
        space: a `CellSearchSpace`.
        inputs_builder: callable returning `(inputs, features)`: the raw Keras Input and the
            preprocessed tensor the cells start from (owned by the task: pixels, text...).
        num_classes: number of classes.
        ngrams_builder: callable taking the raw Keras Input and returning its bag-of-n-grams
            vector, for heads with an n-gram branch (texts); None where there is none.
        size: the `NetworkSize` used for search trials.
        optimizer: "sgd" (Nesterov momentum 0.9, the optimizer of NASNet, ENAS and DARTS) or
            "adam" (which moves rarely seen rows of an embedding table much faster).
        learning_rate: the optimizer's initial learning rate (autonas's trainers decay it per
            epoch with `autonas.engine.budget.CosineEpochs`); None picks `DEFAULT_LEARNING_RATES`.
    """

    def __init__(self, space, *, inputs_builder, num_classes, ngrams_builder=None, size=NetworkSize(),
                 optimizer="sgd", learning_rate=None, name="cell_classifier"):
        super().__init__(name=name)
        self.space = space
        self.inputs_builder = inputs_builder
        self.ngrams_builder = ngrams_builder
        self.num_classes = int(num_classes)
        self.size = size
        self.optimizer = check_optimizer(optimizer)
        self.learning_rate = float(DEFAULT_LEARNING_RATES[optimizer] if learning_rate is None else learning_rate)

    def build(self, hp):
        return self.build_genotype(self.space.declare(hp))

    def count_params(self, genotype, *, size=None):
        """Parameters of `genotype`'s classifier at `size` (default: the search size), uncompiled."""
        return self.network(genotype, size=size).count_params()

    def network(self, genotype, *, size=None):
        """`genotype`'s classifier at `size` (default: the search size), uncompiled: for
        counting and timing, not training."""
        inputs, features = self.inputs_builder(
            **({} if genotype.embedding is None else {"embedding_dim": genotype.embedding}))
        ngrams = None
        if genotype.ending.ngrams != "none" and self.ngrams_builder is not None:
            ngrams = self.ngrams_builder(inputs)
        return build_classifier(genotype, inputs=inputs, features=features, num_classes=self.num_classes,
                                size=(size or self.size).widened(genotype.width_multiplier), ngrams=ngrams)

    def build_genotype(self, genotype, *, size=None):
        """A compiled model for `genotype` at `size` (default: the search size)."""
        model = self.network(genotype, size=size)
        model.compile(optimizer=make_optimizer(self.optimizer, self.learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        # Creating the optimizer's slots now, outside `fit`, spares the first training step a
        # second trace (tf.function retraces when variables are created in its first call).
        model.optimizer.build(model.trainable_variables)
        return model
