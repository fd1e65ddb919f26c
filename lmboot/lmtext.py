"""From n-best translations to LM training text.

A translator's n-best list holds more than its top hypothesis: alternatives that phrase the
same request another way, with other words for the same thing. For an n-gram LM several
sound hypotheses per source sentence can be worth more than the single best one, and the
translations the translator is least sure of can be worth less than nothing. This stage
decides, per n-best list:

- ``nbest``: how many hypotheses per source sentence enter the LM text (best first: by the
  rescored ``total`` when the list was rescored, else in the producer's order);
- ``trust``: the fraction of source sentences kept, those whose best hypothesis has the
  highest log-probability per token (the translator's confidence);
- degenerate hypotheses (loops, stutters, length outliers: :func:`lmboot.text.quality.degenerate`)
  never enter.

:func:`tune` chooses ``nbest`` and ``trust`` by the in-domain dev objective of the final LM
(:class:`lmboot.lm.objective.DevObjective`); :func:`write` writes the text.

>>> res = tune(list(read_nbest("rescored.jsonl")), objective)     # doctest: +SKIP
>>> write("rescored.jsonl", "lm.txt", nbest=res.nbest, trust=res.trust).lines  # doctest: +SKIP
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from lmboot.io.corpus import atomic_write
from lmboot.errors import LmbootError
from lmboot.text.quality import degenerate, mean_logprob, most_confident
from lmboot.decide import choose

log = logging.getLogger("lmboot")

DEFAULT_NBEST = (1, 2, 3, 5)
DEFAULT_TRUST = (1.0, 0.8, 0.6)


def ranked(entry: dict) -> list[dict]:
    """An entry's hypotheses best first: by rescored ``total`` when present (stable), else as given."""
    hyps = entry["hyps"]
    if all("total" in h for h in hyps):
        return [h for _, h in sorted(enumerate(hyps), key=lambda x: (-x[1]["total"], x[0]))]
    return list(hyps)


def texts(entries: Sequence[dict], nbest: int = 1, trust: float = 1.0) -> list[str]:
    """The LM text lines of ``entries`` for one setting (see the module doc)."""
    if nbest < 1:
        raise LmbootError(f"nbest must be >= 1, not {nbest}")
    if not 0.0 < trust <= 1.0:
        raise LmbootError(f"trust must be in (0, 1], not {trust}")
    sound = []
    for e in entries:
        src = e.get("source")
        hs = [h for h in ranked(e) if degenerate(h["text"], src) is None][:nbest]
        if hs:
            sound.append(hs)
    keep = most_confident([mean_logprob(hs[0]) for hs in sound], trust) if trust < 1.0 and sound else \
        [True] * len(sound)
    return [h["text"].replace("\n", " ") for hs, k in zip(sound, keep) if k for h in hs]


@dataclass
class LMTextTuneResult:
    """The chosen setting and every setting's dev objective (lower is better)."""

    nbest: int
    trust: float
    objective: float
    without: float  # the objective with no translated text at all (the best baseline)
    grid: list = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def tune(entries: Sequence[dict], objective: Callable[[Iterable[str]], float],
         nbests: Sequence[int] = DEFAULT_NBEST, trusts: Sequence[float] = DEFAULT_TRUST,
         without: float | None = None) -> LMTextTuneResult:
    """Grid search over ``nbest`` × ``trust`` for the lowest dev objective.

    Ties (:data:`lmboot.decide.TIE`) go to the smaller ``nbest``, then the larger ``trust``.
    Deterministic.
    """
    if not entries:
        raise LmbootError("no n-best entries to make LM text of")
    width = max(len(e["hyps"]) for e in entries)
    ks = sorted({int(k) for k in nbests if int(k) <= width} | {1})
    grid = []
    for k in ks:
        for t in sorted({float(x) for x in trusts}, reverse=True):
            lines = texts(entries, k, t)
            grid.append({"nbest": k, "trust": t, "lines": len(lines), "objective": objective(lines)})
    best = choose(grid, lambda g: (g["nbest"], -g["trust"]))
    log.info("lm text: %d hypothesis(es) per sentence, %.0f%% most confident sentences: dev objective %.2f",
             best["nbest"], 100 * best["trust"], best["objective"])
    return LMTextTuneResult(nbest=best["nbest"], trust=best["trust"], objective=best["objective"],
                      without=float("nan") if without is None else without, grid=grid)


@dataclass
class WriteResult:
    out: Path
    entries: int
    lines: int


def write(entries: Sequence[dict], out: str | Path, nbest: int = 1, trust: float = 1.0) -> WriteResult:
    """Write the LM text of ``entries`` to ``out`` (atomically)."""
    lines = texts(entries, nbest, trust)
    with atomic_write(out) as f:
        f.write("".join(x + "\n" for x in lines))
    return WriteResult(out=Path(out), entries=len(entries), lines=len(lines))


__all__ = ["ranked", "texts", "tune", "LMTextTuneResult", "write", "WriteResult", "DEFAULT_NBEST",
           "DEFAULT_TRUST"]
