"""Choosing among candidates judged by one number, with honest ties.

Every tuned choice in lmboot (rescoring weights, how many hypotheses per sentence, the
winnowing threshold, which translator) is a grid of candidates, each with a dev
``"objective"`` (lower is better). Differences smaller than the dev set can resolve are
noise: candidates within :data:`TIE` of the best are ties, and a tie goes to the least change.

>>> grid = [{"k": 1, "objective": 100.05}, {"k": 5, "objective": 100.0}, {"k": 3, "objective": 120.0}]
>>> choose(grid, lambda c: c["k"])["k"]      # 100.05 is within 0.1% of 100.0: the smaller k wins
1
"""
from __future__ import annotations

from typing import Callable, Sequence

#: Dev objectives within this relative margin of the best count as ties: with a dev set of a
#: few hundred sentences, smaller differences are noise, and a tie goes to the least change.
TIE = 1e-3


def choose(candidates: Sequence[dict], preference: Callable[[dict], object]) -> dict:
    """The candidate with the lowest ``"objective"``; those within ``TIE`` of it are ties,
    broken by the smallest ``preference(candidate)`` (the least change first)."""
    best = min(c["objective"] for c in candidates)
    close = [c for c in candidates if c["objective"] <= best * (1 + TIE)]
    return min(close, key=preference)


__all__ = ["choose", "TIE"]
