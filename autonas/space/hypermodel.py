"""The cell search space as keras-tuner hyperparameters, and a HyperModel that builds it.

Each cell (normal, reduce) has `num_blocks` blocks; each block declares, in order,
`<cell>_b<k>_input_a`, `<cell>_b<k>_op_a`, `<cell>_b<k>_input_b`, `<cell>_b<k>_op_b`, all
`Choice`s, so any keras-tuner oracle (RandomSearch, BayesianOptimization, Hyperband, or autonas's
own) can search it, and a mutation of one hyperparameter changes one input or one operation.

Example:
    >>> import keras_tuner
    >>> space = CellSearchSpace(num_blocks=2)
    >>> hp = keras_tuner.HyperParameters()
    >>> genotype = space.declare(hp)        # defaults: first choice everywhere
    >>> space.values(genotype) == hp.values
    True
"""
from __future__ import annotations

import keras
import keras_tuner

from autonas.space.genotype import NUM_CELL_INPUTS, Block, Cell, Genotype
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
    """

    def __init__(self, operations=IMAGE_OPERATIONS, num_blocks=4, rank=2, reduction_cell=True):
        self.operations = tuple(operations)
        check_operations(self.operations, rank)
        if int(num_blocks) < 1:
            raise ValueError(f"num_blocks must be at least 1, got {num_blocks}.")
        self.num_blocks = int(num_blocks)
        self.rank = rank
        self.cell_types = CELL_TYPES if reduction_cell else CELL_TYPES[:1]

    @staticmethod
    def _name(cell, block, slot, what):
        return f"{cell}_b{block}_{what}_{slot}"

    def declare(self, hp):
        """Declare (or read) this space's hyperparameters on `hp` and return the genotype."""
        cells = {}
        for cell in self.cell_types:
            blocks = []
            for index in range(self.num_blocks):
                chosen = {}
                for slot in SLOTS:
                    chosen[f"input_{slot}"] = hp.Choice(
                        self._name(cell, index, slot, "input"), list(range(NUM_CELL_INPUTS + index)))
                    chosen[f"op_{slot}"] = hp.Choice(self._name(cell, index, slot, "op"), list(self.operations))
                blocks.append(Block(**chosen))
            cells[cell] = Cell.from_blocks(blocks)
        return Genotype(**cells)

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
        return values


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
        size: the `NetworkSize` used for search trials.
        optimizer: "sgd" (Nesterov momentum 0.9, the optimizer of NASNet, ENAS and DARTS) or
            "adam" (which moves rarely seen rows of an embedding table much faster).
        learning_rate: the optimizer's initial learning rate (autonas's trainers decay it per
            epoch with `autonas.engine.budget.CosineEpochs`); None picks `DEFAULT_LEARNING_RATES`.
    """

    def __init__(self, space, *, inputs_builder, num_classes, size=NetworkSize(), optimizer="sgd",
                 learning_rate=None, name="cell_classifier"):
        super().__init__(name=name)
        self.space = space
        self.inputs_builder = inputs_builder
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
        inputs, features = self.inputs_builder()
        return build_classifier(genotype, inputs=inputs, features=features, num_classes=self.num_classes,
                                size=size or self.size)

    def build_genotype(self, genotype, *, size=None):
        """A compiled model for `genotype` at `size` (default: the search size)."""
        model = self.network(genotype, size=size)
        model.compile(optimizer=make_optimizer(self.optimizer, self.learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        # Creating the optimizer's slots now, outside `fit`, spares the first training step a
        # second trace (tf.function retraces when variables are created in its first call).
        model.optimizer.build(model.trainable_variables)
        return model
