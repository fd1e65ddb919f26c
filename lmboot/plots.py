"""The pictures lmboot writes (PNG, matplotlib's Agg backend, no display needed).

- :func:`histogram`: a score distribution with the cut marked (selection, winnowing);
- :func:`system_bars`: every system's test perplexity and simulated WER (the run report).

Every figure is written atomically and without a creation timestamp or software tag, so the
same numbers give byte-identical files.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np

from lmboot.io.corpus import atomic_path

_BLUE, _ORANGE, _RED = "#4c72b0", "#dd8452", "#c44e52"


def pyplot():
    """matplotlib.pyplot on the Agg backend (imported on first use: it is slow to import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, png: str | Path) -> Path:
    """Write ``fig`` to ``png`` (atomically, 100 dpi, no metadata) and close it."""
    plt = pyplot()
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return Path(png)


def histogram(values: np.ndarray, cut: float, png: str | Path, xlabel: str, ylabel: str, cut_label: str,
              title: str = "", bins: int = 60, size: tuple[float, float] = (6.5, 3.6)) -> Path:
    """Histogram of the finite ``values`` with a dashed line at ``cut`` (when finite), labelled
    ``cut_label`` in the legend."""
    plt = pyplot()
    values = np.asarray(values)
    fig, ax = plt.subplots(figsize=size)
    ax.hist(values[np.isfinite(values)], bins=bins, color=_BLUE)
    if math.isfinite(cut):
        ax.axvline(cut, color=_RED, linestyle="--", label=cut_label)
        ax.legend()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    return save(fig, png)


def system_bars(systems: Sequence[str], ppl: Sequence[float], wer: Sequence[float] | None, png: str | Path) -> Path:
    """Horizontal bars of each system's test perplexity (and simulated WER, in %, when given)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2 if wer else 1, figsize=(10 if wer else 5.5, 3.8), squeeze=False)
    axes[0][0].barh(list(systems), list(ppl), color=_BLUE)
    axes[0][0].set_xlabel("test perplexity (common vocabulary)")
    axes[0][0].invert_yaxis()
    if wer:
        axes[0][1].barh(list(systems), [100 * w for w in wer], color=_ORANGE)
        axes[0][1].set_xlabel("simulated WER (%)")
        axes[0][1].invert_yaxis()
    return save(fig, png)


__all__ = ["histogram", "system_bars", "pyplot", "save"]
