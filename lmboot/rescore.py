"""N-best rescoring with the in-domain seed LM (stage 4 of the method).

A general-domain translator ranks its hypotheses by general-domain fluency; the in-domain
seed LM knows how the target language is phrased in the domain. Every hypothesis gets

    total = score / tokens**alpha  +  lambda * lm_logprob  +  mu * words

where ``score`` is the producer's natural-log score (NMT sequence log-probability, or a
recogniser's first-pass score), ``tokens`` the length it was computed over (``words`` when
absent), ``lm_logprob`` the seed LM's natural-log probability of the hypothesis (KenLM's
log10 converted by :func:`lmboot.lm.log10_to_ln`; ``<s>``/``</s>`` included) of the text
normalised exactly as the seed LM's training text was (:class:`lmboot.corpus.Normalizer`),
and ``words`` the number of words the LM saw (a word-insertion bonus when ``mu > 0``).
The highest total wins; ties go to the lower index, i.e. the producer's own order, so
``lambda = mu = alpha = 0`` reproduces the producer's choice exactly.

The n-best format is the one in ``../shared/FORMATS.md`` (MT and speech recognition alike)::

    {"id": "utt-1", "ref": "...", "hyps": [{"text": "...", "score": -4.2, "tokens": 7}, ...]}

>>> from lmboot.rescore import LMScorer, Weights, read_nbest, rescore, tune
>>> scorer = LMScorer("seed.bin")                                         # doctest: +SKIP
>>> res = tune(list(read_nbest("dev.nbest.jsonl")), scorer, metric="chrf")  # doctest: +SKIP
>>> res.weights, res.before, res.after                                    # doctest: +SKIP
>>> for e in rescore(read_nbest("test.nbest.jsonl"), scorer, res.weights):  # doctest: +SKIP
...     print(e["best_text"])
"""
from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from lmboot import lm as lm_mod
from lmboot.corpus import Normalizer, atomic_write, iter_raw_lines
from lmboot.errors import LmbootError

log = logging.getLogger("lmboot")

METRICS = ("chrf", "bleu", "wer")
#: Default tuning grid. lambda scales a natural-log LM probability against the producer's
#: natural-log score; mu is nats per word.
DEFAULT_LM_WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0)
DEFAULT_LENGTH_PENALTIES = (-3.0, -2.0, -1.5, -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0,
                            1.5, 2.0, 3.0)
_LN10 = lm_mod.log10_to_ln(1.0)  # KenLM's log10 -> natural log, the one conversion (lmboot.lm)
_BATCH_HYPS = 2048  # hypotheses scored together by rescore()


