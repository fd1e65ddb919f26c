"""Neural machine translation on fairseq2: SentencePiece, training, n-best translation, self-training.

>>> from lmboot.nmt import train_spm, train, translate, self_train     # doctest: +SKIP
"""
from __future__ import annotations

from lmboot.nmt.model import PRESETS, load_model
from lmboot.nmt.selftrain import (HypothesisFilter, LengthRatioFilter, MinScoreFilter, SelfTrainResult,
                                  self_train)
from lmboot.nmt.spm import SpmResult, train_spm
from lmboot.nmt.train import TrainResult, train
from lmboot.nmt.translate import TranslateResult, Translator, score, translate

__all__ = ["PRESETS", "load_model", "train_spm", "SpmResult", "train", "TrainResult", "translate",
           "TranslateResult", "Translator", "score", "self_train", "SelfTrainResult", "HypothesisFilter",
           "MinScoreFilter", "LengthRatioFilter"]
