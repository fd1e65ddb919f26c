"""Which machine translations to trust: hypothesis filters for self-training and LM text.

A weak translator loops (``das ist der während der während der …``), stutters
(``erstennnnnnnn``) or stops after a word. Such hypotheses must never reach fine-tuning or
the LM. :func:`degenerate` names what is wrong with a hypothesis (script-agnostic: it looks
at whitespace words and characters only); the :class:`HypothesisFilter` classes decide per
(source, hypothesis) pair, and :func:`most_confident` keeps the share of sentences the
translator is surest of. (Here, not in ``nmt``: rescoring, LM text and self-training all judge
hypotheses with them, whoever produced the text.)

>>> degenerate("das ist der während der während der")
'repeated phrase'
>>> degenerate("stell einen wecker für sieben uhr") is None
True
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

MAX_CHAR_RUN = 4  # a letter repeated more often than this in a row is a stutter
MAX_WORD_RUN = 2  # the same word more often than this in a row is a loop


def degenerate(text: str, source: str | None = None, max_len_ratio: float = 3.0) -> str | None:
    """Why ``text`` is a broken translation (``None`` when it looks sound).

    - empty;
    - a letter repeated more than ``MAX_CHAR_RUN`` times in a row (digits may repeat);
    - a word repeated more than ``MAX_WORD_RUN`` times in a row;
    - a phrase of 2–4 words repeated immediately (``der während der während``);
    - one word making up more than half of a sentence of 4 or more words;
    - with ``source``: a word-count ratio beyond ``max_len_ratio`` either way (sources of
      3 or more words; one side with no word at all always fails).
    """
    words = text.split()
    if not words:
        return "empty"
    run, prev = 1, ""
    for ch in text:
        run = run + 1 if ch == prev and ch.isalpha() else 1
        if run > MAX_CHAR_RUN:
            return "repeated character"
        prev = ch
    run = 1
    for a, b in zip(words, words[1:]):
        run = run + 1 if a == b else 1
        if run > MAX_WORD_RUN:
            return "repeated word"
    for n in (2, 3, 4):
        for i in range(len(words) - 2 * n + 1):
            if words[i:i + n] == words[i + n:i + 2 * n]:
                return "repeated phrase"
    if len(words) >= 4:
        top = max(words.count(w) for w in set(words))
        if top * 2 > len(words):
            return "one word dominates"
    if source is not None:
        m = len(source.split())
        if m >= 3 and max(m, len(words)) / max(min(m, len(words)), 1) > max_len_ratio:
            return "length ratio"
    return None


class HypothesisFilter(ABC):
    """Decides whether a synthetic pair (source, n-best hypothesis) is used."""

    name = "filter"

    @abstractmethod
    def keep(self, source: str, hyp: dict) -> bool:
        """``hyp`` is an n-best entry: ``{"text", "score", "tokens"}``."""


@dataclass
class MinScoreFilter(HypothesisFilter):
    """Keep hypotheses whose mean log-probability per token is at least ``min_score``."""

    min_score: float
    name = "min_score"

    def keep(self, source: str, hyp: dict) -> bool:
        return mean_logprob(hyp) >= self.min_score


@dataclass
class LengthRatioFilter(HypothesisFilter):
    """Drop pairs whose character-length ratio exceeds ``max_ratio`` either way (hallucinations)."""

    max_ratio: float = 3.0
    name = "length_ratio"

    def keep(self, source: str, hyp: dict) -> bool:
        a, b = len(source.strip()), len(hyp["text"].strip())
        if b == 0:
            return False
        return max(a, b) / max(min(a, b), 1) <= self.max_ratio


@dataclass
class DegenerateFilter(HypothesisFilter):
    """Drop loops, stutters and length outliers (:func:`degenerate`)."""

    max_len_ratio: float = 3.0
    name = "degenerate"

    def keep(self, source: str, hyp: dict) -> bool:
        return degenerate(hyp["text"], source, self.max_len_ratio) is None


def mean_logprob(hyp: dict) -> float:
    """The translator's confidence in a hypothesis: log-probability per token."""
    return float(hyp["score"]) / max(int(hyp.get("tokens") or len(hyp["text"].split()) or 1), 1)


def most_confident(scores: Sequence[float], fraction: float) -> list[bool]:
    """Mask keeping the ``fraction`` of items with the highest scores (ties by position)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], not {fraction}")
    k = max(1, round(fraction * len(scores))) if scores else 0
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
    keep = [False] * len(scores)
    for i in order:
        keep[i] = True
    return keep


__all__ = ["degenerate", "HypothesisFilter", "MinScoreFilter", "LengthRatioFilter", "DegenerateFilter",
           "mean_logprob", "most_confident"]
