"""Winnowing: drop sentences the seed LM finds too improbable.

Machine translations that the in-domain seed LM finds very unlikely are usually broken or
off-domain; the method keeps those whose seed-LM perplexity is below a threshold. The
threshold is given directly, or as a percentile of the seed LM's perplexities on an
in-domain dev set ("keep what looks no worse than the 90th percentile of real in-domain
text").

Scoring streams (:func:`score`), a separate step decides (:func:`winnow`), so a 10M-line
input runs in bounded memory: only one float per sentence is kept, for the quantiles. The
scores, the summary and the histogram follow :mod:`lmboot.filtering`, as selection's do.
:func:`tune` chooses the percentile (or no winnowing) by the final LM's dev objective.

>>> res = winnow("translations.hi", "seed.bin", "out/", percentile=90, dev="dev.hi")  # doctest: +SKIP
>>> res.kept, res.threshold                                                       # doctest: +SKIP
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from lmboot import plots
from lmboot.errors import LmbootError
from lmboot.filtering import Filtered, Scores, finish, progress_bar, quantiles
from lmboot.io.corpus import atomic_write, chunked, read_lines
from lmboot.lm.score import load, sentence_perplexity
from lmboot.results import Result
from lmboot.text.normalize import Normalizer

log = logging.getLogger("lmboot")

QUANTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)


def score(model, path: str | Path, normalizer: Normalizer | None = None) -> Iterator[tuple[str, str, float]]:
    """Stream ``(original line, normalised line, perplexity)`` for each non-empty line."""
    norm = normalizer or Normalizer()
    for chunk in chunked(read_lines(path, "text to winnow"), 2048):
        normed, counts = norm.batch(chunk, counts=True)  # numpy: Python per line would dominate
        for line, s, n in zip(chunk, normed, counts):
            if s:
                yield line, s, sentence_perplexity(model, s, n)


def _dev_perplexities(model, dev: str | Path, normalizer: Normalizer | None) -> np.ndarray:
    """The model's sentence perplexities on ``dev``, which thresholds are taken from (warns when
    most dev words are unknown to the model: the threshold then says little)."""
    from lmboot.lm.coverage import unknown_to_all, warn_dev_unknown

    scored = list(score(model, dev, normalizer))
    if not scored:
        raise LmbootError("no sentence to set the threshold from", path=dev)
    warn_dev_unknown(unknown_to_all([model], (s for _, s, _ in scored)), dev, "the winnowing threshold")
    return np.asarray([p for _, _, p in scored])


def dev_threshold(model, dev: str | Path, percentile: float, normalizer: Normalizer | None = None) -> float:
    """The ``percentile``-th percentile of the model's sentence perplexities on ``dev``."""
    if not 0 < percentile <= 100:
        raise LmbootError(f"percentile must be in (0, 100], not {percentile}")
    return float(np.percentile(_dev_perplexities(model, dev, normalizer), percentile))


@dataclass
class WinnowResult(Filtered):
    """What :func:`winnow` kept and where it wrote it (``summary.json`` holds :meth:`to_json`)."""

    input: Path
    threshold: float
    threshold_from: str
    total: int
    kept: int
    dropped: int
    quantiles: dict = field(default_factory=dict)
    kept_path: Path | None = None
    dropped_path: Path | None = None
    scores_path: Path | None = None
    summary_path: Path | None = None
    histogram_path: Path | None = None

    def summary(self) -> str:
        return f"{self.kept_line()}, threshold {self.threshold:.2f} ({self.threshold_from}) -> {self.kept_path}"


