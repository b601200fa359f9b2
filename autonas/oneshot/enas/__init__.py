"""ENAS: an LSTM controller samples children of the supernet and learns from their shared-weight
scores (`search.py`); the derived candidates are capped in parameter-free operations
(`derivation.py`)."""
from autonas.oneshot.enas.search import EnasSearch

__all__ = ["EnasSearch"]
