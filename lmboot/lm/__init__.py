"""N-gram language models (KenLM): train, score, evaluate, mix, and build the final LM.

One module per job, in the order a model lives:

- :mod:`~lmboot.lm.tools`: finding and running KenLM's programs (lmplz, build_binary, ...);
- :mod:`~lmboot.lm.estimate`: ``lmboot lm train`` (lmplz, modified Kneser-Ney) and binaries
  (the function is ``lm.train``; its module is not called ``train`` so that no name here
  means both a module and a function);
- :mod:`~lmboot.lm.score`: loading a model, the one :class:`LMScorer` (batches, word cache,
  OOV penalty), units;
- :mod:`~lmboot.lm.perplexity`: ``lmboot lm eval`` (perplexity on a common vocabulary) and
  per-token dev probabilities;
- :mod:`~lmboot.lm.mixture`: EM weights and the static linear ARPA mixture;
- :mod:`~lmboot.lm.builder`: ``lmboot lm build`` (one LM per source, interpolated);
- :mod:`~lmboot.lm.pruning`: ``lmboot lm prune`` (relative-entropy pruning to a threshold or a
  size budget), with :mod:`~lmboot.lm.history` (P(h) from text) and :mod:`~lmboot.lm.size`
  (KenLM binary sizes);
- :mod:`~lmboot.lm.objective`: the in-domain dev objective every pipeline decision uses;
- :mod:`~lmboot.lm.coverage`: a warning when most dev words are unknown to every LM.

This package exports the functions most callers need (``lm.train``, ``lm.evaluate``, ...).
"""
from lmboot.lm.builder import (BuildResult, LinearInterpolator, LogLinearInterpolator, build, parse_source,
                               work_dir_for)
from lmboot.lm.estimate import LMTrainResult, build_binary, train
from lmboot.lm.perplexity import PerplexityResult, evaluate
from lmboot.lm.pruning import PruneResult, prune
from lmboot.lm.score import DEFAULT_OOV_PENALTY, LMScorer, load, log10_to_ln, sentence_perplexity

__all__ = ["train", "LMTrainResult", "build_binary", "load", "LMScorer", "sentence_perplexity", "log10_to_ln",
           "DEFAULT_OOV_PENALTY", "evaluate", "PerplexityResult", "build", "BuildResult", "parse_source", "work_dir_for",
           "LinearInterpolator", "LogLinearInterpolator", "prune", "PruneResult"]
