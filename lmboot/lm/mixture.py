"""Linear interpolation of n-gram LMs: EM weights, and one static ARPA mixture.

- :func:`em_weights`: weights by EM on dev-token probabilities, as SRILM's
  ``compute-best-mix`` (λ_i ← mean over dev tokens of λ_i p_i / Σ_j λ_j p_j);
- :func:`mix_arpa`: ONE static ARPA mixture, as SRILM's ``ngram -mix-lm``: for the union of
  the components' n-grams p(w|h) = Σ_i λ_i p_i(w|h), each p_i computed by KenLM with that
  model's own backoff, and backoff weights recomputed so that every distribution sums to one.

:mod:`lmboot.lm.builder` uses both for ``lmboot lm build --method linear``;
:mod:`lmboot.lm.objective` uses :func:`em_weights` to judge candidate LM texts.
"""
from __future__ import annotations

import logging
import math
import sys
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from lmboot.errors import LmbootError
from lmboot.io.arpa import ArpaReader
from lmboot.io.corpus import atomic_write, check_file
from lmboot.lm.score import load

log = logging.getLogger("lmboot")

LOG_ZERO = -99.0  # how ARPA files (and lmplz) write log10(0)


@dataclass
class EMResult:
    weights: list[float]
    iterations: int
    converged: bool
    tokens: int
    ppl: float  # of the dynamic mixture on the tuning tokens


def em_weights(probs: np.ndarray, tol: float = 1e-7, max_iter: int = 2000) -> EMResult:
    """Mixture weights maximising Σ_t log Σ_i λ_i p_i(t) by EM (SRILM compute-best-mix).

    ``probs`` is ``(tokens, models)``. Starts from uniform weights; stops when no weight
    moves by more than ``tol``. Deterministic.

    >>> em_weights(np.array([[0.5, 0.1], [0.5, 0.1]])).weights
    [1.0, 0.0]
    """
    T, K = probs.shape
    if T == 0:
        raise LmbootError("the dev text has no token any component LM knows: cannot tune weights")
    lam = np.full(K, 1.0 / K)
    it, converged = 0, False
    for it in range(1, max_iter + 1):
        weighted = probs * lam
        tot = np.maximum(weighted.sum(axis=1, keepdims=True), 1e-300)
        new = (weighted / tot).mean(axis=0)
        new /= new.sum()
        delta = float(np.max(np.abs(new - lam)))
        lam = new
        if delta < tol:
            converged = True
            break
    # Weights that EM drives towards zero converge slowly; below 1e-6 they are zero.
    lam = np.where(lam < 1e-6, 0.0, lam)
    lam /= lam.sum()
    ll = float(np.sum(np.log10(np.maximum(probs @ lam, 1e-300))))
    return EMResult(weights=[float(x) for x in lam], iterations=it, converged=converged, tokens=T,
                    ppl=10 ** (-ll / T))


@dataclass
class MixStats:
    """What :func:`mix_arpa` did and how fast."""

    ngrams: list[int]  # per order, in the mixture
    seconds: float
    ngrams_per_s: float
    kenlm_calls: int
    clamped_backoffs: int = 0  # contexts whose backoff mass had to be clamped (rounding)
    suffix_fallbacks: int = 0  # lower-order n-grams missing from every component


class _ContextStates:
    """KenLM states of each model after a context, reusing the states of shared prefixes.

    Contexts arrive in sorted order, so consecutive ones share prefixes: a stack holds the
    states after each prefix and only the new tail is fed to KenLM.
    """

    def __init__(self, models, vocab: list[str], bos_id: int | None):
        import kenlm

        self.kenlm = kenlm
        self.models, self.vocab, self.bos_id = models, vocab, bos_id
        root = []
        for m in models:
            s = kenlm.State()
            m.NullContextWrite(s)
            root.append(s)
        self.words: list[int] = []
        self.stack: list[list] = [root]
        self.calls = 0

    def get(self, ctx: Sequence[int]) -> list:
        j = 0
        while j < len(self.words) and j < len(ctx) and self.words[j] == ctx[j]:
            j += 1
        del self.words[j:]
        del self.stack[j + 1:]
        for pos in range(j, len(ctx)):
            w = ctx[pos]
            nxt = []
            for m, s in zip(self.models, self.stack[-1]):
                o = self.kenlm.State()
                if pos == 0 and w == self.bos_id:
                    m.BeginSentenceWrite(o)
                else:
                    m.BaseScore(s, self.vocab[w], o)
                    self.calls += 1
                nxt.append(o)
            self.words.append(w)
            self.stack.append(nxt)
        return self.stack[-1]


def _keys(rows: np.ndarray) -> np.ndarray:
    """One sortable key per row of ids: big-endian int32 bytes compare like the id tuples."""
    rows = np.ascontiguousarray(rows, dtype=">i4")
    return rows.view(np.dtype((np.void, 4 * rows.shape[1]))).ravel()


