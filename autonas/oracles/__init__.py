"""Search strategies: keras-tuner Oracles that decide which architecture to try next.

Oracles never build models; they only see hyperparameters and scores.
"""
from autonas.oracles.controller import LSTMController
from autonas.oracles.decisions import SpaceEncoding
from autonas.oracles.evolution import RegularizedEvolutionOracle
from autonas.oracles.factory import ORACLE_NAMES, make_oracle
from autonas.oracles.random_search import RandomSearchOracle
from autonas.oracles.recovery import RecoverableOracle
from autonas.oracles.reinforce import ReinforceOracle

__all__ = [
    "LSTMController",
    "ORACLE_NAMES",
    "RandomSearchOracle",
    "RecoverableOracle",
    "RegularizedEvolutionOracle",
    "ReinforceOracle",
    "SpaceEncoding",
    "make_oracle",
]
