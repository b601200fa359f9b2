"""The search space: genotypes, the operation registry, cell and network builders."""
from autonas.space.genotype import Block, Cell, Genotype
from autonas.space.hypermodel import CellHyperModel, CellSearchSpace
from autonas.space.network import NetworkSize, build_classifier
from autonas.space.operations import IMAGE_OPERATIONS, OPERATIONS, operations_for_rank
from autonas.space.published import AMOEBANET_A, DARTS_V2, ENAS, NASNET_A, PUBLISHED_CELLS

__all__ = [
    "AMOEBANET_A", "Block", "Cell", "CellHyperModel", "CellSearchSpace", "DARTS_V2", "ENAS", "Genotype",
    "IMAGE_OPERATIONS", "NASNET_A", "NetworkSize", "OPERATIONS", "PUBLISHED_CELLS", "build_classifier",
    "operations_for_rank",
]
