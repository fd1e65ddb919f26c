"""The in-domain dev objective: how much a candidate text would help the final LM.

Every technique that shapes the translated LM text (which translator, which hypotheses,
rescoring weights, winnowing threshold) is judged by what it does to the *final* LM, not by
a proxy such as chrF on general-domain text. The final LM interpolates fixed components
(the seed LM and the general-text LM of the best baseline) with an LM of the translations,
so a candidate text is scored by:

1. an order-``order`` KenLM of the candidate text (lmplz, :func:`lmboot.lm.train`);
2. per-token probabilities of the in-domain dev text under every component, ``</s>``
   included; a word a component does not know gets probability 0 from it (as in the static
   mixture, whose vocabulary is the union);
3. EM weights for the linear mixture on the dev tokens that some component knows
   (:func:`lmboot.lm.mixture.em_weights`);
4. the mixture's perplexity over *all* dev tokens, a token no component knows charged the
   fixed ``oov_penalty`` (log10, :func:`lmboot.lm.score.charge_unknown`), so that every
   candidate is measured on the same tokens and a text that teaches the LM new in-domain
   words is rewarded for it.

Lower is better. The fixed components' dev probabilities are computed once, so judging a
candidate costs one lmplz run on it (about a second for 50k sentences).

>>> obj = DevObjective(["seed.bin", "general.bin"], "dev.de")          # doctest: +SKIP
>>> obj.without(), obj(["stell einen wecker für sieben uhr"])          # doctest: +SKIP
(303.8, 297.1)
"""
from __future__ import annotations

import hashlib
import logging
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from lmboot.decide import TIE, choose  # noqa: F401 (re-export: their old home)
from lmboot.errors import LmbootError
from lmboot.io.corpus import naming_errors, read_lines
from lmboot.io.temps import temp_prefix
from lmboot.lm.mixture import em_weights
from lmboot.lm.perplexity import DevTokens, dev_tokens
from lmboot.lm.score import DEFAULT_OOV_PENALTY, charge_unknown, load
from lmboot.lm.estimate import train
from lmboot.text.normalize import Normalizer

log = logging.getLogger("lmboot")
CANDIDATE_TMP = temp_prefix("lmboot-objective-")  # registered: a killed run's leftovers are cleaned


def mixture_ppl(parts: Sequence[DevTokens], oov_penalty: float) -> tuple[float, list[float]]:
    """Perplexity of the EM-tuned linear mixture of ``parts`` on all dev tokens, and the weights."""
    probs = np.stack([p.prob for p in parts], axis=1)
    known = np.logical_or.reduce([p.known for p in parts])
    n = len(known)
    if not known.any():
        return 10.0 ** (-oov_penalty), [1.0 / len(parts)] * len(parts)
    em = em_weights(probs[known])
    lp = np.zeros(n)
    lp[known] = np.log10(np.maximum(probs[known] @ np.asarray(em.weights), 1e-300))
    ll = charge_unknown(lp, known, oov_penalty)  # unknown to the mixture: to every component
    return 10.0 ** (-ll / n), em.weights


class DevObjective:
    """Dev perplexity of the final LM if ``text`` were its translated component (see module doc).

    ``fixed``: the LMs every candidate is interpolated with (ARPA or KenLM binary);
    ``dev``: in-domain target text. Results are cached by the candidate text's content.
    """

    def __init__(self, fixed: Sequence[str | Path], dev: str | Path, order: int = 3,
                 oov_penalty: float = DEFAULT_OOV_PENALTY, normalizer: Normalizer | None = None,
                 work_dir: str | Path | None = None):
        self.norm = normalizer or Normalizer()
        self.order, self.oov_penalty = order, float(oov_penalty)
        self.sentences = [s for s in self.norm.batch(list(read_lines(dev, "dev text"))) if s]
        if not self.sentences:
            raise LmbootError("dev text has no sentence left after normalisation", path=dev)
        self.fixed = [dev_tokens(load(p), self.sentences) for p in fixed]
        self.tokens = len(self.fixed[0].prob) if self.fixed else sum(len(s.split()) + 1 for s in self.sentences)
        self.work_dir = work_dir
        self._cache: dict[str, float] = {}
        self.calls = 0

    def without(self) -> float:
        """The objective with no translated component: the best baseline's dev perplexity."""
        return mixture_ppl(self.fixed, self.oov_penalty)[0]

    def unknown_rate(self) -> float:
        """Share of dev tokens that no fixed component knows (a warning sign when high)."""
        known = np.logical_or.reduce([p.known for p in self.fixed])
        return float(1.0 - known.mean())

    def __call__(self, lines: Iterable[str]) -> float:
        text = "".join(s + "\n" for s in (self.norm(x) for x in lines) if s)
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if key in self._cache:
            return self._cache[key]
        if not text:
            value = self.without()
        else:
            self.calls += 1
            with tempfile.TemporaryDirectory(prefix=CANDIDATE_TMP, dir=self.work_dir) as tmp:
                txt, arpa = Path(tmp) / "text.txt", Path(tmp) / "text.arpa"
                with naming_errors(txt):
                    txt.write_text(text, encoding="utf-8")
                train(txt, arpa, order=self.order, normalize_text=False)
                cand = dev_tokens(load(arpa), self.sentences)
            value = mixture_ppl([*self.fixed, cand], self.oov_penalty)[0]
        self._cache[key] = value
        return value


__all__ = ["DevObjective", "mixture_ppl", "choose", "TIE"]