# --------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------
@dataclass
class Weights:
    """How the producer's score, the LM and the length combine (see the module docstring).

    >>> Weights(lm_weight=0.5).to_json()
    {'lm_weight': 0.5, 'length_penalty': 0.0, 'norm_exponent': 0.0}
    """

    lm_weight: float = 1.0  # lambda, multiplies the natural-log LM probability
    length_penalty: float = 0.0  # mu, nats per word (positive favours longer hypotheses)
    norm_exponent: float = 0.0  # alpha: producer score / tokens**alpha (0 = raw score)

    def __post_init__(self) -> None:
        for k in ("lm_weight", "length_penalty", "norm_exponent"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise LmbootError(f"weight {k} must be a finite number, not {v!r}")
            setattr(self, k, float(v))

    def to_json(self, path: str | Path | None = None, extra: dict | None = None) -> dict:
        """The weights as a dict; with ``path`` also written there (atomically) as JSON,
        with the keys of ``extra`` (e.g. how they were tuned) added."""
        d = asdict(self)
        if path is not None:
            lm_mod.write_json(path, {**d, **(extra or {})})
        return d

    @classmethod
    def from_json(cls, path: str | Path) -> "Weights":
        """Read weights written by :meth:`to_json` (or ``rescore --save-weights``)."""
        p = Path(path)
        if not p.is_file():
            raise LmbootError("weights file not found", path=p)
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise LmbootError(f"not a JSON weights file ({e})", path=p) from None
        if not isinstance(d, dict) or "lm_weight" not in d:
            raise LmbootError("expected a JSON object with 'lm_weight' (and optionally "
                              "'length_penalty', 'norm_exponent')", path=p)
        try:
            return cls(**{k: d[k] for k in ("lm_weight", "length_penalty", "norm_exponent") if k in d})
        except LmbootError as e:
            raise LmbootError(e.message, path=p) from None


# --------------------------------------------------------------------------------------
# Reading n-best lists
# --------------------------------------------------------------------------------------
def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def read_nbest(path: str | Path, require_ref: bool = False) -> Iterator[dict]:
    """Stream and validate the entries of an n-best JSONL file (``../shared/FORMATS.md``).

    Each line is one object with ``id`` (string or integer, unique), a non-empty ``hyps``
    list whose items have ``text`` (string) and ``score`` (finite number), optionally
    ``tokens`` (non-negative integer; the word count is used when absent) and ``ref``
    (string). Other keys are kept untouched. Empty lines are skipped. Anything else is an
    :class:`LmbootError` naming the file and line. Works for MT and speech n-best lists.

    >>> next(read_nbest("dev.nbest.jsonl"))["hyps"][0]["text"]   # doctest: +SKIP
    """
    seen: dict = {}
    n = 0
    for lineno, line in iter_raw_lines(path, "n-best list"):
        if not line.strip():
            continue

        def bad(msg: str) -> LmbootError:
            return LmbootError(msg, path=path, line=lineno)

        try:
            entry = json.loads(line)
        except json.JSONDecodeError as e:
            raise bad(f"malformed JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(entry, dict):
            raise bad(f"expected a JSON object, found {type(entry).__name__}")
        if "id" not in entry:
            raise bad("missing key 'id'")
        eid = entry["id"]
        if isinstance(eid, bool) or not isinstance(eid, (str, int)) or eid == "":
            raise bad(f"'id' must be a non-empty string or an integer, not {eid!r}")
        if eid in seen:
            raise bad(f"duplicate id {eid!r} (first on line {seen[eid]})")
        seen[eid] = lineno
        if "ref" in entry and not isinstance(entry["ref"], str):
            raise bad(f"'ref' must be a string, not {type(entry['ref']).__name__}")
        if require_ref and "ref" not in entry:
            raise bad(f"entry {eid!r} has no 'ref' (references are needed here)")
        hyps = entry.get("hyps")
        if not isinstance(hyps, list):
            raise bad("missing key 'hyps'" if hyps is None else "'hyps' must be a list")
        if not hyps:
            raise bad(f"entry {eid!r} has an empty 'hyps' list")
        for i, h in enumerate(hyps):
            if not isinstance(h, dict):
                raise bad(f"hyps[{i}] must be an object")
            for key in ("text", "score"):
                if key not in h:
                    raise bad(f"hyps[{i}] is missing key '{key}'")
            if not isinstance(h["text"], str):
                raise bad(f"hyps[{i}].text must be a string")
            if not _is_number(h["score"]):
                raise bad(f"hyps[{i}].score must be a finite number, not {h['score']!r}")
            if "tokens" in h:
                t = h["tokens"]
                if isinstance(t, bool) or not isinstance(t, int) or t < 0:
                    raise bad(f"hyps[{i}].tokens must be a non-negative integer, not {t!r}")
        n += 1
        yield entry
    if n == 0:
        raise LmbootError("no n-best entry in the file", path=path)


def _n_tokens(hyp: dict) -> int:
    t = hyp.get("tokens")
    return max(1, len(hyp["text"].split()) if t is None else t)


# --------------------------------------------------------------------------------------
# LM scoring
# --------------------------------------------------------------------------------------
class LMScorer:
    """Natural-log probabilities of texts under a KenLM model (``<s>`` and ``</s>`` included).

    Texts are normalised exactly as the seed LM's training text was (``normalizer``, by
    default :class:`lmboot.corpus.Normalizer`), so an NMT's detokenised, cased, punctuated
    output is scored on the LM's own terms. Texts are normalised in batches (numpy), and
    KenLM scores each distinct normalised text of a batch once.
    With ``oov_penalty`` (log10) every word the model does not know
    is charged exactly that penalty instead of the model's own ``<unk>`` probability, so
    LMs with different vocabularies compare honestly.

    >>> s = LMScorer("seed.bin")                                 # doctest: +SKIP
    >>> s.score(["Set an alarm!", "set an alarm"])               # doctest: +SKIP
    [-9.21, -9.21]
    """

    def __init__(self, model_path: str | Path, normalizer=None, oov_penalty: float | None = None):
        if oov_penalty is not None and not _is_number(oov_penalty):
            raise LmbootError(f"oov_penalty must be a finite log10 number, not {oov_penalty!r}")
        self.path = Path(model_path)
        self.model = lm_mod.load(model_path)
        self.normalizer = normalizer or Normalizer()
        self.normalize = self.normalizer
        self.oov_penalty = None if oov_penalty is None else float(oov_penalty)
        self._known: dict[str | bytes, bool] = {}  # word -> in the model's vocabulary (oov_penalty only)
        self.oovs = 0  # with oov_penalty: OOV words in the strings scored (each distinct one of a batch once)
        self.words = 0  # with oov_penalty: words in the strings scored (likewise)

    def _score_with_penalty(self, s: str | bytes) -> float:
        model, known_words = self.model, self._known
        words = s.split()
        known = []
        for w in words:
            k = known_words.get(w)
            if k is None:
                k = known_words[w] = w in model
            known.append(k)
        self.words += len(words)
        if all(known):
            return model.score(s, bos=True, eos=True) * _LN10
        scores = [x[0] for x in model.full_scores(s, bos=True, eos=True)]
        pen = self.oov_penalty
        self.oovs += known.count(False)
        return (scores[-1] + sum(x if k else pen for x, k in zip(scores, known))) * _LN10

    def score_words(self, texts: Sequence[str]) -> tuple[list[float], list[int]]:
        """``(natural-log LM probabilities, word counts after normalisation)`` of ``texts``.

        Texts go in slices of ``_BATCH_HYPS``; within a slice each distinct normalised text is
        scored once (an n-best list often repeats a sentence up to case and punctuation)."""
        pen = self.oov_penalty
        # Normalising one string at a time in Python would cost more than KenLM's scoring.
        batch = getattr(self.normalizer, "batch", None)
        score, ln10 = self.model.score, _LN10
        lps: list[float] = []
        nws: list[int] = []
        for i in range(0, len(texts), _BATCH_HYPS):  # in slices that stay in the CPU's cache
            chunk = texts[i:i + _BATCH_HYPS]
            if batch is not None:  # UTF-8 bytes: KenLM would encode every str itself
                normed, counts = batch(chunk, counts=True, utf8=True)
            else:
                normed = [self.normalize(t) for t in chunk]
                counts = [len(s.split()) for s in normed]
            uniq = dict.fromkeys(normed)
            for s in uniq:  # kenlm's defaults: bos=True, eos=True
                uniq[s] = score(s) * ln10 if pen is None else self._score_with_penalty(s)
            lps += map(uniq.__getitem__, normed)
            nws += counts
        return lps, nws

    def score(self, texts: Sequence[str]) -> list[float]:
        """Natural-log LM probabilities of ``texts`` (normalised first), one per text."""
        return self.score_words(texts)[0]

    def oov_count(self, text: str) -> int:
        """How many words of ``text`` (after normalisation) the model does not know."""
        model = self.model
        return sum(1 for w in self.normalize(text).split() if w not in model)

    def clear_cache(self) -> None:
        self._known.clear()


# --------------------------------------------------------------------------------------
# Rescoring
# --------------------------------------------------------------------------------------
def _totals(hyps: Sequence[dict], lps: Sequence[float], nws: Sequence[int], w: Weights) -> list[float]:
    a, lam, mu = w.norm_exponent, w.lm_weight, w.length_penalty
    if a == 0.0:
        return [h["score"] + lam * lp + mu * nw for h, lp, nw in zip(hyps, lps, nws)]
    return [h["score"] / _n_tokens(h) ** a + lam * lp + mu * nw for h, lp, nw in zip(hyps, lps, nws)]


def rescore(entries: Iterable[dict], scorer: LMScorer, weights: Weights) -> Iterator[dict]:
    """Yield each entry with the seed LM's verdict added (inputs are not modified).

    Per hypothesis: ``lm_logprob`` (natural log), ``lm_words`` (words the LM saw) and
    ``total``; per entry: ``best`` (index into ``hyps`` of the highest total, ties to the
    lower index) and ``best_text``. ``hyps`` keep the producer's order and every original
    key, so the file round-trips.
    """
    batch: list[dict] = []
    n = 0
    for entry in entries:
        batch.append(entry)
        n += len(entry["hyps"])
        if n >= _BATCH_HYPS:
            yield from _rescore_batch(batch, scorer, weights)
            batch, n = [], 0
    if batch:
        yield from _rescore_batch(batch, scorer, weights)


def _rescore_batch(batch: list[dict], scorer: LMScorer, weights: Weights) -> Iterator[dict]:
    # One pass over the whole batch's hypotheses (flat lists), then cut per entry.
    flat = [h for e in batch for h in e["hyps"]]
    lps, nws = scorer.score_words([h["text"] for h in flat])
    totals = _totals(flat, lps, nws, weights)
    scored = [{**h, "lm_logprob": lp, "lm_words": nw, "total": t} for h, lp, nw, t in zip(flat, lps, nws, totals)]
    i = 0
    for entry in batch:
        k = len(entry["hyps"])
        seg = totals[i:i + k]
        best = seg.index(max(seg))  # the first maximum: stable ties
        out = dict(entry)
        out["hyps"] = scored[i:i + k]
        out["best"] = best
        out["best_text"] = entry["hyps"][best]["text"]
        i += k
        yield out


# --------------------------------------------------------------------------------------
# Metrics (per-hypothesis sufficient statistics, so that a corpus score is a sum)
# --------------------------------------------------------------------------------------
class _Metric:
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
        n = self.normalize
        norm = (f"nfc+{'lc' if n.lowercase else 'case'}+nopunct+digits-{n.digits}"
                if isinstance(n, Normalizer) else "custom")
        import jiwer

        return f"wer|jiwer:{getattr(jiwer, '__version__', '?')}|norm:{norm}|corpus:sum-errors/sum-ref-words"

    def better(self, a: float, b: float) -> bool:
        return a < b if self.lower_is_better else a > b


@dataclass
class TuneResult:
    """Best weights found on a tuning set, and the metric of the producer's top-1 (``before``,
    i.e. lambda = mu = 0) and of the rescored choice (``after``)."""

    weights: Weights
    metric: str
    before: float
    after: float
    signature: str
    entries: int
    grid_points: int
    changed: int  # entries whose choice differs from the producer's top-1
    top: list = field(default_factory=list, repr=False)  # best few grid points

    def to_json(self) -> dict:
        d = asdict(self)
        d["weights"] = self.weights.to_json()
        return d

    def summary(self) -> str:
        w = self.weights
        arrow = "lower is better" if self.metric == "wer" else "higher is better"
        return (f"tuned on {self.entries} entries ({self.grid_points} grid points): lambda={w.lm_weight:g} "
                f"mu={w.length_penalty:g} alpha={w.norm_exponent:g}; {self.metric} "
                f"{self.before:.2f} -> {self.after:.2f} ({arrow}; {self.changed} choices changed)\n"
                f"{self.signature}")


def _matrices(entries: list[dict], scorer: LMScorer):
    """(entries × hypotheses) arrays: producer score, tokens, LM log-prob, words, valid, flat index."""
    import numpy as np

    n, width = len(entries), max(len(e["hyps"]) for e in entries)
    score = np.zeros((n, width))
    tokens = np.ones((n, width))
    lmlp = np.zeros((n, width))
    words = np.zeros((n, width))
    valid = np.zeros((n, width), dtype=bool)
    flat = np.zeros((n, width), dtype=np.int64)  # index of (entry, hyp) into the flat hypothesis list
    all_lps, all_nws = scorer.score_words([h["text"] for e in entries for h in e["hyps"]])
    at = 0
    for i, e in enumerate(entries):
        hyps = e["hyps"]
        k = len(hyps)
        score[i, :k] = [h["score"] for h in hyps]
        tokens[i, :k] = [_n_tokens(h) for h in hyps]
        lmlp[i, :k], words[i, :k], valid[i, :k] = all_lps[at:at + k], all_nws[at:at + k], True
        flat[i, :k] = np.arange(at, at + k)
        at += k
    return score, tokens, lmlp, words, valid, flat


#: Grid for tuning by the LM objective: fewer points (each costs one lmplz run).
LM_OBJECTIVE_WEIGHTS = (0.0, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5)
LM_OBJECTIVE_PENALTIES = (-1.0, -0.5, 0.0, 0.5, 1.0)


@dataclass
class LMTuneResult:
    """Weights chosen by the in-domain dev objective of the final LM (lower is better):
    ``before`` is the producer's top-1 (lambda = mu = 0), ``after`` the chosen weights."""

    weights: Weights
    before: float
    after: float
    entries: int
    grid_points: int
    evaluated: int  # distinct choices judged (grid points choosing the same texts share one)
    changed: int
    top: list = field(default_factory=list, repr=False)

    def to_json(self) -> dict:
        d = asdict(self)
        d["weights"] = self.weights.to_json()
        return d

    def summary(self) -> str:
        w = self.weights
        return (f"tuned on the LM dev objective ({self.entries} entries, {self.grid_points} grid points, "
                f"{self.evaluated} distinct choices): lambda={w.lm_weight:g} mu={w.length_penalty:g}; "
                f"dev perplexity {self.before:.2f} (producer's top-1) -> {self.after:.2f}; "
                f"{self.changed} choices changed")


def tune_lm(entries: list[dict], scorer: LMScorer, objective,
            lm_weights: Sequence[float] = LM_OBJECTIVE_WEIGHTS,
            length_penalties: Sequence[float] = LM_OBJECTIVE_PENALTIES) -> LMTuneResult:
    """Choose lambda and mu by what the chosen translations do to the final LM.

    ``objective`` maps the chosen texts (one per entry, degenerate ones left out) to a dev
    perplexity (:class:`lmboot.objective.DevObjective`). No references are needed: the
    in-domain dev text of the *target* language is the judge, so an in-domain seed LM can
    help where chrF on general-domain dev pairs cannot see it. lambda = mu = 0 is in the
    grid, so the result is never worse on dev than the producer's own ranking; ties (within
    :data:`lmboot.objective.TIE`) go to the least change (smallest |mu|, then lambda).
    """
    import numpy as np

    from lmboot.nmt.quality import degenerate
    from lmboot.objective import TIE

    entries = list(entries)
    if not entries:
        raise LmbootError("no entries to tune on")
    score, _tokens, lmlp, words, valid, flat = _matrices(entries, scorer)
    hyps = [h for e in entries for h in e["hyps"]]
    sources = [e.get("source") for e in entries for _ in e["hyps"]]
    sound = np.array([degenerate(h["text"], s) is None for h, s in zip(hyps, sources)])
    rows = np.arange(len(entries))
    cache: dict[bytes, float] = {}

    def evaluate(choice) -> float:
        key = choice.astype(np.int32).tobytes()
        if key not in cache:
            idx = flat[rows, choice]
            cache[key] = float(objective([hyps[i]["text"] for i in idx[sound[idx]]]))
        return cache[key]

    before = evaluate(np.zeros(len(entries), dtype=np.int64))
    lams = sorted({float(x) for x in lm_weights} | {0.0})
    mus = sorted({float(x) for x in length_penalties} | {0.0}, key=lambda x: (abs(x), x))
    candidates = []
    for mu in mus:
        for lam in lams:
            total = np.where(valid, score + mu * words + lam * lmlp, -np.inf)
            choice = total.argmax(axis=1)
            candidates.append((evaluate(choice), (abs(mu), lam), Weights(lam, mu, 0.0), choice))
    candidates.sort(key=lambda c: (c[0], c[1]))
    floor = candidates[0][0] * (1 + TIE)  # within the tie margin: the least change wins
    best_val, _, best_w, best_choice = min((c for c in candidates if c[0] <= floor), key=lambda c: c[1])
    top = [{"value": c[0], **c[2].to_json()} for c in candidates[:10]]
    return LMTuneResult(weights=best_w, before=before, after=best_val, entries=len(entries),
                        grid_points=len(candidates), evaluated=len(cache),
                        changed=int((best_choice != 0).sum()), top=top)


def tune(entries: list[dict], scorer: LMScorer, metric: str = "chrf",
         lm_weights: Sequence[float] = DEFAULT_LM_WEIGHTS,
         length_penalties: Sequence[float] = DEFAULT_LENGTH_PENALTIES,
         norm_exponents: Sequence[float] = (0.0,)) -> TuneResult:
    """Grid search over lambda, mu (and alpha) for the best ``metric`` of the chosen hypotheses.

    ``metric`` is ``"chrf"`` or ``"bleu"`` (sacrebleu, on the texts as given; higher is
    better) or ``"wer"`` (jiwer on normalised text; lower is better). Every entry needs a
    ``ref``. lambda = mu = 0 is always in the grid, so the result is never worse on the
    tuning set than the producer's own ranking; among equally good points the one with the
    smallest |mu|, then smallest lambda, wins (the least change). Deterministic.

    >>> res = tune(list(read_nbest("dev.nbest.jsonl", require_ref=True)), scorer)  # doctest: +SKIP
    """
    import numpy as np

    m = _Metric(metric, scorer.normalizer)
    entries = list(entries)
    if not entries:
        raise LmbootError("no entries to tune on")
    for e in entries:
        if not isinstance(e.get("ref"), str):
            raise LmbootError(f"entry {e.get('id')!r} has no 'ref': tuning needs references")
    n = len(entries)
    score, tokens, lmlp, words, valid, flat = _matrices(entries, scorer)
    texts = [h["text"] for e in entries for h in e["hyps"]]
    refs = [e["ref"] for e in entries for _ in e["hyps"]]
    stats = m.stats(texts, refs)
    rows = np.arange(n)
    cache: dict[bytes, float] = {}

    def evaluate(choice) -> float:
        key = choice.astype(np.int32).tobytes()
        if key not in cache:
            cache[key] = m.from_stats(stats[flat[rows, choice]].sum(axis=0))
        return cache[key]

    baseline = np.zeros(n, dtype=np.int64)
    before = evaluate(baseline)
    lams = sorted({float(x) for x in lm_weights} | {0.0})
    mus = sorted({float(x) for x in length_penalties} | {0.0}, key=lambda x: (abs(x), x))
    alphas = list(dict.fromkeys(float(x) for x in norm_exponents)) or [0.0]
    candidates = []  # (metric, weights, choice)
    for ai, a in enumerate(alphas):
        base = score / tokens ** a if a else score
        for mu in mus:
            part = base + mu * words
            for lam in lams:
                total = np.where(valid, part + lam * lmlp, -np.inf)
                choice = total.argmax(axis=1)  # first maximum: ties to the producer's order
                candidates.append((evaluate(choice), (abs(mu), lam, ai), Weights(lam, mu, a), choice))
    sign = 1.0 if m.lower_is_better else -1.0
    candidates.sort(key=lambda c: (sign * c[0], c[1]))
    best_val, _, best_w, best_choice = candidates[0]
    if m.better(before, best_val):
        log.warning("tune: no grid point reproduces the producer's ranking (its scores are not "
                    "ordered by score/tokens**alpha for any alpha given); the producer's top-1 "
                    "scores %.2f, the best grid point %.2f", before, best_val)
    top = [{"value": c[0], **c[2].to_json()} for c in candidates[:10]]
    return TuneResult(weights=best_w, metric=metric, before=before, after=best_val,
                      signature=m.signature(), entries=n, grid_points=len(candidates),
                      changed=int((best_choice != 0).sum()), top=top)


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------
@dataclass
class RescoreResult:
    """What :func:`rescore_file` did. ``before``/``after``: ``metric`` of the producer's top-1
    and of the rescored choice, when every entry has a ``ref`` (else None)."""

    nbest: str
    lm: str
    out_jsonl: str | None
    out_txt: str | None
    weights: Weights
    entries: int = 0
    hyps: int = 0
    changed: int = 0  # entries whose choice differs from the producer's top-1
    seconds: float = 0.0
    metric: str | None = None
    before: float | None = None
    after: float | None = None
    signature: str | None = None

    @property
    def hyps_per_second(self) -> float:
        return self.hyps / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict:
        d = asdict(self)
        d["weights"] = self.weights.to_json()
        d["hyps_per_second"] = self.hyps_per_second
        return d

    def summary(self) -> str:
        s = (f"rescored {self.entries} entries ({self.hyps} hypotheses, {self.hyps_per_second:,.0f}/s): "
             f"{self.changed} top-1 choices changed")
        if self.before is not None:
            s += f"; {self.metric} {self.before:.2f} (producer's top-1) -> {self.after:.2f} (rescored)"
        return s


def rescore_file(nbest_in: str | Path, lm_path: str | Path | None, out_jsonl: str | Path | None,
                 out_txt: str | Path | None, weights: Weights | None = None, normalizer=None,
                 oov_penalty: float | None = None, metric: str | None = None, progress: bool = False,
                 scorer: LMScorer | None = None) -> RescoreResult:
    """Rescore the n-best list ``nbest_in`` with the LM ``lm_path`` (or a ready ``scorer``).

    Writes ``out_jsonl`` (every entry with the added keys, see :func:`rescore`) and/or
    ``out_txt`` (the chosen text, one line per entry), both atomically: on any bad input
    neither output is touched. With ``metric`` and a ``ref`` in every entry, also measures
    the metric of the producer's top-1 and of the rescored choice.

    >>> rescore_file("test.nbest.jsonl", "seed.bin", "out.jsonl", "out.hi",
    ...              Weights(lm_weight=0.3), metric="chrf").summary()      # doctest: +SKIP
    """
    import contextlib

    if out_jsonl is None and out_txt is None:
        raise LmbootError("nothing to write: give out_jsonl and/or out_txt")
    if metric is not None and metric not in METRICS:
        raise LmbootError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    weights = weights or Weights()
    if scorer is None:
        if lm_path is None:
            raise LmbootError("no language model given")
        scorer = LMScorer(lm_path, normalizer=normalizer, oov_penalty=oov_penalty)
    # Check the input's first line before anything is created.
    next(iter(read_nbest(nbest_in)))
    res = RescoreResult(nbest=str(nbest_in), lm=str(scorer.path), out_jsonl=None if out_jsonl is None else str(out_jsonl),
                        out_txt=None if out_txt is None else str(out_txt), weights=weights, metric=metric)
    refs: list[str | None] = []
    top1: list[str] = []
    chosen: list[str] = []
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        fj = stack.enter_context(atomic_write(out_jsonl)) if out_jsonl is not None else None
        ft = stack.enter_context(atomic_write(out_txt)) if out_txt is not None else None
        entries: Iterable[dict] = read_nbest(nbest_in)
        if progress:
            from tqdm import tqdm

            entries = tqdm(entries, desc="rescore", unit=" entries")
        for e in rescore(entries, scorer, weights):
            res.entries += 1
            res.hyps += len(e["hyps"])
            res.changed += e["best"] != 0
            if fj is not None:
                fj.write(json.dumps(e, ensure_ascii=False) + "\n")
            if ft is not None:
                ft.write(e["best_text"].replace("\n", " ") + "\n")
            if metric is not None:
                refs.append(e.get("ref"))
                top1.append(e["hyps"][0]["text"])
                chosen.append(e["best_text"])
    res.seconds = time.perf_counter() - t0
    if metric is not None:
        if all(isinstance(r, str) for r in refs):
            m = _Metric(metric, scorer.normalizer)
            res.before, res.after = m.corpus(top1, refs), m.corpus(chosen, refs)
            res.signature = m.signature()
        else:
            log.info("rescore: not every entry of %s has a 'ref'; %s not measured", nbest_in, metric)
    return res
