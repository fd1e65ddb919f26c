"""The rescoring formula: :class:`Weights` and :func:`rescore` (see :mod:`lmboot.rescore`)."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from lmboot.errors import LmbootError
from lmboot.io.corpus import write_json
from lmboot.io.nbest import n_tokens
from lmboot.lm.score import SCORE_BATCH, LMScorer


@dataclass
class Weights:
    """How the producer's score, the LM and the length combine (see :mod:`lmboot.rescore`).

    >>> Weights(lm_weight=0.5).to_json()
    {'lm_weight': 0.5, 'length_penalty': 0.0, 'norm_exponent': 0.0}
    """

    lm_weight: float = 1.0  # lambda, multiplies the natural-log LM probability
    length_penalty: float = 0.0  # mu, nats per word (positive favours longer hypotheses)
    norm_exponent: float = 0.0  # alpha: producer score / tokens**alpha (0 = raw score)

    def __post_init__(self) -> None:
        for k in ("lm_weight", "length_penalty", "norm_exponent"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise LmbootError(f"weight {k} must be a finite number, not {v!r}")
            setattr(self, k, float(v))

    def to_json(self, path: str | Path | None = None, extra: dict | None = None) -> dict:
        """The weights as a dict; with ``path`` also written there (atomically) as JSON,
        with the keys of ``extra`` (e.g. how they were tuned) added."""
        d = asdict(self)
        if path is not None:
            write_json(path, {**d, **(extra or {})})
        return d

    @classmethod
    def from_json(cls, path: str | Path) -> "Weights":
        """Read weights written by :meth:`to_json` (or ``rescore --save-weights``)."""
        p = Path(path)
        if not p.is_file():
            raise LmbootError("weights file not found", path=p)
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise LmbootError(f"not a JSON weights file ({e})", path=p) from None
        if not isinstance(d, dict) or "lm_weight" not in d:
            raise LmbootError("expected a JSON object with 'lm_weight' (and optionally "
                              "'length_penalty', 'norm_exponent')", path=p)
        try:
            return cls(**{k: d[k] for k in ("lm_weight", "length_penalty", "norm_exponent") if k in d})
        except LmbootError as e:
            raise LmbootError(e.message, path=p) from None


def _totals(hyps: Sequence[dict], lps: Sequence[float], nws: Sequence[int], w: Weights) -> list[float]:
    a, lam, mu = w.norm_exponent, w.lm_weight, w.length_penalty
    if a == 0.0:
        return [h["score"] + lam * lp + mu * nw for h, lp, nw in zip(hyps, lps, nws)]
    return [h["score"] / n_tokens(h) ** a + lam * lp + mu * nw for h, lp, nw in zip(hyps, lps, nws)]


def rescore(entries: Iterable[dict], scorer: LMScorer, weights: Weights) -> Iterator[dict]:
    """Yield each entry with the seed LM's verdict added (inputs are not modified).

    Per hypothesis: ``lm_logprob`` (natural log), ``lm_words`` (words the LM saw) and
    ``total``; per entry: ``best`` (index into ``hyps`` of the highest total, ties to the
    lower index) and ``best_text``. ``hyps`` keep the producer's order and every original
    key, so the file round-trips.
    """
    batch: list[dict] = []
    n = 0
    for entry in entries:
        batch.append(entry)
        n += len(entry["hyps"])
        if n >= SCORE_BATCH:
            yield from _rescore_batch(batch, scorer, weights)
            batch, n = [], 0
    if batch:
        yield from _rescore_batch(batch, scorer, weights)


def _rescore_batch(batch: list[dict], scorer: LMScorer, weights: Weights) -> Iterator[dict]:
    # One pass over the whole batch's hypotheses (flat lists), then cut per entry.
    flat = [h for e in batch for h in e["hyps"]]
    lps, nws = scorer.score_words([h["text"] for h in flat])
    totals = _totals(flat, lps, nws, weights)
    scored = [{**h, "lm_logprob": lp, "lm_words": nw, "total": t} for h, lp, nw, t in zip(flat, lps, nws, totals)]
    i = 0
    for entry in batch:
        k = len(entry["hyps"])
        seg = totals[i:i + k]
        best = seg.index(max(seg))  # the first maximum: stable ties
        out = dict(entry)
        out["hyps"] = scored[i:i + k]
        out["best"] = best
        out["best_text"] = entry["hyps"][best]["text"]
        i += k
        yield out


__all__ = ["Weights", "rescore"]
