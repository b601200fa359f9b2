"""The classifiers' entry to one-shot search: build a supernet, run ENAS or DARTS, tabulate.

Work in progress: filled in with ENAS and DARTS.
"""
from __future__ import annotations

ONE_SHOT_NAMES = ("enas", "darts")


def run_one_shot(method, space, hypermodel, data, *, deadline, seed, batch_size, say):
    raise NotImplementedError


def one_shot_leaderboard(result):
    raise NotImplementedError
