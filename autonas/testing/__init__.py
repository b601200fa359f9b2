"""Test helpers for users of autonas and for autonas's own tests."""
from autonas.testing.strategy import (
    StrategyProblem,
    TrialRecord,
    assert_finds_optimum,
    assert_reproducible,
    assert_resume_identical,
    mixed_problem,
    run_search,
    tiny_problem,
)

__all__ = [
    "StrategyProblem",
    "TrialRecord",
    "assert_finds_optimum",
    "assert_reproducible",
    "assert_resume_identical",
    "mixed_problem",
    "run_search",
    "tiny_problem",
]