def winnow(text: str | Path, model_path: str | Path, out_dir: str | Path, threshold: float | None = None,
           percentile: float | None = None, dev: str | Path | None = None,
           normalizer: Normalizer | None = None, write_normalized: bool = False,
           progress: bool = False, allow_empty: bool = False, plot: bool = True) -> WinnowResult:
    """Split ``text`` by seed-LM perplexity into ``out_dir/kept.txt`` and ``out_dir/dropped.tsv``.

    Exactly one of ``threshold`` (a perplexity) or ``percentile`` (with ``dev``) is given.
    A sentence is kept when its perplexity is <= the threshold. Output lines are the input
    lines as they were (``write_normalized=True`` writes the normalised text instead);
    ``dropped.tsv`` carries each dropped sentence's perplexity (``ppl<TAB>sentence``) so a user
    can see why. Also written: ``scores.f32`` (every sentence's perplexity, float32),
    ``summary.json`` (counts, threshold, perplexity quantiles) and, with ``plot``,
    ``histogram.png`` (log10 perplexities, the cut marked). Keeping nothing is an error unless
    ``allow_empty`` (then ``kept.txt`` is empty).
    """
    if (threshold is None) == (percentile is None):
        raise LmbootError("give exactly one of --threshold or --percentile")
    if percentile is not None and dev is None:
        raise LmbootError("--percentile needs --dev (in-domain text the percentile is taken on)")
    model = load(model_path)
    if percentile is not None:
        threshold = dev_threshold(model, dev, percentile, normalizer)
        source = f"p{percentile:g} of seed-LM perplexity on {dev}"
    else:
        if threshold <= 0:
            raise LmbootError(f"threshold must be a positive perplexity, not {threshold}")
        source = "given"
    out_dir = Path(out_dir)
    kept_p, dropped_p, scores_p = out_dir / "kept.txt", out_dir / "dropped.tsv", out_dir / "scores.f32"
    ppls = Scores()
    kept = dropped = 0
    with atomic_write(kept_p) as fk, atomic_write(dropped_p) as fd, progress_bar(progress, None, "winnow") as bar:
        for line, s, ppl in score(model, text, normalizer):
            ppls.append(ppl)
            out = s if write_normalized else line
            if ppl <= threshold:
                fk.write(out + "\n")
                kept += 1
            else:
                fd.write(f"{ppl:.2f}\t{out}\n")
                dropped += 1
            if bar is not None:
                bar.update(1)
        # Errors are raised inside the atomic writers: nothing is published (old outputs stay).
        total = kept + dropped
        if total == 0:
            raise LmbootError("no sentence to winnow after normalisation", path=text)
        if kept == 0 and not allow_empty:
            low = float(np.min(ppls.array))
            raise LmbootError(f"winnowing kept nothing: every sentence's perplexity is above the threshold "
                              f"{threshold:.1f} (lowest {low:.1f}); the text is far from the seed domain "
                              f"(broken translations?) or the threshold is too strict", path=text)
    ppls.save(scores_p)
    arr = ppls.array
    res = WinnowResult(
        input=Path(text), threshold=float(threshold), threshold_from=source, total=total, kept=kept,
        dropped=dropped, quantiles=quantiles(arr, QUANTILES), kept_path=kept_p, dropped_path=dropped_p,
        scores_path=scores_p)
    finish(res, out_dir, (lambda png: _histogram(arr, res.threshold, png)) if plot else None)
    log.info("winnow: kept %d of %d (%.1f%%), threshold %.2f (%s)", kept, total, 100 * kept / total,
             threshold, source)
    return res


DEFAULT_PERCENTILES = (50.0, 75.0, 90.0, 95.0, 99.0)


@dataclass
class WinnowTuneResult(Result):
    """The threshold the dev objective chose: ``percentile`` None means keep everything."""

    percentile: float | None
    threshold: float | None
    objective: float
    grid: list = field(default_factory=list)

    def summary(self) -> str:
        if self.percentile is None:
            return f"winnow: no winnowing (dev objective {self.objective:.2f})"
        return (f"winnow: p{self.percentile:g} of the dev perplexities, threshold {self.threshold:.1f} "
                f"(dev objective {self.objective:.2f})")


def tune(text: str | Path, model_path: str | Path, dev: str | Path, objective,
         percentiles=DEFAULT_PERCENTILES, normalizer: Normalizer | None = None) -> WinnowTuneResult:
    """Choose the winnowing percentile by the in-domain dev objective of the final LM.

    Each candidate keeps the lines of ``text`` whose seed-LM perplexity is at most that
    percentile of the dev perplexities; keeping everything (no winnowing) is always a
    candidate, so winnowing is switched off when it does not help on dev. Ties
    (:data:`lmboot.decide.TIE`) go to the larger percentile (the least text dropped).
    """
    from lmboot.decide import choose

    model = load(model_path)
    dev_ppls = _dev_perplexities(model, dev, normalizer)
    lines, ppls = [], []
    for line, _s, p in score(model, text, normalizer):
        lines.append(line)
        ppls.append(p)
    arr = np.asarray(ppls)
    grid = [{"percentile": None, "threshold": None, "kept": len(lines), "objective": objective(lines)}]
    for q in sorted({float(x) for x in percentiles}, reverse=True):
        if not 0 < q <= 100:
            raise LmbootError(f"percentile must be in (0, 100], not {q}")
        t = float(np.percentile(dev_ppls, q))
        kept = [x for x, p in zip(lines, arr) if p <= t]
        grid.append({"percentile": q, "threshold": t, "kept": len(kept), "objective": objective(kept)})
    best = choose(grid, lambda g: -(g["percentile"] or 101.0))
    log.info("winnow: dev objective chose %s", "no winnowing" if best["percentile"] is None
             else f"p{best['percentile']:g} (threshold {best['threshold']:.1f}, keeps {best['kept']})")
    return WinnowTuneResult(percentile=best["percentile"], threshold=best["threshold"],
                            objective=best["objective"], grid=grid)


def _histogram(ppls: np.ndarray, threshold: float, png: Path) -> Path:
    """Histogram of log10 sentence perplexities with the cut marked."""
    return plots.histogram(np.log10(np.maximum(ppls, 1.0)), float(np.log10(threshold)), png,
                           xlabel="log10 seed-LM perplexity", ylabel="sentences",
                           cut_label=f"threshold {threshold:.1f}", bins=50, size=(6, 3.5))
