"""autonas: neural architecture search for Keras users.

    >>> import autonas
    >>> clf = autonas.ImageSearchClassifier(max_trials=10, time_limit="10m")
    >>> clf.fit(x_train, y_train).score(x_test, y_test)      # doctest: +SKIP
    >>> clf.export("serving/model")                           # doctest: +SKIP
"""
from autonas.quiet_start import end_quiet_start, quiet_command_line_start

quiet_command_line_start()  # only as `autonas ...`, `python -m autonas` or when asked: before TensorFlow loads

from autonas import layers  # registers the custom layers for keras.saving.load_model
from autonas.oracles import RegularizedEvolutionOracle, ReinforceOracle
from autonas.plots import plot_cell, plot_front, plot_one_shot, plot_search  # matplotlib is imported only when drawing
from autonas.space import (
    AMOEBANET_A,
    DARTS_V2,
    ENAS,
    NASNET_A,
    PUBLISHED_CELLS,
    Block,
    Cell,
    CellHyperModel,
    CellSearchSpace,
    Genotype,
    NetworkSize,
)
from autonas.tasks import ImageSearchClassifier, TextSearchClassifier

__version__ = "0.1.0"

end_quiet_start()  # TensorFlow is loaded: stderr back, less its start-up notices

__all__ = [
    "AMOEBANET_A",
    "Block",
    "Cell",
    "CellHyperModel",
    "CellSearchSpace",
    "DARTS_V2",
    "ENAS",
    "Genotype",
    "ImageSearchClassifier",
    "NASNET_A",
    "NetworkSize",
    "PUBLISHED_CELLS",
    "RegularizedEvolutionOracle",
    "ReinforceOracle",
    "TextSearchClassifier",
    "layers",
    "plot_cell",
    "plot_front",
    "plot_one_shot",
    "plot_search",
]
