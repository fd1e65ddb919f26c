"""lmboot: bootstrap an n-gram language model for a new language by machine translation.

Stages, one module each, in the order data flows:
``select`` (bitext selection) -> ``nmt`` (translator) -> ``rescore`` (n-best rescoring with the
seed LM) -> ``winnow`` (perplexity filter) -> ``lm`` (final LM build) -> ``evaluate`` (WER).
Shared pieces: ``corpus`` (reading, writing, normalising text), ``kenlm_tools`` (the KenLM
binaries), ``errors``.
"""
__version__ = "0.1.0"

from lmboot.errors import LmbootError  # noqa: E402

__all__ = ["LmbootError", "__version__"]
