"""First-order DARTS on the supernet: the search loop (`search.py`), the architecture logits and
their discretisation into a genotype (`architecture.py`), and the compiled architecture, weight
and scoring steps (`steps.py`)."""
from autonas.oneshot.darts.search import DartsSearch

__all__ = ["DartsSearch"]
