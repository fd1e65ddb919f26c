"""More LM value from imperfect translations: how the final LM uses them, chosen on dev.

Translations at chrF ~30 get many words right and their order often wrong. Two ways to use
them that do not trust them whole, each kept only where the final LM's dev objective
(:class:`lmboot.lm.objective.DevObjective`) says it helps:

- :func:`choose_order`: the n-gram order of the translations' component. A unigram or bigram
  component carries the translations' word choice without trusting their word order;
  the order that gives the lowest dev perplexity of the final mixture wins (ties: the
  higher order, today's behaviour).
- :func:`steer`: translations that steer the general text. The seed (a few hundred
  sentences) is too small to tell which general sentences are in-domain; seed +
  translations (tens of thousands of in-domain-shaped sentences) is not. Moore-Lewis
  selection of the general target text with that in-domain side gives one more mixture
  component; the kept fraction (or none) is chosen by the dev objective.

>>> from lmboot.lm.compose import choose_order                     # doctest: +SKIP
>>> choose_order(lambda k: DevObjective([seed, general], "dev.de", order=k), lines, [3, 2, 1]).order
2
"""
from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from lmboot.io.corpus import atomic_write, read_lines
from lmboot.lm.objective import choose

log = logging.getLogger("lmboot")


@dataclass
class OrderChoice:
    order: int
    objectives: dict[int, float]  # dev perplexity of the final mixture per candidate order


def choose_order(objective_for: Callable[[int], Callable[[Sequence[str]], float]], lines: Sequence[str],
                 orders: Sequence[int]) -> OrderChoice:
    """The translations' component order with the lowest dev objective (ties: the highest).

    ``objective_for(k)`` returns a dev objective whose candidate LM has order ``k``."""
    cands = [{"order": k, "objective": objective_for(k)(lines)} for k in sorted(set(orders), reverse=True)]
    best = choose(cands, preference=lambda c: -c["order"])
    return OrderChoice(order=best["order"], objectives={c["order"]: round(c["objective"], 3) for c in cands})


@dataclass
class SteerResult:
    fraction: float | None  # None: the dev check rejected every steered text
    kept: int
    objectives: dict[str, float] = field(default_factory=dict)  # "off" and each fraction
    text: Path | None = None


def steer(general_src: str | Path, general_tgt: str | Path, seed: str | Path, translations: str | Path,
          out_dir: str | Path, objective: Callable[[Sequence[str]], float], baseline: float,
          fractions: Sequence[float] = (0.05, 0.1, 0.2), random_seed: int = 1) -> SteerResult:
    """Moore-Lewis selection of the general target text with seed + ``translations`` as the
    in-domain side; writes ``out_dir/steer.txt`` (the chosen selection, or empty).

    ``objective(lines)``: the final LM's dev perplexity with ``lines`` as one more component;
    ``baseline``: the same without it. The general text is scored once; each fraction of the
    ranking is one candidate, and "off" (``baseline``) is always one: the least change wins
    ties, so a steered component enters the final LM only if dev says it helps.
    """
    from lmboot import select as sel
    from lmboot.filtering import decide

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    indomain = out_dir / "in-domain.txt"
    with atomic_write(indomain) as f:
        for path in (seed, translations):
            for line in read_lines(path, "in-domain text"):
                f.write(line + "\n")
    top = max(fractions)
    r = sel.select(general_src, general_tgt, indomain, out_dir / "select", method="moore-lewis",
                   keep_fraction=top, random_seed=random_seed, plot=False)
    scores = np.loadtxt(r.scores_path, delimiter="\t", skiprows=1, usecols=1, dtype=np.float64, ndmin=1)
    general = list(read_lines(general_tgt, "general target side"))
    cands = [{"fraction": None, "objective": baseline, "lines": []}]
    for frac in sorted(set(fractions)):
        keep, _, _ = decide(scores.astype(np.float32), keep_fraction=frac)
        lines = [s for s, k in zip(general, keep) if k]
        cands.append({"fraction": frac, "objective": objective(lines), "lines": lines})
    best = choose(cands, preference=lambda c: (c["fraction"] is not None, c["fraction"] or 0))
    text = out_dir / "steer.txt"
    with atomic_write(text) as f:
        f.writelines(s + "\n" for s in best["lines"])
    shutil.rmtree(out_dir / "select", ignore_errors=True)  # scores are summarised below; the copies are not needed
    objectives = {("off" if c["fraction"] is None else f"{c['fraction']:g}"): round(c["objective"], 3) for c in cands}
    log.info("steered selection: %s (dev objective %s)",
             "off" if best["fraction"] is None else f"keep {best['fraction']:g}", objectives)
    return SteerResult(fraction=best["fraction"], kept=len(best["lines"]), objectives=objectives, text=text)


__all__ = ["choose_order", "OrderChoice", "steer", "SteerResult"]
