"""One-shot architecture search: ENAS and DARTS on a supernet sharing weights across every child.

`supernet/` holds the supernet (every candidate operation on every edge, the architecture given
as an int vector), its compiled training and scoring, and its memory estimate; `enas/` and
`darts/` are the two searches over it; `parameter_free.py` is the remedy against collapse to
parameter-free cells both use; `run.py` is the classifiers' entry (`run_one_shot`), and
`result.py` what a search hands back.
"""
from autonas.oneshot.darts import DartsSearch
from autonas.oneshot.enas import EnasSearch
from autonas.oneshot.result import OneShotResult
from autonas.oneshot.run import ONE_SHOT_NAMES, one_shot_leaderboard, run_one_shot
from autonas.oneshot.supernet import ArchitectureEncoding, Supernet, SupernetTrainer

__all__ = [
    "ONE_SHOT_NAMES", "ArchitectureEncoding", "DartsSearch", "EnasSearch", "OneShotResult", "Supernet",
    "SupernetTrainer", "one_shot_leaderboard", "run_one_shot",
]