class _Mixture:
    """The tables of the static mixture being built, order by order."""

    def __init__(self):
        self.grams: dict[int, np.ndarray] = {}  # order -> (N, order) ids, sorted, unique
        self.keys: dict[int, np.ndarray] = {}
        self.prob: dict[int, np.ndarray] = {}  # linear probabilities
        self.bow: dict[int, np.ndarray] = {}  # linear backoff weights (1 where none)
        self.suffix_fallbacks = 0

    def lookup(self, k: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        table = self.keys[k]
        q = _keys(rows)
        pos = np.searchsorted(table, q)
        pos = np.minimum(pos, len(table) - 1)
        return pos, table[pos] == q

    def static_prob(self, rows: np.ndarray) -> np.ndarray:
        """p_mix(w|h) of the mixture as KenLM will compute it, for rows ``h + (w,)``."""
        k = rows.shape[1]
        idx, found = self.lookup(k, rows)
        out = np.empty(len(rows))
        out[found] = self.prob[k][idx[found]]
        miss = ~found
        if miss.any():
            if k == 1:
                raise LmbootError("internal error: a word is missing from the mixed vocabulary")
            self.suffix_fallbacks += int(miss.sum())
            sub = rows[miss]
            cidx, cfound = self.lookup(k - 1, sub[:, :-1])
            bow = np.ones(len(sub))
            bow[cfound] = self.bow[k - 1][cidx[cfound]]
            out[miss] = bow * self.static_prob(sub[:, 1:])
        return out


class _Ids(dict):
    """word -> id, numbering new words as they come."""

    def __missing__(self, word: str) -> int:
        i = self[word] = len(self)
        return i


def _read_components(arpas: Sequence[Path]):
    """Read every component's n-grams into id arrays; return (vocab, per-order arrays, known)."""
    ids = _Ids()
    per_order: dict[int, list[np.ndarray]] = {}
    comp_unigrams: list[np.ndarray] = []
    for path in arpas:
        reader = ArpaReader(path)
        bufs = [array("i") for _ in range(reader.order)]
        uni = array("i")
        for n, words, _lp, _lb in reader:
            bufs[n - 1].extend([ids[w] for w in words])
            if n == 1:
                uni.append(ids[words[0]])
        for n, buf in enumerate(bufs, 1):
            per_order.setdefault(n, []).append(np.frombuffer(buf, dtype=np.int32).reshape(-1, n))
        comp_unigrams.append(np.frombuffer(uni, dtype=np.int32))
    for special in ("<unk>", "<s>", "</s>"):
        if special not in ids:
            ids[special] = len(ids)
            per_order[1].append(np.array([[ids[special]]], dtype=np.int32))
    # Renumber the vocabulary in sorted order: the output lists n-grams in word order.
    words = sorted(ids)
    perm = np.empty(len(ids), dtype=np.int32)
    for new, w in enumerate(words):
        perm[ids[w]] = new
    grams = {}
    for n, parts in per_order.items():
        allrows = perm[np.concatenate(parts, axis=0)]
        keys = np.unique(_keys(allrows))
        grams[n] = (np.frombuffer(keys.tobytes(), dtype=">i4").reshape(-1, n), keys)
    known = np.zeros((len(arpas), len(words)), dtype=bool)
    for i, uni in enumerate(comp_unigrams):
        known[i, perm[uni]] = True
    known[:, words.index("<unk>")] = True  # KenLM gives every model an <unk> probability
    return words, grams, known


def _fmt(x: float) -> str:
    return f"{x:.7g}"


def mix_arpa(arpas: Sequence[str | Path], weights: Sequence[float], out: str | Path,
             models: Sequence | None = None, progress: bool = False) -> MixStats:
    """Write the static linear mixture of ARPA models ``arpas`` with ``weights`` to ``out``.

    As SRILM's ``ngram -mix-lm``: the mixture lists the union of the components' n-grams
    (and ``<unk>``), its order is the highest component order; for each listed n-gram
    p(w|h) = Σ_i λ_i p_i(w|h), where p_i is what KenLM computes for model i, backing off
    as that model does (0 for a word model i does not know). The backoff weight of every
    context h is recomputed so that the mixture's p(·|h) sums to one:

        bow(h) = (1 - Σ_{w: hw listed} p(w|h)) / (1 - Σ_{w: hw listed} p(w|h'))

    with h' = h without its first word. ``models`` are the loaded ``kenlm.Model`` of
    ``arpas`` when the caller has them. The file is written atomically; n-grams are listed
    in sorted word order, so the same inputs give a byte-identical file.
    """
    arpas = [check_file(a, "ARPA model") for a in arpas]
    if len(arpas) != len(weights):
        raise LmbootError(f"{len(arpas)} models but {len(weights)} weights")
    if any(w < 0 for w in weights) or not math.isclose(sum(weights), 1.0, abs_tol=1e-6):
        raise LmbootError(f"linear weights must be >= 0 and sum to 1, not {list(weights)}")
    # A zero-weight component contributes nothing; listing its words would give them log10 -99.
    live = [i for i, w in enumerate(weights) if w > 0]
    arpas, weights = [arpas[i] for i in live], [weights[i] for i in live]
    if models is not None:
        models = [models[i] for i in live]
    t0 = time.perf_counter()
    vocab, grams, known = _read_components(arpas)  # first: our reader's errors name file and line
    if models is None:
        models = [load(a) for a in arpas]
    lam = [float(w) for w in weights]
    order = max(grams)
    bos = vocab.index("<s>")
    mix = _Mixture()
    states = _ContextStates(models, vocab, bos)
    import kenlm

    scratch = kenlm.State()
    calls = 0
    clamped = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=sum(len(g[0]) for g in grams.values()), unit="ngram", desc="mixing", file=sys.stderr)
    active = [(i, m, lam[i], known[i]) for i, m in enumerate(models) if lam[i] > 0]
    with atomic_write(out) as f:
        f.write("\\data\\\n")
        for n in range(1, order + 1):
            f.write(f"ngram {n}={len(grams[n][0])}\n")
        f.write("\n")
        for n in range(1, order + 1):
            rows, keys = grams[n]
            mix.grams[n], mix.keys[n] = rows, keys
            # 1. p_mix(w|h) for every listed n-gram, from the components through KenLM.
            probs = np.empty(len(rows))
            rows_list = rows.tolist()
            prev = None
            ctx_states = None
            for r, row in enumerate(rows_list):
                ctx = row[:-1]
                if ctx != prev:
                    ctx_states = states.get(ctx)
                    prev = ctx
                w = row[-1]
                if w == bos:
                    probs[r] = 0.0  # <s> is never predicted
                    continue
                ws = vocab[w]
                p = 0.0
                for i, m, li, kn in active:
                    if kn[w]:
                        p += li * 10.0 ** m.BaseScore(ctx_states[i], ws, scratch)
                        calls += 1
                probs[r] = p
                if bar is not None and r % 4096 == 4095:
                    bar.update(4096)
            if bar is not None:
                bar.update(len(rows_list) % 4096)
            mix.prob[n] = probs
            mix.bow[n] = np.ones(len(rows))
            # 2. Backoff weights of the order n-1 contexts, then that order can be written.
            if n > 1:
                starts = np.flatnonzero(np.r_[True, np.any(rows[1:, :-1] != rows[:-1, :-1], axis=1)])
                num = 1.0 - np.add.reduceat(probs, starts)
                den = 1.0 - np.add.reduceat(mix.static_prob(rows[:, 1:]), starts)
                cidx, cfound = mix.lookup(n - 1, rows[starts, :-1])
                if not cfound.all():
                    bad = rows[starts[np.flatnonzero(~cfound)[0]], :-1]
                    raise LmbootError("the component models are not valid ARPA: context "
                                      f"'{' '.join(vocab[i] for i in bad)}' of a {n}-gram is not listed")
                tiny = 1e-10
                bad_mass = (num < tiny) | (den < tiny)
                clamped += int(bad_mass.sum())
                mix.bow[n - 1][cidx] = np.maximum(num, tiny) / np.maximum(den, tiny)
                _write_section(f, n - 1, mix, vocab, bos, order)
        _write_section(f, order, mix, vocab, bos, order)
        f.write("\n\\end\\\n")
    if bar is not None:
        bar.close()
    secs = time.perf_counter() - t0
    total = sum(len(g[0]) for g in grams.values())
    if clamped:
        log.warning("mix: %d context(s) had (almost) no probability mass left for backing off; "
                    "their backoff weights were clamped", clamped)
    return MixStats(ngrams=[len(grams[n][0]) for n in range(1, order + 1)], seconds=secs,
                    ngrams_per_s=total / secs if secs > 0 else float("inf"),
                    kenlm_calls=calls + states.calls, clamped_backoffs=clamped,
                    suffix_fallbacks=mix.suffix_fallbacks)


def _write_section(f, n: int, mix: _Mixture, vocab: list[str], bos: int, order: int) -> None:
    f.write(f"\n\\{n}-grams:\n")
    rows = mix.grams[n].tolist()
    with np.errstate(divide="ignore"):
        lp = np.log10(mix.prob[n])
        lb = np.log10(mix.bow[n])
    lp = np.where(np.isfinite(lp), lp, LOG_ZERO).tolist()
    lb = lb.tolist()
    out = []
    for row, p, b in zip(rows, lp, lb):
        words = " ".join(vocab[i] for i in row)
        if n == 1 and row[0] == bos:
            p = LOG_ZERO
        if n < order and b != 0.0:
            out.append(f"{_fmt(p)}\t{words}\t{_fmt(b)}\n")
        else:
            out.append(f"{_fmt(p)}\t{words}\n")
        if len(out) >= 65536:
            f.write("".join(out))
            out.clear()
    f.write("".join(out))


__all__ = ["EMResult", "em_weights", "MixStats", "mix_arpa", "LOG_ZERO"]
