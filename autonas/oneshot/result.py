"""What a one-shot search (ENAS, DARTS) hands back: derived architectures and per-epoch progress.

Both methods end the same way: a few architectures derived from the trained supernet, each
scored on held-out batches with the shared weights, best first. The classifiers retrain the
best from scratch with the ordinary builder and list all of them in `leaderboard()`.
"""
from __future__ import annotations

import dataclasses

from autonas.space.genotype import Genotype


@dataclasses.dataclass(frozen=True)
class DerivedArchitecture:
    """One architecture taken from a trained supernet.

    Attributes:
        genotype: the architecture, in the same format every builder and oracle uses.
        score: its validation accuracy with the shared supernet weights (not trained alone).
        origin: how it was derived ("sampled" from the controller, "argmax" of DARTS's
            weights, ...).
    """

    genotype: Genotype
    score: float
    origin: str


@dataclasses.dataclass
class OneShotResult:
    """The outcome of a one-shot search.

    Attributes:
        method: "enas" or "darts".
        derived: `DerivedArchitecture`s, best score first.
        history: one dict per supernet epoch (method-specific statistics such as controller
            entropy, mean reward, the current most likely architecture).
        epochs: supernet epochs run.
        seconds: wall-clock seconds of the search, derivation included.
        peak_memory_mb: peak resident memory of the process during the search, in MiB.
    """

    method: str
    derived: list
    history: list
    epochs: int
    seconds: float
    peak_memory_mb: float

    @property
    def best(self):
        """The derived architecture with the highest shared-weight score."""
        return self.derived[0]
