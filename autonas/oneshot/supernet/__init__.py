"""The weight-sharing supernet: the model (`model.py`), its cells (`supercell.py`) and edges
(`edges.py`), the computations edges share (`shared.py`) and the flat weight layout they use
(`packing.py`), the architecture as an int vector (`architecture_vector.py`), shared-weight
training and scoring (`training.py`) (its graph-optimiser switch is `autonas.engine.graph_rewrites`), and
the memory estimate that refuses a supernet too large to train (`memory.py`)."""
from autonas.oneshot.supernet.architecture_vector import ArchitectureEncoding
from autonas.oneshot.supernet.model import Supernet
from autonas.oneshot.supernet.training import SupernetTrainer

__all__ = ["ArchitectureEncoding", "Supernet", "SupernetTrainer"]
