"""Choosing lambda and mu (and alpha): grid searches over the rescoring weights.

- :func:`tune`: the best chrF / BLEU / WER against references on a dev n-best list;
- :func:`tune_lm`: the lowest dev perplexity of the final LM the chosen texts would make
  (:class:`lmboot.lm.objective.DevObjective`): no references needed.

Both include lambda = mu = 0 (the producer's own ranking) in the grid and break ties towards
the least change, so tuning never does worse on its tuning set than not rescoring.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Sequence

from lmboot.errors import LmbootError
from lmboot.io.nbest import n_tokens
from lmboot.lm.score import LMScorer
from lmboot.metrics import Metric
from lmboot.rescore.combine import Weights
from lmboot.results import Result

log = logging.getLogger("lmboot")

#: Default tuning grid. lambda scales a natural-log LM probability against the producer's
#: natural-log score; mu is nats per word.
DEFAULT_LM_WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0)
DEFAULT_LENGTH_PENALTIES = (-3.0, -2.0, -1.5, -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0,
                            1.5, 2.0, 3.0)


@dataclass
class MetricTuneResult(Result):
    """Best weights found on a tuning set, and the metric of the producer's top-1 (``before``,
    i.e. lambda = mu = 0) and of the rescored choice (``after``)."""

    weights: Weights
    metric: str
    before: float
    after: float
    signature: str
    entries: int
    grid_points: int
    changed: int  # entries whose choice differs from the producer's top-1
    top: list = field(default_factory=list, repr=False)  # best few grid points

    def summary(self) -> str:
        w = self.weights
        arrow = "lower is better" if self.metric == "wer" else "higher is better"
        return (f"tuned on {self.entries} entries ({self.grid_points} grid points): lambda={w.lm_weight:g} "
                f"mu={w.length_penalty:g} alpha={w.norm_exponent:g}; {self.metric} "
                f"{self.before:.2f} -> {self.after:.2f} ({arrow}; {self.changed} choices changed)\n"
                f"{self.signature}")


def _matrices(entries: list[dict], scorer: LMScorer):
    """(entries × hypotheses) arrays: producer score, tokens, LM log-prob, words, valid, flat index."""
    import numpy as np

    n, width = len(entries), max(len(e["hyps"]) for e in entries)
    score = np.zeros((n, width))
    tokens = np.ones((n, width))
    lmlp = np.zeros((n, width))
    words = np.zeros((n, width))
    valid = np.zeros((n, width), dtype=bool)
    flat = np.zeros((n, width), dtype=np.int64)  # index of (entry, hyp) into the flat hypothesis list
    all_lps, all_nws = scorer.score_words([h["text"] for e in entries for h in e["hyps"]])
    at = 0
    for i, e in enumerate(entries):
        hyps = e["hyps"]
        k = len(hyps)
        score[i, :k] = [h["score"] for h in hyps]
        tokens[i, :k] = [n_tokens(h) for h in hyps]
        lmlp[i, :k], words[i, :k], valid[i, :k] = all_lps[at:at + k], all_nws[at:at + k], True
        flat[i, :k] = np.arange(at, at + k)
        at += k
    return score, tokens, lmlp, words, valid, flat


#: Grid for tuning by the LM objective: fewer points (each costs one lmplz run).
LM_OBJECTIVE_WEIGHTS = (0.0, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5)
LM_OBJECTIVE_PENALTIES = (-1.0, -0.5, 0.0, 0.5, 1.0)


@dataclass
class LMTuneResult(Result):
    """Weights chosen by the in-domain dev objective of the final LM (lower is better):
    ``before`` is the producer's top-1 (lambda = mu = 0), ``after`` the chosen weights."""

    weights: Weights
    before: float
    after: float
    entries: int
    grid_points: int
    evaluated: int  # distinct choices judged (grid points choosing the same texts share one)
    changed: int
    top: list = field(default_factory=list, repr=False)

    def summary(self) -> str:
        w = self.weights
        return (f"tuned on the LM dev objective ({self.entries} entries, {self.grid_points} grid points, "
                f"{self.evaluated} distinct choices): lambda={w.lm_weight:g} mu={w.length_penalty:g}; "
                f"dev perplexity {self.before:.2f} (producer's top-1) -> {self.after:.2f}; "
                f"{self.changed} choices changed")


