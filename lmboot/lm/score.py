"""Scoring text with a KenLM model: loading, the one :class:`LMScorer`, units and the OOV penalty
(:func:`charge_unknown`, the one place it is applied, says what "unknown" means).

KenLM scores are log10; NMT and recogniser scores are natural log: :func:`log10_to_ln` (and
``LN10``) is the one conversion. A word a model does not know can be charged one fixed
penalty instead of the model's own ``<unk>`` probability (``DEFAULT_OOV_PENALTY``, log10),
so that LMs with different vocabularies compare honestly; every stage that compares LMs
(``lm eval``, ``eval wer``, the pipeline's evaluation and dev objective) uses this one
default.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np

from lmboot.defaults import DEFAULT_OOV_PENALTY
from lmboot.errors import LmbootError
from lmboot.io.corpus import check_file
from lmboot.text.normalize import Normalizer

LN10 = math.log(10)
SCORE_BATCH = 2048  # texts normalised and scored together by LMScorer.score_words


def log10_to_ln(x: float) -> float:
    """KenLM scores are log10; NMT scores natural log. One place converts."""
    return x * LN10


def load(path: str | Path):
    """Load an ARPA or KenLM binary model; a missing or broken file is an LmbootError."""
    import kenlm

    from lmboot.io.checksums import verify_checksum

    p = check_file(path, "language model")
    verify_checksum(p)  # a corrupt binary is an error, never a crash or a wrong number
    try:
        config = kenlm.Config()
        config.show_progress = False  # KenLM's progress bar and "build a binary" hint on stderr
        config.arpa_complain = kenlm.ARPALoadComplain.NONE
        return kenlm.Model(str(p), config)
    except (OSError, RuntimeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LmbootError(f"not a readable ARPA or KenLM binary model ({first})", path=p) from None


def sentence_perplexity(model, sentence: str, words: int | None = None) -> float:
    """KenLM perplexity of one (already normalised) sentence, </s> included.

    ``words``: its word count, when the caller already has it (batch normalisation does)."""
    if words is None:
        words = sentence.count(" ") + 1 if sentence else 0
    return 10 ** (-model.score(sentence, bos=True, eos=True) / (words + 1))


def charge_unknown(log10_probs: Sequence[float], known: Sequence[bool], penalty: float) -> float:
    """log10 probability of a token sequence in which every *unknown* token is charged
    ``penalty`` (log10, :data:`DEFAULT_OOV_PENALTY` by default everywhere) instead of its own
    log10 probability. The one place the OOV penalty is applied.

    "Unknown" means one thing: a token the model being scored has no unigram for (KenLM would
    score it as ``<unk>``). ``</s>`` is always known. The model is the one LM in
    :class:`LMScorer` (rescoring, ``eval wer``) and in ``lm eval``'s ``ppl_common``, and the
    mixture in :class:`lmboot.lm.objective.DevObjective`, which knows a token when some
    component does. Which tokens are scored at all is the caller's choice: ``ppl_common``
    leaves out the words no compared LM knows, so every LM is measured on the same tokens.

    ``log10_probs`` and ``known`` run in parallel (numpy arrays too: summed at once).

    >>> charge_unknown([-1.0, -2.5, -0.5], [True, False, True], -7.0)
    -8.5
    """
    if isinstance(log10_probs, np.ndarray):
        k = np.asarray(known, dtype=bool)
        return float(np.sum(log10_probs[k])) + penalty * int(k.size - np.count_nonzero(k))
    return sum(lp if k else penalty for lp, k in zip(log10_probs, known))


class LMScorer:
    """Natural-log probabilities of texts under a KenLM model (``<s>`` and ``</s>`` included).

    Texts are normalised exactly as the seed LM's training text was (``normalizer``, by
    default :class:`lmboot.text.normalize.Normalizer`), so an NMT's detokenised, cased, punctuated
    output is scored on the LM's own terms. Texts are normalised in batches (numpy), and
    KenLM scores each distinct normalised text of a batch once.
    With ``oov_penalty`` (log10) every word the model does not know
    is charged exactly that penalty instead of the model's own ``<unk>`` probability, so
    LMs with different vocabularies compare honestly.

    >>> s = LMScorer("seed.bin")                                 # doctest: +SKIP
    >>> s.score(["Set an alarm!", "set an alarm"])               # doctest: +SKIP
    [-9.21, -9.21]
    """

    def __init__(self, model_path: str | Path, normalizer=None, oov_penalty: float | None = None):
        if oov_penalty is not None and (isinstance(oov_penalty, bool) or not isinstance(oov_penalty, (int, float))
                                        or not math.isfinite(oov_penalty)):
            raise LmbootError(f"oov_penalty must be a finite log10 number, not {oov_penalty!r}")
        self.path = Path(model_path)
        self.model = load(model_path)
        self.normalizer = normalizer or Normalizer()
        self.normalize = self.normalizer
        self.oov_penalty = None if oov_penalty is None else float(oov_penalty)
        self._known: dict[str | bytes, bool] = {}  # word -> in the model's vocabulary (cached)
        self.oovs = 0  # with oov_penalty: OOV words in the strings scored (each distinct one of a batch once)
        self.words = 0  # with oov_penalty: words in the strings scored (likewise)

    def _is_known(self, w: str | bytes) -> bool:
        k = self._known.get(w)
        if k is None:
            k = self._known[w] = w in self.model
        return k

    def _score_with_penalty(self, s: str | bytes) -> float:
        model = self.model
        words = s.split()
        known = [self._is_known(w) for w in words]
        self.words += len(words)
        if all(known):
            return model.score(s, bos=True, eos=True) * LN10
        scores = [x[0] for x in model.full_scores(s, bos=True, eos=True)]
        self.oovs += known.count(False)
        return charge_unknown(scores, known + [True], self.oov_penalty) * LN10

    def score_words(self, texts: Sequence[str]) -> tuple[list[float], list[int]]:
        """``(natural-log LM probabilities, word counts after normalisation)`` of ``texts``.

        Texts go in slices of ``SCORE_BATCH``; within a slice each distinct normalised text is
        scored once (an n-best list often repeats a sentence up to case and punctuation)."""
        pen = self.oov_penalty
        # Normalising one string at a time in Python would cost more than KenLM's scoring.
        batch = getattr(self.normalizer, "batch", None)
        score, ln10 = self.model.score, LN10
        lps: list[float] = []
        nws: list[int] = []
        for i in range(0, len(texts), SCORE_BATCH):  # in slices that stay in the CPU's cache
            chunk = texts[i:i + SCORE_BATCH]
            if batch is not None:  # UTF-8 bytes: KenLM would encode every str itself
                normed, counts = batch(chunk, counts=True, utf8=True)
            else:
                normed = [self.normalize(t) for t in chunk]
                counts = [len(s.split()) for s in normed]
            uniq = dict.fromkeys(normed)
            for s in uniq:  # kenlm's defaults: bos=True, eos=True
                uniq[s] = score(s) * ln10 if pen is None else self._score_with_penalty(s)
            lps += map(uniq.__getitem__, normed)
            nws += counts
        return lps, nws

    def score(self, texts: Sequence[str]) -> list[float]:
        """Natural-log LM probabilities of ``texts`` (normalised first), one per text."""
        return self.score_words(texts)[0]

    def oov_count(self, text: str) -> int:
        """How many words of ``text`` (after normalisation) the model does not know."""
        model = self.model
        return sum(1 for w in self.normalize(text).split() if w not in model)

    def unknown(self, text: str) -> list[str]:
        """The words of ``text`` (already normalised) the model does not know, in order."""
        return [w for w in text.split() if not self._is_known(w)]


__all__ = ["load", "LMScorer", "charge_unknown", "sentence_perplexity", "log10_to_ln", "LN10",
           "DEFAULT_OOV_PENALTY"]
