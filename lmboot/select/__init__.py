"""Selecting in-domain pairs from a general-domain bitext (stage 1 of the method).

General-domain bitext is mostly off-domain for the translator the method trains. This
stage keeps the pairs whose *target* side is close to the small in-domain target-language
seed set:

- ``centroid`` (the paper's rule): embed the seed, average the embeddings (the centroid),
  embed the target side of every pair and score it by cosine distance to the centroid;
- ``knn``: score by the mean cosine distance to the ``k`` closest seed sentences (robust when
  the seed has several sub-domains, whose centroid may lie near none of them);
- ``moore-lewis``: cross-entropy difference ``H_in(s) - H_gen(s)`` (bits per word) of an
  in-domain KenLM trained on the seed and a general KenLM trained on a random sample of the
  general target side of about the same size.

Lower scores are more in-domain for every method. One keep rule applies to the scores:
``max_distance`` (keep score <= it), ``top_k`` (keep the k best) or ``keep_fraction`` (keep that
fraction of all pairs, the default, 0.3). Ties are broken by line order (earlier first).

>>> res = select("general.en", "general.hi", "seed.hi", "sel/", keep_fraction=0.2)  # doctest: +SKIP
>>> res.kept, res.threshold, res.selected_tgt                                        # doctest: +SKIP
(5211, 0.6012, PosixPath('sel/selected.hi'))

Modules: :mod:`~lmboot.select.embedders` (sentence vectors), :mod:`~lmboot.select.scorers`
(a score per pair: the three methods), :mod:`~lmboot.select.selection` (the driver: stream,
decide, write; the decision and the summary are :mod:`lmboot.filtering`'s, shared with
winnowing).
"""
from lmboot.select.embedders import (Embedder, SentenceTransformerEmbedder, TfidfLsaConfig, TfidfLsaEmbedder,
                                     load_embedder, make_embedder)
from lmboot.select.scorers import (METHODS, CentroidScorer, KnnScorer, MooreLewisScorer, Scorer,
                                   make_scorer)
from lmboot.select.selection import DEFAULT_KEEP_FRACTION, SelectResult, select

__all__ = ["select", "SelectResult", "DEFAULT_KEEP_FRACTION", "METHODS", "Embedder", "TfidfLsaEmbedder",
           "TfidfLsaConfig", "SentenceTransformerEmbedder", "load_embedder", "make_embedder", "Scorer",
           "CentroidScorer", "KnnScorer", "MooreLewisScorer", "make_scorer"]
