"""Filtering a corpus by a score: what selection and winnowing share.

Both stages follow OpusFilter's split of a filter into ``score()`` and ``accept()``: a scorer
streams one number per line, lower meaning better (:mod:`lmboot.select.scorers`: distance to
the in-domain seed; :func:`lmboot.winnow.score`: seed-LM perplexity), and a rule turns the
scores into a keep/drop decision. Then both write the kept lines, a record of every score,
``summary.json`` and ``histogram.png`` with the cut marked. This module holds the shared parts:

- :class:`Scores`: one float32 per line of a stream (a 10M-line corpus costs 40 MB);
- :func:`decide`: the rank or threshold rules (``keep_fraction``, ``top_k``, ``max_distance``;
  ties broken by line order);
- :func:`quantiles`: the summary of a score distribution;
- :class:`Filtered` and :func:`finish`: the result both stages return, with its summary line,
  and the writing of ``summary.json`` and ``histogram.png``;
- :func:`progress_bar`: the progress bar of a stream (off unless asked for).
"""
from __future__ import annotations

import contextlib
import math
from array import array
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from lmboot.io.corpus import atomic_write, write_json
from lmboot.results import Result


class Scores:
    """The scores of a stream, one float32 per line, in line order (``inf``: not scorable)."""

    def __init__(self):
        self._a = array("f")

    def append(self, value: float) -> None:
        self._a.append(value)

    def __setitem__(self, i: int, value: float) -> None:
        self._a[i] = value

    def __len__(self) -> int:
        return len(self._a)

    @property
    def array(self) -> np.ndarray:
        """A numpy view (float32) of the scores so far."""
        return np.frombuffer(self._a, dtype=np.float32)

    def save(self, path: str | Path) -> Path:
        """The scores as raw little-endian float32, atomically (``numpy.fromfile`` reads them)."""
        with atomic_write(path, "wb") as f:
            self._a.tofile(f)
        return Path(path)


def decide(scores: np.ndarray, keep_fraction: float | None = None, max_distance: float | None = None,
           top_k: int | None = None) -> tuple[np.ndarray, float, str]:
    """``(keep mask, threshold, rule)`` for one rule: keep scores <= ``max_distance``, the
    ``top_k`` best, or the best ``keep_fraction`` of all lines (unscorable ones included in
    the count, never kept). The threshold of a rank rule is the score of the last line kept
    (NaN when nothing is). Ties: earlier lines first (stable sort)."""
    finite = np.isfinite(scores)
    if max_distance is not None:
        keep = finite & (scores <= np.float32(max_distance))
        return keep, float(max_distance), f"max_distance={max_distance:g}"
    if top_k is not None:
        want, rule = int(top_k), f"top_k={top_k}"
    else:
        want, rule = int(math.floor(keep_fraction * len(scores) + 0.5)), f"keep_fraction={keep_fraction:g}"
    want = min(want, int(finite.sum()))
    keep = np.zeros(len(scores), bool)
    if want <= 0:
        return keep, float("nan"), rule
    order = np.argsort(scores, kind="stable")
    keep[order[:want]] = True
    return keep, float(scores[order[want - 1]]), rule


def quantiles(values: np.ndarray, qs: Iterable[float], digits: int | None = None) -> dict:
    """``{"p0": min, "p10": ..., "p100": max}`` of ``values`` (numpy's linear interpolation),
    rounded to ``digits`` when given; empty for no values."""
    if len(values) == 0:
        return {}
    got = {f"p{q * 100:g}": float(np.quantile(values, q)) for q in qs}  # one q at a time keeps float32 float32
    return got if digits is None else {k: round(v, digits) for k, v in got.items()}


class Filtered(Result):
    """Mixin of the results of a filter (dataclasses with ``total``, ``kept``, ``threshold``,
    ``summary_path`` and ``histogram_path``)."""

    @property
    def kept_share(self) -> float:
        return self.kept / self.total if self.total else 0.0

    def kept_line(self) -> str:
        return f"kept {self.kept} of {self.total} ({100 * self.kept_share:.1f}%)"

    def summary_json(self) -> dict:
        """What ``summary.json`` holds (by default :meth:`to_json`)."""
        return self.to_json()


def finish(result: Filtered, out_dir: Path, plot: Callable[[Path], Path] | None) -> None:
    """Draw the histogram (``plot(png)``, when given) into ``out_dir/histogram.png``, then write
    ``out_dir/summary.json``; both paths are set on ``result``."""
    if plot is not None:
        result.histogram_path = plot(out_dir / "histogram.png")
    result.summary_path = out_dir / "summary.json"
    write_json(result.summary_path, result.summary_json())


@contextlib.contextmanager
def progress_bar(enabled: bool, total: int | None, desc: str):
    """A tqdm bar counting sentences (``None`` when not ``enabled``): ``bar.update(n)``."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, unit=" sent", unit_scale=True, desc=desc, mininterval=0.5, smoothing=0.1)
    try:
        yield bar
    finally:
        bar.close()


__all__ = ["Scores", "decide", "quantiles", "Filtered", "finish", "progress_bar"]
