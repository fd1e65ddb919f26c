"""N-best rescoring with the in-domain seed LM (stage 4 of the method).

A general-domain translator ranks its hypotheses by general-domain fluency; the in-domain
seed LM knows how the target language is phrased in the domain. Every hypothesis gets

    total = score / tokens**alpha  +  lambda * lm_logprob  +  mu * words

where ``score`` is the producer's natural-log score (NMT sequence log-probability, or a
recogniser's first-pass score), ``tokens`` the length it was computed over (``words`` when
absent), ``lm_logprob`` the seed LM's natural-log probability of the hypothesis (KenLM's
log10 converted by :func:`lmboot.lm.log10_to_ln`; ``<s>``/``</s>`` included) of the text
normalised exactly as the seed LM's training text was (:class:`lmboot.text.normalize.Normalizer`),
and ``words`` the number of words the LM saw (a word-insertion bonus when ``mu > 0``).
The highest total wins; ties go to the lower index, i.e. the producer's own order, so
``lambda = mu = alpha = 0`` reproduces the producer's choice exactly.

- :mod:`~lmboot.rescore.combine`: :class:`Weights` and :func:`rescore` (the formula above);
- :mod:`~lmboot.rescore.tuning`: grid searches for lambda and mu, by a metric against
  references (:func:`tune`) or by the final LM's dev objective (:func:`tune_lm`);
- :mod:`~lmboot.rescore.files`: n-best files in and out, and :func:`run`, the one call of
  ``lmboot rescore`` and the pipeline's rescore step (tune, save the weights, rescore).

The n-best format is the one in ``docs/formats.md`` (MT and speech recognition alike), read by
:func:`lmboot.io.nbest.read_nbest`; the LM is scored by :class:`lmboot.lm.score.LMScorer`::

    {"id": "utt-1", "ref": "...", "hyps": [{"text": "...", "score": -4.2, "tokens": 7}, ...]}

>>> from lmboot import rescore
>>> res = rescore.run("test.nbest.jsonl", "seed.bin", out_txt="best.hi",
...                   tune_on="dev.nbest.jsonl", metric="chrf")          # doctest: +SKIP
>>> print(res.summary())                                                 # doctest: +SKIP
"""
from lmboot.rescore.combine import Weights, rescore
from lmboot.rescore.files import RescoreResult, RescoreRun, rescore_file, run
from lmboot.rescore.tuning import (DEFAULT_LENGTH_PENALTIES, DEFAULT_LM_WEIGHTS, LMTuneResult, MetricTuneResult, tune,
                                   tune_lm)

__all__ = ["Weights", "rescore", "tune", "MetricTuneResult", "tune_lm", "LMTuneResult", "rescore_file",
           "RescoreResult", "run", "RescoreRun", "DEFAULT_LM_WEIGHTS", "DEFAULT_LENGTH_PENALTIES"]
