"""Perplexity of text under n-gram LMs, honest across vocabularies; per-token dev probabilities.

>>> from lmboot import lm
>>> print(lm.evaluate(["seed.arpa", "final.arpa"], "test.hi").summary())  # doctest: +SKIP

Perplexities of models with different vocabularies are not comparable as KenLM reports
them: a small model with many out-of-vocabulary (OOV) words gives each one its cheap
``<unk>`` probability and looks better than it is. :func:`evaluate` therefore also reports
``ppl_common``: every model scored on one common vocabulary (the union of the models'
vocabularies); a word known to some model but not to this one is charged one fixed penalty
(``oov_penalty``, log10, :func:`lmboot.lm.score.charge_unknown`) for every model; words no model
knows are left out for all of them.

:func:`dev_tokens` and :func:`dev_token_probs` give the per-token probabilities that tune
mixture weights (:mod:`lmboot.lm.mixture`, :mod:`lmboot.lm.objective`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from lmboot.errors import LmbootError
from lmboot.io.corpus import read_lines
from lmboot.lm.score import DEFAULT_OOV_PENALTY, charge_unknown, load
from lmboot.results import Result, text_table
from lmboot.text.normalize import Normalizer


# --------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------
@dataclass
class ModelEval:
    """Perplexity figures of one model on one text. log10 throughout, as KenLM."""

    model: str
    sentences: int = 0
    tokens: int = 0  # words, without </s>
    oovs: int = 0  # words unknown to this model
    logprob: float = 0.0  # KenLM's own total, OOVs scored with its <unk>, </s> included
    logprob_no_oov: float = 0.0
    logprob_common: float = 0.0
    common_excluded: int = 0  # words no compared model knows (left out for every model)
    common_penalised: int = 0  # words others know but this model does not (charged the penalty)
    per_sentence: list = field(default_factory=list, repr=False)

    @property
    def oov_rate(self) -> float:
        return self.oovs / self.tokens if self.tokens else 0.0

    @property
    def ppl(self) -> float:
        return 10 ** (-self.logprob / max(1, self.tokens + self.sentences))

    @property
    def ppl_no_oov(self) -> float:
        return 10 ** (-self.logprob_no_oov / max(1, self.tokens - self.oovs + self.sentences))

    @property
    def ppl_common(self) -> float:
        return 10 ** (-self.logprob_common / max(1, self.tokens - self.common_excluded + self.sentences))

    def summary(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "per_sentence"}
        d.update(ppl=self.ppl, ppl_no_oov=self.ppl_no_oov, ppl_common=self.ppl_common,
                 oov_rate=self.oov_rate)
        return d


@dataclass
class PerplexityResult(Result):
    """What :func:`evaluate` measured: one :class:`ModelEval` per model, and the signature."""

    text: Path
    models: list[ModelEval]
    oov_penalty: float
    signature: str

    def to_json(self, per_sentence: bool = False) -> dict:
        out = {"text": str(self.text), "signature": self.signature, "oov_penalty": self.oov_penalty,
               "models": [m.summary() for m in self.models]}
        if per_sentence:
            out["sentences"] = [
                {"line": i + 1, **{m.model: m.per_sentence[i] for m in self.models}}
                for i in range(len(self.models[0].per_sentence))
            ]
        return out

    def summary(self) -> str:
        """The table ``lmboot lm eval`` prints, with the signature under it."""
        rows = [("model", "ppl_common", "ppl", "ppl_no_oov", "oov_rate", "tokens")]
        for m in self.models:
            rows.append((m.model, f"{m.ppl_common:.2f}", f"{m.ppl:.2f}", f"{m.ppl_no_oov:.2f}",
                         f"{100 * m.oov_rate:.2f}%", str(m.tokens)))
        return text_table(rows) + "\n" + self.signature


def eval_signature(n_models: int, oov_penalty: float, normalizer: Normalizer) -> str:
    """A sacrebleu-style record of every parameter that shaped the numbers."""
    return (f"lmboot-ppl|models:{n_models}|vocab:union|oov:{oov_penalty:g}log10"
            f"|unknown-to-all:excluded|eos:yes|norm:{normalizer.signature}")


def evaluate(models: Sequence[str | Path], text: str | Path, oov_penalty: float = DEFAULT_OOV_PENALTY,
             normalizer: Normalizer | None = None, names: Sequence[str] | None = None,
             keep_sentences: bool = False) -> PerplexityResult:
    """Perplexity and OOV rate of ``text`` under each model, also on a common vocabulary."""
    if not models:
        raise LmbootError("no language model given")
    norm = normalizer or Normalizer()
    loaded = [load(m) for m in models]
    names = list(names) if names else [str(m) for m in models]
    evals = [ModelEval(model=n) for n in names]
    for line in read_lines(text, "evaluation text"):
        sent = norm(line)
        if not sent:
            continue
        words = sent.split()
        known = [[w in m for w in words] for m in loaded]
        known_any = [any(k[i] for k in known) for i in range(len(words))]
        for m, ev, kn in zip(loaded, evals, known):
            scores = [s[0] for s in m.full_scores(sent, bos=True, eos=True)]
            lp = sum(scores)
            lp_no_oov = sum(s for s, k in zip(scores, kn + [True]) if k)
            # the common vocabulary: words no model knows are left out for every model
            common = [i for i in range(len(words)) if known_any[i]]
            ev.common_excluded += len(words) - len(common)
            ev.common_penalised += sum(1 for i in common if not kn[i])
            lp_common = charge_unknown([scores[-1]] + [scores[i] for i in common],  # </s> first
                                       [True] + [kn[i] for i in common], oov_penalty)
            ev.sentences += 1
            ev.tokens += len(words)
            n_oov = len(words) - sum(kn)
            ev.oovs += n_oov
            ev.logprob += lp
            ev.logprob_no_oov += lp_no_oov
            ev.logprob_common += lp_common
            if keep_sentences:
                ev.per_sentence.append({"logprob": round(lp, 4), "logprob_common": round(lp_common, 4),
                                        "tokens": len(words), "oovs": n_oov})
    if evals[0].sentences == 0:
        raise LmbootError("no sentence left to evaluate after normalisation", path=text)
    return PerplexityResult(text=Path(text), models=evals, oov_penalty=oov_penalty,
                      signature=eval_signature(len(models), oov_penalty, norm))


# --------------------------------------------------------------------------------------
# Per-token dev probabilities (for mixture weights)
# --------------------------------------------------------------------------------------
@dataclass
class DevTokens:
    """Per-token probabilities of the dev text under one model: ``prob`` (0 where unknown)."""

    prob: np.ndarray
    known: np.ndarray


def dev_tokens(model, sentences: Sequence[str]) -> DevTokens:
    """Probabilities of every dev token (words then ``</s>`` of each sentence) under ``model``."""
    probs: list[float] = []
    known: list[bool] = []
    for sent in sentences:
        for lp, _n, oov in model.full_scores(sent, bos=True, eos=True):
            known.append(not oov)
            probs.append(0.0 if oov else 10.0 ** lp)
    return DevTokens(np.asarray(probs, dtype=np.float64), np.asarray(known, dtype=bool))


def dev_token_probs(models: Sequence, sentences: Sequence[str]) -> np.ndarray:
    """Per-token probabilities of each model on ``sentences`` (normalised text), ``(T, K)``.

    A word a model does not know gets probability 0 from it (as in a static mixture, whose
    vocabulary is the union); tokens no model knows are left out (they become ``<unk>`` and
    say nothing about which model is better; :func:`evaluate` also excludes them from
    ``ppl_common``). ``</s>`` is included.
    """
    parts = [dev_tokens(m, sentences) for m in models]
    known = np.logical_or.reduce([p.known for p in parts])
    return np.stack([p.prob for p in parts], axis=1)[known]


__all__ = ["evaluate", "PerplexityResult", "ModelEval", "eval_signature", "DevTokens", "dev_tokens",
           "dev_token_probs"]
