"""Text shared by every stage: normalisation (:mod:`lmboot.text.normalize`)."""
from lmboot.text.normalize import Normalizer, normalize

__all__ = ["Normalizer", "normalize"]
