"""Simulated recogniser n-best lists, for languages with no recogniser at hand.

>>> from lmboot.evaluate import simulate
>>> res = simulate("test.hi", "test.sim.jsonl", vocab_from=["seed.hi", "general.hi"],
...                target_wer=0.25, nbest=10, seed=1)                       # doctest: +SKIP
>>> round(res.first_pass_wer, 2)                                             # doctest: +SKIP
0.25

The model (see docs/evaluate.md):

* **Confusable words.** The confusion vocabulary is read from ``vocab_from`` (text files,
  whose normalised words are counted, or ARPA files, whose unigrams are taken), so it works for
  any script. For each reference word the ``neighbours`` closest vocabulary words are found by
  Levenshtein distance (rapidfuzz, bounded by half the word's length) over characters (:class:`CharSimilarity`) or over espeak-ng
  phoneme strings (:class:`PhonemeSimilarity`, for languages espeak-ng has a voice for).
* **Errors.** A hypothesis is the reference with, at each word independently with probability
  ``rate``, one edit: a substitution by a neighbour (weight ∝ sqrt(count) / (1 + distance)²),
  a deletion, or an insertion of one of the 50 most frequent words (mostly function words) after it, in proportions
  ``edit_mix`` (default 60/20/20 %).
* **First-pass top-1.** Its ``rate`` is found by bisection so that the corpus WER of the
  top-1 hypotheses (jiwer) equals ``target_wer``; the random draws are fixed per sentence, so
  the WER grows monotonically with the rate and the bisection converges.
* **Other hypotheses.** ``nbest - 1`` further distinct corruptions of the reference, each with
  its own rate ``rate x U(0.3, 2)``; the reference itself joins the list with probability
  ``ref_prob`` only (so it is not always there), as the last entry of the list.
* **Scores.** The top-1 gets score ``-5 x words``; each other hypothesis ``gap`` nats less,
  ``gap = gap_scale x (Exp(1) + informative x (its errors - top-1 errors))`` (at least
  ``0.05 x gap_scale``): first-pass scores are noisy but weakly informative, as acoustic
  scores are; the list is sorted by score.

Everything random comes from ``random.Random(f"{seed}:{sentence}:{stream}")``: the same
inputs and seed give byte-identical output. Entries carry ``"simulated": true`` so that every
WER computed from them is labelled simulated.
"""
from __future__ import annotations

import abc
import bisect
import logging
import math
import random
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from lmboot.errors import LmbootError
from lmboot.io.arpa import SPECIAL, arpa_of, is_arpa, unigrams
from lmboot.io.corpus import atomic_write, read_lines
from lmboot.io.nbest import format_entry
from lmboot.metrics import word_edit_distance
from lmboot.results import Result
from lmboot.text.normalize import Normalizer

log = logging.getLogger("lmboot")


