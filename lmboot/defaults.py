"""Defaults shared by a library call, its command-line option and the pipeline config.

Each is defined here once (and nothing is imported here, so the command line can read them
without loading numpy or KenLM); :mod:`lmboot.pipeline.config`, :mod:`lmboot.cli` and the
library modules refer to these names.
"""

#: log10 charged for a word an LM does not know, instead of that LM's own ``<unk>``
#: probability, so LMs with different vocabularies compare honestly (``lm eval``, ``eval wer``,
#: the pipeline's evaluation and dev objective). One in ten million: harsher than any sane
#: ``<unk>`` estimate.
DEFAULT_OOV_PENALTY = -7.0

#: The fraction of the general bitext ``select`` keeps when no keep rule is given
#: (``lmboot select``, ``[select]`` and ``[moore_lewis]`` in a pipeline config).
DEFAULT_KEEP_FRACTION = 0.3

__all__ = ["DEFAULT_OOV_PENALTY", "DEFAULT_KEEP_FRACTION"]
