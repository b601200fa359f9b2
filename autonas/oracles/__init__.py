"""Search strategies: keras-tuner Oracles that decide which architecture to try next.

Oracles never build models; they only see hyperparameters and scores.
"""
from autonas.oracles.factory import ORACLE_NAMES, make_oracle

__all__ = ["ORACLE_NAMES", "make_oracle"]
