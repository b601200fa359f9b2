"""One-shot architecture search: a supernet sharing weights across every child of a cell space.

`Supernet` holds every candidate operation on every edge and takes the architecture as an int
tensor (`ArchitectureEncoding`); `SupernetTrainer` trains and scores children with the shared
weights without retracing; `load_child_weights` copies a child's weights into its slots.
"""
from autonas.oneshot.darts import DartsSearch
from autonas.oneshot.encoding import ArchitectureEncoding, genotype_to_vector, vector_to_genotype
from autonas.oneshot.supernet import Supernet
from autonas.oneshot.training import SupernetTrainer
from autonas.oneshot.weights import load_child_weights
from autonas.space.network import CellPlacement, place_cells

__all__ = [
    "ArchitectureEncoding", "CellPlacement", "DartsSearch", "Supernet", "SupernetTrainer", "genotype_to_vector",
    "load_child_weights", "place_cells", "vector_to_genotype",
]
