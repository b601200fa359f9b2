"""One-shot architecture search: a supernet sharing weights across every child of a cell space.

`Supernet` holds every candidate operation on every edge and takes the architecture as an int
tensor (`ArchitectureEncoding`); `SupernetTrainer` trains and scores children with the shared
weights without retracing; `load_child_weights` copies a child's weights into its slots.
"""
from autonas.oneshot.darts import DartsSearch
from autonas.oneshot.encoding import ArchitectureEncoding, genotype_to_vector, vector_to_genotype
from autonas.oneshot.result import OneShotResult
from autonas.oneshot.run import ONE_SHOT_NAMES, one_shot_leaderboard, run_one_shot
from autonas.oneshot.supernet import CellPlacement, Supernet, place_cells
from autonas.oneshot.training import SupernetTrainer
from autonas.oneshot.weights import load_child_weights

__all__ = [
    "ArchitectureEncoding", "CellPlacement", "DartsSearch", "Supernet", "SupernetTrainer", "genotype_to_vector",
    "load_child_weights", "place_cells", "vector_to_genotype", "ONE_SHOT_NAMES", "OneShotResult",
    "one_shot_leaderboard", "run_one_shot",
]
