"""Word and character error rates with jiwer, on lmboot-normalised text.

Both sides are normalised with the same :class:`~lmboot.corpus.Normalizer` the LMs are
trained with (NFC, lower-case, punctuation removed), so that "Set an alarm." and
"set an alarm" are the same words, in any script. CER counts Unicode code points of the
normalised text, spaces included (a Devanagari matra or virama is one character).

>>> s = word_errors(["set an alarm for six"], ["set the alarm for"])
>>> (s.substitutions, s.deletions, s.insertions, s.ref_words, round(s.wer, 2))
(1, 1, 0, 5, 0.4)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

from lmboot.corpus import Normalizer
from lmboot.errors import LmbootError


@dataclass
class ErrorCounts:
    """Corpus-level edit counts of hypotheses against references (jiwer alignment)."""

    utterances: int = 0
    ref_words: int = 0
    hits: int = 0
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    ref_chars: int = 0
    char_errors: int = 0

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        """Word error rate, (S + D + I) / N; an empty reference set gives 0 or inf."""
        if self.ref_words == 0:
            return 0.0 if self.errors == 0 else float("inf")
        return self.errors / self.ref_words

    @property
    def cer(self) -> float:
        if self.ref_chars == 0:
            return 0.0 if self.char_errors == 0 else float("inf")
        return self.char_errors / self.ref_chars

    def to_json(self) -> dict:
        d = asdict(self)
        d.update(wer=self.wer, cer=self.cer)
        return d


def _prepare(refs: Sequence[str], hyps: Sequence[str], normalizer: Normalizer | None) -> tuple[list, list]:
    if len(refs) != len(hyps):
        raise LmbootError(f"{len(refs)} references but {len(hyps)} hypotheses")
    if normalizer is None:
        return [" ".join(r.split()) for r in refs], [" ".join(h.split()) for h in hyps]
    return [normalizer(r) for r in refs], [normalizer(h) for h in hyps]


def word_errors(refs: Sequence[str], hyps: Sequence[str], normalizer: Normalizer | None = Normalizer(),
                chars: bool = True) -> ErrorCounts:
    """Corpus-level WER (and CER) of ``hyps`` against ``refs`` with jiwer.

    ``normalizer=None`` compares the texts as given (only whitespace collapsed).
    """
    import jiwer

    refs, hyps = _prepare(refs, hyps, normalizer)
    out = ErrorCounts(utterances=len(refs))
    if not refs:
        return out
    w = jiwer.process_words(refs, hyps)
    out.hits, out.substitutions, out.deletions, out.insertions = w.hits, w.substitutions, w.deletions, w.insertions
    out.ref_words = sum(len(r.split()) for r in refs)
    if chars:
        c = jiwer.process_characters(refs, hyps)
        out.char_errors = c.substitutions + c.deletions + c.insertions
        out.ref_chars = sum(len(r) for r in refs)
    return out


def utterance_errors(ref: str, hyp: str) -> dict:
    """Edit counts of one (already normalised) utterance: ref_words, sub, del, ins, errors."""
    import jiwer

    n = len(ref.split())
    if n == 0 and not hyp.split():
        return {"ref_words": 0, "sub": 0, "del": 0, "ins": 0, "errors": 0}
    w = jiwer.process_words(ref, hyp)
    return {"ref_words": n, "sub": w.substitutions, "del": w.deletions, "ins": w.insertions,
            "errors": w.substitutions + w.deletions + w.insertions}


def word_edit_distance(ref: str, hyp: str) -> int:
    """Word-level Levenshtein distance of two normalised strings (fast, rapidfuzz)."""
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(ref.split(), hyp.split())
