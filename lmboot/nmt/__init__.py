"""Neural machine translation on fairseq2: SentencePiece, training, n-best translation, self-training.

Translation runs on an engine chosen by name (:data:`ENGINES`: fairseq2, ct2), each behind the
:class:`Translator` interface (:mod:`lmboot.nmt.engines`).

>>> from lmboot.nmt import train_spm, train, translate, self_train     # doctest: +SKIP
"""
from __future__ import annotations

from lmboot.nmt.adapt import Verdict, fine_tune, keep_better
from lmboot.nmt.engines import ENGINES, SearchOptions, open_translator
from lmboot.nmt.model import PRESETS, load_model
from lmboot.text.quality import (DegenerateFilter, HypothesisFilter, LengthRatioFilter, MinScoreFilter,
                                degenerate)
from lmboot.nmt.selftrain import SelfTrainResult, self_train
from lmboot.nmt.spm import SpmResult, train_spm
from lmboot.nmt.training import NMTTrainResult, train
from lmboot.nmt.translation import TranslateResult, Translator, translate

__all__ = ["PRESETS", "load_model", "train_spm", "SpmResult", "train", "NMTTrainResult", "translate",
           "TranslateResult", "Translator", "self_train", "SelfTrainResult", "HypothesisFilter",
           "MinScoreFilter", "LengthRatioFilter", "DegenerateFilter", "degenerate", "fine_tune", "keep_better",
           "Verdict", "ENGINES", "SearchOptions", "open_translator"]