# --------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------
def read_vocab(sources: str | Path | Sequence[str | Path], normalizer: Normalizer | None = None) -> Counter:
    """Word counts from text files (normalised words) and/or ARPA files (unigrams, count 1 each).

    A KenLM binary is listed from the ARPA file beside it (:func:`lmboot.io.arpa.arpa_of`).
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    norm = normalizer or Normalizer()
    counts: Counter = Counter()
    for src in sources:
        p = arpa_of(src, "a confusion vocabulary") if Path(src).is_file() else Path(src)
        if p.is_file() and is_arpa(p):
            counts.update(unigrams(p))
        else:
            for line in read_lines(p, "vocabulary text"):
                counts.update(norm(line).split())
    for s in SPECIAL:
        counts.pop(s, None)
    if not counts:
        raise LmbootError("no words in the confusion vocabulary", path=", ".join(map(str, sources)))
    return counts


# --------------------------------------------------------------------------------------
# Similarity (extension point)
# --------------------------------------------------------------------------------------
class Similarity(abc.ABC):
    """How close two words sound or look: edit distance over a representation of each word."""

    name = "abstract"

    @abc.abstractmethod
    def keys(self, words: Sequence[str]) -> list[str]:
        """One string per word; words are compared by Levenshtein distance of their keys."""


class CharSimilarity(Similarity):
    """Orthographic closeness: Levenshtein distance over characters (code points), any script."""

    name = "chars"

    def keys(self, words: Sequence[str]) -> list[str]:
        return list(words)


class PhonemeSimilarity(Similarity):
    """Acoustic closeness: Levenshtein distance over espeak-ng phoneme mnemonics (``-x``).

    ``voice`` is an espeak-ng voice (``espeak-ng --voices``), e.g. ``hi``, ``en-us``.
    """

    name = "phonemes"

    def __init__(self, voice: str, batch: int = 2000):
        self.voice, self.batch = voice, batch

    def keys(self, words: Sequence[str]) -> list[str]:
        raw = self._phonemes(words)
        return [g.replace(" ", "").replace("'", "").replace(",", "") or w for g, w in zip(raw, words)]

    def _phonemes(self, words: Sequence[str]) -> list[str]:
        """espeak-ng's phoneme mnemonics of each word (stress marks included)."""
        import shutil

        exe = shutil.which("espeak-ng")
        if exe is None:
            raise LmbootError("espeak-ng not found (apt install espeak-ng), needed for --similarity phonemes")
        out: list[str] = []
        for i in range(0, len(words), self.batch):
            chunk = list(words[i:i + self.batch])
            got = self._run(exe, chunk)
            if len(got) != len(chunk):  # a word spoken as several clauses: fall back to one call each
                got = [" ".join(self._run(exe, [w])) for w in chunk]
            out.extend(got)
        return out

    def _run(self, exe: str, words: list[str]) -> list[str]:
        proc = subprocess.run([exe, "-q", "-x", "-v", self.voice], input="\n".join(words).encode("utf-8") + b"\n",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise LmbootError(f"espeak-ng -v {self.voice} failed: {msg[-1] if msg else proc.returncode}")
        return [x.strip() for x in proc.stdout.decode("utf-8", "replace").splitlines() if x.strip()]


def make_similarity(kind: str, voice: str | None = None) -> Similarity:
    if kind == "chars":
        return CharSimilarity()
    if kind == "phonemes":
        if not voice:
            raise LmbootError("--similarity phonemes needs an espeak-ng --voice (e.g. hi, en-us)")
        return PhonemeSimilarity(voice)
    raise LmbootError(f"similarity must be 'chars' or 'phonemes', not {kind!r}")


class ConfusionTable:
    """The ``k`` closest vocabulary words of each query word, with sampling weights."""

    def __init__(self, vocab: Counter, similarity: Similarity, k: int = 20, max_vocab: int = 50000,
                 n_frequent: int = 50):
        if k < 1:
            raise LmbootError("neighbours must be at least 1")
        ordered = sorted(vocab.items(), key=lambda x: (-x[1], x[0]))[:max_vocab]
        self.words = [w for w, _ in ordered]
        self.counts = dict(ordered)
        self.similarity, self.k = similarity, k
        self.vocab_keys = similarity.keys(self.words)
        self.key_of = dict(zip(self.words, self.vocab_keys))
        # Insertions: frequent short words (function words in most languages).
        self.insert_words = self.words[:n_frequent]
        self._cum_ins = _cumulative([math.sqrt(self.counts[w]) for w in self.insert_words])
        self.table: dict[str, tuple[list[str], list[float]]] = {}

    def prepare(self, words: Iterable[str]) -> None:
        """Compute neighbours of all ``words`` at once (phoneme keys need one espeak-ng call).

        Distances are bounded (``max_distance``: half the key length, 2..6 edits), which lets
        rapidfuzz stop early; a word with nothing that close gets the nearest words unbounded.
        """
        import numpy as np
        from rapidfuzz.distance import Levenshtein
        from rapidfuzz.process import cdist

        todo = sorted({w for w in words if w not in self.table})
        missing = [w for w in todo if w not in self.key_of]
        if missing:
            self.key_of.update(zip(missing, self.similarity.keys(missing)))
        groups: dict[int | None, list[str]] = {}
        for w in todo:
            groups.setdefault(min(6, max(2, len(self.key_of[w]) // 2)), []).append(w)
        retry: list[str] = []
        for cutoff, ws in sorted(groups.items(), key=lambda x: (x[0] is None, x[0] or 0)):
            for i in range(0, len(ws), 256):
                chunk = ws[i:i + 256]
                m = cdist([self.key_of[w] for w in chunk], self.vocab_keys, scorer=Levenshtein.distance,
                          score_cutoff=cutoff, dtype=np.int32, workers=1)
                for w, row in zip(chunk, m):
                    if not self._set(w, row, cutoff):
                        retry.append(w)
        for w in retry:  # nothing within the bound: nearest words at any distance
            row = cdist([self.key_of[w]], self.vocab_keys, scorer=Levenshtein.distance, dtype=np.int32, workers=1)[0]
            self._set(w, row, None)

    def _set(self, w: str, row, cutoff: int | None) -> bool:
        import numpy as np

        k = min(self.k + 1, len(row))
        thr = np.partition(row, k - 1)[k - 1]
        if cutoff is not None:
            thr = min(thr, cutoff)
        idx = np.nonzero(row <= thr)[0]
        cands = [(self.words[i], int(row[i])) for i in idx if self.words[i] != w]
        if not cands and cutoff is not None:
            return False
        cands.sort(key=lambda x: (x[1], -self.counts[x[0]], x[0]))
        cands = cands[: self.k]
        if not cands:
            self.table[w] = ([], [])
            return True
        weights = [math.sqrt(self.counts[c]) / (1 + d) ** 2 for c, d in cands]
        self.table[w] = ([c for c, _ in cands], _cumulative(weights))
        return True

    def substitute(self, word: str, u: float) -> str | None:
        cands, cum = self.table[word]
        if not cands:
            return None
        return cands[min(bisect.bisect_right(cum, u * cum[-1]), len(cands) - 1)]

    def insertion(self, u: float) -> str:
        return self.insert_words[min(bisect.bisect_right(self._cum_ins, u * self._cum_ins[-1]),
                                     len(self.insert_words) - 1)]


def _cumulative(weights: Sequence[float]) -> list[float]:
    out, s = [], 0.0
    for w in weights:
        s += w
        out.append(s)
    return out


# --------------------------------------------------------------------------------------
# Corruption
# --------------------------------------------------------------------------------------
class _Draws:
    """Per-position random numbers fixed up front, so that output is monotone in the rate."""

    def __init__(self, rng: random.Random, n: int):
        self.u = [rng.random() for _ in range(n)]
        self.kind = [rng.random() for _ in range(n)]
        self.pick = [rng.random() for _ in range(n)]


def _corrupt(words: list[str], rate: float, d: _Draws, table: ConfusionTable, mix: tuple) -> list[str]:
    p_sub, p_del, _ = mix
    out: list[str] = []
    for i, w in enumerate(words):
        if d.u[i] >= rate:
            out.append(w)
            continue
        k = d.kind[i]
        if k < p_sub:
            s = table.substitute(w, d.pick[i])
            out.append(s if s is not None else w)
        elif k < p_sub + p_del:
            continue
        else:
            out.append(w)
            out.append(table.insertion(d.pick[i]))
    return out


@dataclass
class SimulateResult(Result):
    """What :func:`simulate` wrote and measured (first-pass and oracle WER are simulated)."""

    out: Path
    sentences: int
    target_wer: float
    first_pass_wer: float
    oracle_wer: float
    ref_in_list: float  # fraction of lists that contain the reference
    rate: float  # per-word edit probability found for the top-1
    mean_hyps: float
    similarity: str
    vocab_size: int
    seed: int

    def summary(self) -> str:
        return (f"{self.sentences} simulated lists -> {self.out}: first-pass WER {100 * self.first_pass_wer:.2f}% "
                f"(target {100 * self.target_wer:.2f}%), oracle {100 * self.oracle_wer:.2f}%, reference in "
                f"{100 * self.ref_in_list:.0f}% of lists, {self.mean_hyps:.1f} hyps/list ({self.similarity}, "
                f"vocabulary {self.vocab_size})")


def simulate(refs_path: str | Path, out_jsonl: str | Path, vocab_from: str | Path | Sequence[str | Path],
             target_wer: float = 0.25, nbest: int = 10, seed: int = 1, similarity: str | Similarity = "chars",
             voice: str | None = None, neighbours: int = 20, ref_prob: float = 0.5,
             edit_mix: tuple[float, float, float] = (0.6, 0.2, 0.2), gap_scale: float = 2.0,
             informative: float = 0.5, normalizer: Normalizer | None = None,
             max_vocab: int = 50000) -> SimulateResult:
    """Write simulated n-best lists (docs/formats.md JSONL) for the sentences of ``refs_path``.

    See the module docstring for the model. Returns the measured first-pass top-1 WER
    (within about a point of ``target_wer`` for a few hundred sentences), the oracle WER of
    the lists and how often the reference is in its list.
    """
    if not 0.0 < target_wer < 1.0:
        raise LmbootError(f"target WER must be between 0 and 1 (e.g. 0.25), not {target_wer}")
    if nbest < 1:
        raise LmbootError(f"nbest must be at least 1, not {nbest}")
    if not 0.0 <= ref_prob <= 1.0:
        raise LmbootError(f"ref_prob must be between 0 and 1, not {ref_prob}")
    if len(edit_mix) != 3 or min(edit_mix) < 0 or sum(edit_mix) <= 0:
        raise LmbootError(f"edit_mix must be three non-negative shares (sub, del, ins), not {edit_mix}")
    tot = sum(edit_mix)
    mix = tuple(x / tot for x in edit_mix)
    norm = normalizer or Normalizer()
    refs: list[str] = []
    for lineno, line in read_lines(refs_path, "reference text", with_lineno=True):
        s = norm(line)
        if s:
            refs.append(s)
    if not refs:
        raise LmbootError("no sentence left after normalisation", path=refs_path)
    sim = similarity if isinstance(similarity, Similarity) else make_similarity(similarity, voice)
    table = ConfusionTable(read_vocab(vocab_from, norm), sim, k=neighbours, max_vocab=max_vocab)
    table.prepare(w for r in refs for w in r.split())

    words = [r.split() for r in refs]
    n_ref = sum(len(w) for w in words)
    top_draws = [_Draws(random.Random(f"{seed}:{i}:top"), len(w)) for i, w in enumerate(words)]

    def top1(rate: float) -> list[list[str]]:
        return [_corrupt(w, rate, d, table, mix) for w, d in zip(words, top_draws)]

    def wer_of(hyps: list[list[str]]) -> float:
        return sum(word_edit_distance(" ".join(w), " ".join(h)) for w, h in zip(words, hyps)) / n_ref

    lo, hi = 0.0, 1.0
    if wer_of(top1(1.0)) < target_wer:
        raise LmbootError(f"target WER {target_wer} is out of reach with this vocabulary (max "
                          f"{wer_of(top1(1.0)):.2f})", path=refs_path)
    for _ in range(30):
        mid = (lo + hi) / 2
        if wer_of(top1(mid)) < target_wer:
            lo = mid
        else:
            hi = mid
    rate = lo if abs(wer_of(top1(lo)) - target_wer) <= abs(wer_of(top1(hi)) - target_wer) else hi
    tops = top1(rate)

    n_in, n_hyps, first_err, oracle_err = 0, 0, 0, 0
    with atomic_write(out_jsonl) as f:
        for i, (ref_words, top) in enumerate(zip(words, tops)):
            rng = random.Random(f"{seed}:{i}:list")
            ref = " ".join(ref_words)
            texts = [" ".join(top)]
            for attempt in range(nbest * 4):
                if len(texts) >= nbest:
                    break
                r = min(1.0, rate * rng.uniform(0.3, 2.0))
                d = _Draws(random.Random(f"{seed}:{i}:alt{attempt}"), len(ref_words))
                t = " ".join(_corrupt(ref_words, r, d, table, mix))
                if t not in texts and t != ref:
                    texts.append(t)
            if ref not in texts and rng.random() < ref_prob:
                if len(texts) >= nbest and nbest > 1:
                    texts[-1] = ref
                elif len(texts) < nbest:
                    texts.append(ref)
            errs = [word_edit_distance(ref, t) for t in texts]
            n = len(ref_words)
            hyps = [{"text": texts[0], "score": round(-5.0 * n, 4), "tokens": len(texts[0].split())}]
            for t, e in zip(texts[1:], errs[1:]):
                gap = gap_scale * max(0.05, rng.expovariate(1.0) + informative * (e - errs[0]))
                hyps.append({"text": t, "score": round(-5.0 * n - gap, 4), "tokens": len(t.split())})
            hyps.sort(key=lambda h: -h["score"])
            n_in += ref in texts
            n_hyps += len(hyps)
            first_err += errs[0]
            oracle_err += min(errs)
            f.write(format_entry({"id": f"sim-{i + 1:06d}", "ref": ref, "hyps": hyps, "simulated": True}))
    res = SimulateResult(out=Path(out_jsonl), sentences=len(refs), target_wer=target_wer,
                         first_pass_wer=first_err / n_ref, oracle_wer=oracle_err / n_ref,
                         ref_in_list=n_in / len(refs), rate=round(rate, 6), mean_hyps=n_hyps / len(refs),
                         similarity=sim.name, vocab_size=len(table.words), seed=seed)
    log.info("simulated %d lists: first-pass WER %.2f%% (target %.2f%%), oracle %.2f%%, reference in %.0f%%",
             res.sentences, 100 * res.first_pass_wer, 100 * target_wer, 100 * res.oracle_wer,
             100 * res.ref_in_list)
    return res
