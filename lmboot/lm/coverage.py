"""How much of a dev text the LMs know: a warning when tuned numbers rest on almost nothing.

Weights, thresholds and objectives tuned on a dev text that is mostly unknown to every LM
(another language or script, another normalisation) say little; :func:`warn_dev_unknown` says
so once, naming the dev file.

>>> unknown_to_all([{"set", "alarm"}], ["set an alarm"])
0.3333333333333333
"""
from __future__ import annotations

import logging
import os

log = logging.getLogger("lmboot")

DEV_UNKNOWN_LIMIT = 0.5


def unknown_to_all(models, sentences) -> float:
    """Fraction of the words of (normalised) ``sentences`` that no KenLM model in ``models`` knows."""
    total = unknown = 0
    for s in sentences:
        for w in s.split():
            total += 1
            if not any(w in m for m in models):
                unknown += 1
    return unknown / total if total else 0.0


def warn_dev_unknown(rate: float, dev: str | os.PathLike, what: str) -> bool:
    """One warning when most dev words are unknown to every LM: the tuned numbers then say little."""
    if rate <= DEV_UNKNOWN_LIMIT:
        return False
    log.warning("%s: %.0f%% of the dev words are unknown to every LM; %s is tuned on almost nothing "
                "(is the dev set in the LMs' language and script, normalised the same way?)",
                dev, 100 * rate, what)
    return True


__all__ = ["unknown_to_all", "warn_dev_unknown", "DEV_UNKNOWN_LIMIT"]