def tune_lm(entries: list[dict], scorer: LMScorer, objective,
            lm_weights: Sequence[float] = LM_OBJECTIVE_WEIGHTS,
            length_penalties: Sequence[float] = LM_OBJECTIVE_PENALTIES) -> LMTuneResult:
    """Choose lambda and mu by what the chosen translations do to the final LM.

    ``objective`` maps the chosen texts (one per entry, degenerate ones left out) to a dev
    perplexity (:class:`lmboot.lm.objective.DevObjective`). No references are needed: the
    in-domain dev text of the *target* language is the judge, so an in-domain seed LM can
    help where chrF on general-domain dev pairs cannot see it. lambda = mu = 0 is in the
    grid, so the result is never worse on dev than the producer's own ranking; ties (within
    :data:`lmboot.decide.TIE`) go to the least change (smallest |mu|, then lambda).
    """
    import numpy as np

    from lmboot.decide import TIE
    from lmboot.text.quality import degenerate

    entries = list(entries)
    if not entries:
        raise LmbootError("no entries to tune on")
    score, _tokens, lmlp, words, valid, flat = _matrices(entries, scorer)
    hyps = [h for e in entries for h in e["hyps"]]
    sources = [e.get("source") for e in entries for _ in e["hyps"]]
    sound = np.array([degenerate(h["text"], s) is None for h, s in zip(hyps, sources)])
    rows = np.arange(len(entries))
    cache: dict[bytes, float] = {}

    def evaluate(choice) -> float:
        key = choice.astype(np.int32).tobytes()
        if key not in cache:
            idx = flat[rows, choice]
            cache[key] = float(objective([hyps[i]["text"] for i in idx[sound[idx]]]))
        return cache[key]

    before = evaluate(np.zeros(len(entries), dtype=np.int64))
    lams = sorted({float(x) for x in lm_weights} | {0.0})
    mus = sorted({float(x) for x in length_penalties} | {0.0}, key=lambda x: (abs(x), x))
    candidates = []
    for mu in mus:
        for lam in lams:
            total = np.where(valid, score + mu * words + lam * lmlp, -np.inf)
            choice = total.argmax(axis=1)
            candidates.append((evaluate(choice), (abs(mu), lam), Weights(lam, mu, 0.0), choice))
    candidates.sort(key=lambda c: (c[0], c[1]))
    floor = candidates[0][0] * (1 + TIE)  # within the tie margin: the least change wins
    best_val, _, best_w, best_choice = min((c for c in candidates if c[0] <= floor), key=lambda c: c[1])
    top = [{"value": c[0], **c[2].to_json()} for c in candidates[:10]]
    return LMTuneResult(weights=best_w, before=before, after=best_val, entries=len(entries),
                        grid_points=len(candidates), evaluated=len(cache),
                        changed=int((best_choice != 0).sum()), top=top)


def tune(entries: list[dict], scorer: LMScorer, metric: str = "chrf",
         lm_weights: Sequence[float] = DEFAULT_LM_WEIGHTS,
         length_penalties: Sequence[float] = DEFAULT_LENGTH_PENALTIES,
         norm_exponents: Sequence[float] = (0.0,)) -> MetricTuneResult:
    """Grid search over lambda, mu (and alpha) for the best ``metric`` of the chosen hypotheses.

    ``metric`` is ``"chrf"`` or ``"bleu"`` (sacrebleu, on the texts as given; higher is
    better) or ``"wer"`` (jiwer on normalised text; lower is better). Every entry needs a
    ``ref``. lambda = mu = 0 is always in the grid, so the result is never worse on the
    tuning set than the producer's own ranking; among equally good points the one with the
    smallest |mu|, then smallest lambda, wins (the least change). Deterministic.

    >>> res = tune(list(read_nbest("dev.nbest.jsonl", require_ref=True)), scorer)  # doctest: +SKIP
    """
    import numpy as np

    m = Metric(metric, scorer.normalizer)
    entries = list(entries)
    if not entries:
        raise LmbootError("no entries to tune on")
    for e in entries:
        if not isinstance(e.get("ref"), str):
            raise LmbootError(f"entry {e.get('id')!r} has no 'ref': tuning needs references")
    n = len(entries)
    score, tokens, lmlp, words, valid, flat = _matrices(entries, scorer)
    texts = [h["text"] for e in entries for h in e["hyps"]]
    refs = [e["ref"] for e in entries for _ in e["hyps"]]
    stats = m.stats(texts, refs)
    rows = np.arange(n)
    cache: dict[bytes, float] = {}

    def evaluate(choice) -> float:
        key = choice.astype(np.int32).tobytes()
        if key not in cache:
            cache[key] = m.from_stats(stats[flat[rows, choice]].sum(axis=0))
        return cache[key]

    baseline = np.zeros(n, dtype=np.int64)
    before = evaluate(baseline)
    lams = sorted({float(x) for x in lm_weights} | {0.0})
    mus = sorted({float(x) for x in length_penalties} | {0.0}, key=lambda x: (abs(x), x))
    alphas = list(dict.fromkeys(float(x) for x in norm_exponents)) or [0.0]
    candidates = []  # (metric, weights, choice)
    for ai, a in enumerate(alphas):
        base = score / tokens ** a if a else score
        for mu in mus:
            part = base + mu * words
            for lam in lams:
                total = np.where(valid, part + lam * lmlp, -np.inf)
                choice = total.argmax(axis=1)  # first maximum: ties to the producer's order
                candidates.append((evaluate(choice), (abs(mu), lam, ai), Weights(lam, mu, a), choice))
    sign = 1.0 if m.lower_is_better else -1.0
    candidates.sort(key=lambda c: (sign * c[0], c[1]))
    best_val, _, best_w, best_choice = candidates[0]
    if m.better(before, best_val):
        log.warning("tune: no grid point reproduces the producer's ranking (its scores are not "
                    "ordered by score/tokens**alpha for any alpha given); the producer's top-1 "
                    "scores %.2f, the best grid point %.2f", before, best_val)
    top = [{"value": c[0], **c[2].to_json()} for c in candidates[:10]]
    return MetricTuneResult(weights=best_w, metric=metric, before=before, after=best_val,
                      signature=m.signature(), entries=n, grid_points=len(candidates),
                      changed=int((best_choice != 0).sum()), top=top)


__all__ = ["tune", "MetricTuneResult", "tune_lm", "LMTuneResult", "DEFAULT_LM_WEIGHTS", "DEFAULT_LENGTH_PENALTIES",
           "LM_OBJECTIVE_WEIGHTS", "LM_OBJECTIVE_PENALTIES"]
