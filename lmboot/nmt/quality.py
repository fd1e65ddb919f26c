"""Old home of the hypothesis checks, now :mod:`lmboot.text.quality` (they judge text, whichever
stage made it); re-exported so ``from lmboot.nmt.quality import degenerate`` keeps working."""
from lmboot.text.quality import (DegenerateFilter, HypothesisFilter, LengthRatioFilter, MinScoreFilter, degenerate,
                                 mean_logprob, most_confident)

__all__ = ["degenerate", "HypothesisFilter", "MinScoreFilter", "LengthRatioFilter", "DegenerateFilter",
           "mean_logprob", "most_confident"]
