"""Metrics: BLEU and chrF (sacrebleu), WER and CER (jiwer), with the sufficient statistics tuning needs.

- :func:`mt_scores`: corpus BLEU and chrF of top-1 translations, with sacrebleu signatures
  (validation during NMT training, ``nmt translate --ref``, the run report);
- :class:`Metric`: chrF / BLEU / WER of a corpus from per-sentence sufficient statistics, so
  that a grid search (``lmboot rescore --tune-on``) sums rows instead of re-scoring; chrF and
  BLEU statistics come from sacrebleu's ``_extract_corpus_statistics`` and
  ``_compute_score_from_stats`` (what its ``corpus_score`` and paired bootstrap use). Those are
  private: they are called here and nowhere else, sacrebleu is pinned below its next major
  version (``pyproject.toml``), and ``tests/test_metrics.py`` checks them against
  ``corpus_score``;
- :func:`word_errors` / :class:`ErrorCounts`: corpus WER and CER with jiwer on
  lmboot-normalised text (``lmboot eval wer``).

Both sides of WER are normalised with the same :class:`~lmboot.text.normalize.Normalizer` the
LMs are trained with (NFC, lower-case, punctuation removed), so that "Set an alarm." and
"set an alarm" are the same words, in any script. CER counts Unicode code points of the
normalised text, spaces included (a Devanagari matra or virama is one character).

>>> s = word_errors(["set an alarm for six"], ["set the alarm for"])
>>> (s.substitutions, s.deletions, s.insertions, s.ref_words, round(s.wer, 2))
(1, 1, 0, 5, 0.4)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

from lmboot.errors import LmbootError
from lmboot.text.normalize import Normalizer

METRICS = ("chrf", "bleu", "wer")


# --------------------------------------------------------------------------------------
# BLEU and chrF of translations
# --------------------------------------------------------------------------------------
def mt_scores(hyps: Sequence[str], refs: Sequence[str], tokenize: str | None = None) -> dict:
    """Corpus BLEU and chrF with sacrebleu, with their signatures."""
    from sacrebleu.metrics import BLEU, CHRF

    bleu = BLEU(tokenize=tokenize) if tokenize else BLEU()
    chrf = CHRF()
    b = bleu.corpus_score(list(hyps), [list(refs)])
    c = chrf.corpus_score(list(hyps), [list(refs)])
    return {"bleu": round(b.score, 2), "chrf": round(c.score, 2),
            "bleu_signature": str(bleu.get_signature()), "chrf_signature": str(chrf.get_signature())}


# --------------------------------------------------------------------------------------
# Corpus metrics from per-sentence sufficient statistics (tuning)
# --------------------------------------------------------------------------------------
class Metric:
    """Corpus-level chrF / BLEU (sacrebleu) or WER (jiwer) from per-sentence statistics.

    chrF and BLEU are computed by sacrebleu from summed sentence statistics (what its
    ``corpus_score`` and its paired bootstrap do internally); WER is the total of jiwer's
    word errors over the total reference words, on normalised text.
    """

    def __init__(self, name: str, normalizer=None):
        if name not in METRICS:
            raise LmbootError(f"metric must be one of {', '.join(METRICS)}, not {name!r}")
        self.name = name
        self.lower_is_better = name == "wer"
        self.normalize = normalizer or Normalizer()
        if name == "chrf":
            from sacrebleu.metrics import CHRF

            self.sb = CHRF()
        elif name == "bleu":
            from sacrebleu.metrics import BLEU

            self.sb = BLEU()
        else:
            self.sb = None

    def stats(self, hyps: Sequence[str], refs: Sequence[str]):
        """One row of sufficient statistics per (hypothesis, reference) pair (numpy array)."""
        import numpy as np

        if self.sb is not None:
            return np.asarray(self.sb._extract_corpus_statistics(list(hyps), [list(refs)]), dtype=np.float64)
        import jiwer

        rows = []
        for h, r in zip(hyps, refs):
            hn, rn = self.normalize(h), self.normalize(r)
            nr = len(rn.split())
            if not rn or not hn:
                errors = max(nr, len(hn.split()))
            else:
                o = jiwer.process_words(rn, hn)
                errors = o.substitutions + o.deletions + o.insertions
            rows.append((errors, nr))
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), 2)

    def from_stats(self, summed) -> float:
        if self.sb is not None:
            return float(self.sb._compute_score_from_stats(list(summed)).score)
        errors, nref = summed
        return 100.0 * errors / nref if nref else (0.0 if errors == 0 else 100.0)

    def corpus(self, hyps: Sequence[str], refs: Sequence[str]) -> float:
        return self.from_stats(self.stats(hyps, refs).sum(axis=0))

    def signature(self) -> str:
        if self.sb is not None:
            return self.sb.get_signature().format()
        norm = self.normalize.signature if isinstance(self.normalize, Normalizer) else "custom"
        import jiwer

        return f"wer|jiwer:{getattr(jiwer, '__version__', '?')}|norm:{norm}|corpus:sum-errors/sum-ref-words"

    def better(self, a: float, b: float) -> bool:
        return a < b if self.lower_is_better else a > b


# --------------------------------------------------------------------------------------
# WER and CER
# --------------------------------------------------------------------------------------
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


__all__ = ["METRICS", "Metric", "mt_scores", "ErrorCounts", "word_errors", "utterance_errors", "word_edit_distance"]
