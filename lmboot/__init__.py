"""lmboot: bootstrap an n-gram language model for a new language by machine translation.

Stages, one module or package each, in the order data flows:
``select`` (bitext selection) -> ``nmt`` (translator) -> ``rescore`` (n-best rescoring with the
seed LM) -> ``lmtext`` (LM text from the n-best lists) -> ``winnow`` (perplexity filter) ->
``lm`` (train, score, mix and build the final LM) -> ``evaluate`` (WER); ``pipeline`` runs
them all from one config. Shared pieces: ``io`` (corpora, n-best lists, ARPA files),
``text`` (normalisation), ``metrics`` (BLEU, chrF, WER), ``filtering`` (score -> threshold ->
kept/dropped, for select and winnow), ``plots``, ``results`` (the result protocol),
``defaults``, ``errors``.
"""
__version__ = "0.1.0"

from lmboot.errors import LmbootError  # noqa: E402

__all__ = ["LmbootError", "__version__"]
