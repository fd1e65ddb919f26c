"""History probabilities P(h) for relative-entropy pruning, from text frequencies.

Stolcke's pruning criterion weighs each context h by its probability P(h). SRILM (and
:func:`lmboot.lm.prune` by default) takes it from the model by the chain rule; in a
Kneser-Ney model the lower-order probabilities are continuation probabilities, not
frequencies, so P(h) comes out badly wrong (Chelba et al. 2010, "Study on interaction between
entropy pruning and Kneser-Ney smoothing"; SRILM's ``-prune-history-lm`` answers the same
problem). Here P(h) is the relative frequency of h in the LM's own training text instead:
the share of the text's positions (each word and ``</s>``) that h precedes. With several texts
(an interpolated LM), each text's frequencies are weighted, e.g. by its interpolation weight.

>>> logp = history_logprobs(model, [("general.de", 0.7), ("seed.de", 0.3)])  # doctest: +SKIP
>>> logp[2]     # log10 P(h) of every 2-gram history, in the model's table order  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from lmboot.errors import LmbootError
from lmboot.io.corpus import chunked, read_lines
from lmboot.text.normalize import Normalizer

_FLOOR = 0.5  # counts given to a history the model lists but the text never shows


def _count(model, path: Path, norm: Normalizer) -> tuple[dict[int, np.ndarray], int]:
    """Occurrences of every listed (n-1)-gram (n = 2..order) as a history in ``path``, and the
    number of positions. Streams the text; memory is one float per listed history."""
    ids = {w: i for i, w in enumerate(model.words)}
    bos, unk = ids.get("<s>"), ids.get("<unk>", -1)
    if bos is None:
        raise LmbootError("the model has no <s>: history frequencies need sentence starts", path=model.path)
    counts = {m: np.zeros(model.counts[m - 1]) for m in range(1, model.order)}
    positions = 0
    for chunk in chunked(read_lines(path, "history text"), 8192):
        seq = []
        for sent in norm.batch(chunk):
            if sent:
                words = sent.split()
                seq += [-1, bos, *(ids.get(w, unk) for w in words)]  # -1: no history crosses it
                positions += len(words) + 1
        arr = np.array(seq, dtype=np.int64)
        ends = np.flatnonzero(arr >= 0)  # the last word of each history
        for m in range(1, model.order):  # an m-gram history ends at every end with m words before
            ok = ends >= m - 1
            e = ends[ok]
            idx = arr[e]
            for j in range(1, m):  # extend leftwards: (w_{e-j} .. w_e)
                valid = (idx >= 0) & (arr[e - j] >= 0)
                e, idx = e[valid], idx[valid]
                idx = model.find(j + 1, idx, arr[e - j])
            idx = idx[idx >= 0]
            counts[m] += np.bincount(idx, minlength=len(counts[m]))
    if positions == 0:
        raise LmbootError("no text left after normalisation", path=path)
    return counts, positions


def history_logprobs(model, texts: Sequence[tuple[str | Path, float | None]],
                     normalizer: Normalizer | None = None) -> dict[int, np.ndarray]:
    """log10 P(h) of every listed n-gram of orders 1..order-1, as a history, from ``texts``:
    ``[(path, weight), ...]``. Weights None: the texts are pooled (as one concatenated text);
    else each text's frequencies are weighted (weights normalised to sum 1). Text is normalised
    as the LM text was (``normalizer``, default :class:`Normalizer`)."""
    norm = normalizer or Normalizer()
    weights = [w for _, w in texts]
    if any(w is None for w in weights) and not all(w is None for w in weights):
        raise LmbootError("give a weight for every history text or for none")
    if any(w is not None and not w > 0 for w in weights):
        raise LmbootError(f"history text weights must be > 0, not {weights}")
    acc = {m: np.zeros(model.counts[m - 1]) for m in range(1, model.order)}
    pooled = 0
    wsum = sum(w for w in weights if w is not None) or 1.0
    for path, w in texts:
        counts, positions = _count(model, Path(path), norm)
        for m, c in counts.items():
            if w is None:
                acc[m] += c
            else:
                acc[m] += (w / wsum) * c / positions
        pooled += positions
    out = {}
    for m, a in acc.items():
        if weights[0] is None:
            a = a / pooled
        out[m] = np.log10(np.maximum(a, _FLOOR / pooled))
    return out


__all__ = ["history_logprobs"]
