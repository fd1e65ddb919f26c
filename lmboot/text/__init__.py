"""Text shared by every stage: normalisation (:mod:`lmboot.text.normalize`) and which
machine-made sentences to trust (:mod:`lmboot.text.quality`).

``normalize`` here is the module; the one-string function is :func:`lmboot.text.normalize.normalize`.
"""
from lmboot.text.normalize import Normalizer

__all__ = ["Normalizer"]
