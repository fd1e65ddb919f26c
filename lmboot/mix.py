"""Building the final LM: one n-gram LM per text source, combined by interpolation.

Each source (seed text, winnowed translations, general-domain text, ...) gets its own
modified Kneser-Ney LM (:func:`lmboot.lm.train`); the LMs are then combined with weights
tuned on an in-domain dev set, by one of two :class:`Interpolator` methods:

- ``linear`` (default): weights by EM on the dev set, as SRILM's ``compute-best-mix``
  (λ_i ← mean over dev tokens of λ_i p_i / Σ_j λ_j p_j), then ONE static ARPA mixture, as
  SRILM's ``ngram -mix-lm``: for the union of the components' n-grams,
  p(w|h) = Σ_i λ_i p_i(w|h), each p_i computed by KenLM with that model's own backoff, and
  backoff weights recomputed so that every distribution sums to one (:func:`mix_arpa`).
- ``loglinear``: KenLM's ``interpolate`` program (log-linear interpolation, weights tuned on
  the dev set, renormalised).

>>> from lmboot import mix
>>> res = mix.build([("seed", "seed.hi"), ("mt", "translations.hi")], "dev.hi",
...                 "final.arpa", order=3)                                 # doctest: +SKIP
>>> res.weights, res.mix_ppl_common                                        # doctest: +SKIP
({'seed': 0.62, 'mt': 0.38}, 41.7)

The component LMs stay in ``work_dir`` (default ``<out>.parts/``) with a stamp of their
inputs, so a re-run (or a pipeline trying the other method) reuses them.
"""
from __future__ import annotations

import json
import logging
import math
import re
import shutil
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from lmboot import kenlm_tools
from lmboot import lm as lm_mod
from lmboot.corpus import Normalizer, atomic_path, atomic_write, check_file, read_lines, sha256
from lmboot.errors import LmbootError

log = logging.getLogger("lmboot")

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
METHOD_NAMES = ("linear", "loglinear")
LOG_ZERO = -99.0  # how ARPA files (and lmplz) write log10(0)
MIN_WEIGHT = 0.01  # linear mixing: a component below this dev weight is left out of the mixture
_STAMP_VERSION = 1


# --------------------------------------------------------------------------------------
# ARPA reading (streaming)
# --------------------------------------------------------------------------------------
class ArpaReader:
    """Stream the entries of an ARPA file: ``for order, words, logprob, logbow in reader``.

    ``counts`` (n-grams per order, from the ``\\data\\`` header) is filled on construction.
    ``logbow`` is None when the line has no backoff column. Any deviation from the format
    (missing header, a count that does not match the header, a malformed line, no ``\\end\\``)
    raises :class:`LmbootError` naming the file and line.

    >>> r = ArpaReader("seed.arpa")               # doctest: +SKIP
    >>> r.counts, next(iter(r))                   # doctest: +SKIP
    ([389, 993, 1459], (1, ('<unk>',), -3.03, 0.0))
    """

    def __init__(self, path: str | Path):
        self.path = check_file(path, "ARPA model")
        self.counts: list[int] = []
        self._f = open(self.path, "r", encoding="utf-8", newline="\n")
        self._it = iter(self._f)
        self._lineno = 0
        try:
            self._read_header()
        except BaseException:
            self._f.close()
            raise

    def _line(self) -> str | None:
        try:
            raw = next(self._it)
        except StopIteration:
            return None
        except UnicodeDecodeError:
            raise LmbootError(f"invalid UTF-8 (somewhere after line {self._lineno}); "
                              "an ARPA model must be UTF-8 text", path=self.path) from None
        self._lineno += 1
        return raw.strip()

    def _err(self, msg: str) -> LmbootError:
        return LmbootError(msg, path=self.path, line=self._lineno)

    def _read_header(self) -> None:
        line = self._line()
        while line is not None and line != "\\data\\":
            line = self._line()  # text before \data\ is allowed (comments)
        if line is None:
            raise LmbootError("not an ARPA file (no \\data\\ header)", path=self.path)
        while True:
            line = self._line()
            if line is None:
                raise self._err("ARPA header ends without any n-gram section")
            if not line:
                if self.counts:
                    break
                continue
            m = re.fullmatch(r"ngram\s+(\d+)\s*=\s*(\d+)", line)
            if not m:
                if line.startswith("\\") and self.counts:
                    self._pending = line
                    return
                raise self._err(f"bad ARPA header line {line[:40]!r}")
            n, c = int(m.group(1)), int(m.group(2))
            if n != len(self.counts) + 1:
                raise self._err(f"ARPA header lists order {n} out of sequence")
            self.counts.append(c)
        self._pending = None

    @property
    def order(self) -> int:
        return len(self.counts)

    def __iter__(self) -> Iterator[tuple[int, tuple[str, ...], float, float | None]]:
        try:
            yield from self._entries()
        finally:
            self._f.close()

    def _entries(self):
        pending = self._pending
        for n in range(1, self.order + 1):
            line = pending if pending is not None else self._line()
            pending = None
            while line == "":
                line = self._line()
            if line != f"\\{n}-grams:":
                raise self._err(f"expected \\{n}-grams: here, found {str(line)[:40]!r}")
            seen = 0
            while True:
                line = self._line()
                if line is None:
                    raise self._err(f"file ends inside the {n}-gram section")
                if not line:
                    continue
                if line.startswith("\\"):
                    pending = line
                    break
                parts = line.split()
                if len(parts) not in (n + 1, n + 2):
                    raise self._err(f"expected a {n}-gram line 'logprob w1..w{n} [backoff]'")
                try:
                    lp = float(parts[0])
                    lb = float(parts[n + 1]) if len(parts) == n + 2 else None
                except ValueError:
                    raise self._err("probability or backoff is not a number") from None
                seen += 1
                yield n, tuple(parts[1:n + 1]), lp, lb
            if seen != self.counts[n - 1]:
                raise self._err(f"the header announces {self.counts[n - 1]} {n}-grams, "
                                f"the section has {seen}")
        line = pending
        while line == "":
            line = self._line()
        if line != "\\end\\":
            raise self._err(f"expected \\end\\ here, found {str(line)[:40]!r}")


# --------------------------------------------------------------------------------------
# Linear interpolation: EM weights and the static mixture
# --------------------------------------------------------------------------------------
def dev_token_probs(models: Sequence, sentences: Sequence[str]) -> np.ndarray:
    """Per-token probabilities of each model on ``sentences`` (normalised text), ``(T, K)``.

    A word a model does not know gets probability 0 from it (as in a static mixture, whose
    vocabulary is the union); tokens no model knows are left out (they become ``<unk>`` and
    say nothing about which model is better; :func:`lmboot.lm.evaluate` also excludes them
    from ``ppl_common``). ``</s>`` is included.
    """
    cols: list[array] = [array("d") for _ in models]
    for sent in sentences:
        scored = [list(m.full_scores(sent, bos=True, eos=True)) for m in models]
        for t in range(len(scored[0])):
            if all(s[t][2] for s in scored):
                continue
            for col, s in zip(cols, scored):
                col.append(0.0 if s[t][2] else 10.0 ** s[t][0])
    return np.stack([np.frombuffer(c, dtype=np.float64) for c in cols], axis=1) if cols[0] else \
        np.zeros((0, len(models)))


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
        models = [lm_mod.load(a) for a in arpas]
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


# --------------------------------------------------------------------------------------
# Interpolation methods (the extension point)
# --------------------------------------------------------------------------------------
@dataclass
class Component:
    """One source's LM, as the interpolators see it."""

    name: str
    text: Path
    arpa: Path
    intermediate: Path | None = None
    sentences: int = 0
    tokens: int = 0
    reused: bool = False


@dataclass
class Combined:
    weights: list[float]
    info: dict = field(default_factory=dict)


class Interpolator(ABC):
    """Combines component LMs into one ARPA, tuning the weights on (normalised) dev text."""

    name: str = ""
    needs_intermediate: bool = False

    @abstractmethod
    def combine(self, components: Sequence[Component], dev_text: Path, out_arpa: Path,
                work_dir: Path, progress: bool = False) -> Combined:
        ...


class LinearInterpolator(Interpolator):
    """EM weights on dev perplexity, then one static ARPA mixture (:func:`mix_arpa`)."""

    name = "linear"

    def __init__(self, min_weight: float = MIN_WEIGHT):
        if not 0.0 <= min_weight < 1.0:
            raise LmbootError(f"min_weight must be in [0, 1), not {min_weight}")
        self.min_weight = min_weight

    def combine(self, components, dev_text, out_arpa, work_dir, progress=False) -> Combined:
        models = [lm_mod.load(c.arpa) for c in components]
        sentences = list(read_lines(dev_text, "dev text"))
        probs = dev_token_probs(models, sentences)
        keep = list(range(len(components)))
        # A component the dev set gives (almost) no weight must not enter the static mixture:
        # every word only it knows would be listed with probability ~0 (log10 -99), far below
        # what the mixture's <unk> (or the OOV penalty) gives that word when it is left out.
        while True:
            em = em_weights(probs[:, keep])
            top = keep[int(np.argmax(em.weights))]  # the best component always stays
            low = [k for k, w in zip(keep, em.weights) if w < self.min_weight and k != top]
            if not low:
                break
            keep = [k for k in keep if k not in low]
        dropped = [components[k].name for k in range(len(components)) if k not in keep]
        if dropped:
            log.warning("lm build: source(s) %s got weight < %g on the dev text and are left out of the "
                        "mixture", ", ".join(dropped), self.min_weight)
        if not em.converged:
            log.warning("EM did not converge in %d iterations; using the last weights", em.iterations)
        weights = [0.0] * len(components)
        for k, w in zip(keep, em.weights):
            weights[k] = w
        if len(keep) == 1:
            with atomic_path(out_arpa) as tmp:
                shutil.copyfile(components[keep[0]].arpa, tmp)
            return Combined(weights=weights, info={"em": asdict(em), "dropped": dropped})
        stats = mix_arpa([components[k].arpa for k in keep], em.weights, out_arpa,
                         models=[models[k] for k in keep], progress=progress)
        log.info("mixed %s n-grams in %.1f s (%.0f n-grams/s)", "+".join(map(str, stats.ngrams)),
                 stats.seconds, stats.ngrams_per_s)
        return Combined(weights=weights, info={"em": asdict(em), "mix": asdict(stats), "dropped": dropped})


class LogLinearInterpolator(Interpolator):
    """KenLM's ``interpolate``: log-linear weights tuned on the dev text, renormalised ARPA."""

    name = "loglinear"
    needs_intermediate = True

    def __init__(self, memory: str = "1G"):
        self.memory = memory

    def combine(self, components, dev_text, out_arpa, work_dir, progress=False) -> Combined:
        t0 = time.perf_counter()
        for c in components:
            if c.intermediate is None or not Path(f"{c.intermediate}.kenlm_intermediate").exists():
                raise LmbootError(f"source {c.name!r} has no lmplz --intermediate files for interpolate",
                                  path=c.arpa)
        with tempfile.TemporaryDirectory(prefix="interpolate-", dir=work_dir) as tmp:
            args: list[str] = []
            for c in components:
                args += ["-m", str(c.intermediate)]
            args += ["-t", str(dev_text), "-T", str(Path(tmp) / "lm"), "-S", self.memory]
            with atomic_path(out_arpa) as tmp_arpa, open(tmp_arpa, "wb") as f:
                proc = kenlm_tools.run_tool("interpolate", args, stdout=f)
        err = proc.stderr.decode("utf-8", "replace")
        m = re.findall(r"Final weights:\s*([-+0-9.eE ]+)", err)
        if not m:
            raise LmbootError("interpolate did not print its tuned weights")
        weights = [float(x) for x in m[-1].split()]
        ppls = re.findall(r"Perplexity = ([0-9.eE+-]+)", err)
        return Combined(weights=weights, info={
            "interpolate_iterations": len(ppls) - 1 if ppls else None,
            "interpolate_dev_ppl": float(ppls[-1]) if ppls else None,
            "seconds": time.perf_counter() - t0})


METHODS: dict[str, type[Interpolator]] = {"linear": LinearInterpolator, "loglinear": LogLinearInterpolator}


def get_interpolator(method: str | Interpolator) -> Interpolator:
    if isinstance(method, Interpolator):
        return method
    if method not in METHODS:
        raise LmbootError(f"unknown interpolation method {method!r} (choose from {', '.join(METHODS)})")
    return METHODS[method]()


# --------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------
@dataclass
class ComponentResult:
    name: str
    text: str
    arpa: str
    weight: float
    sentences: int
    tokens: int
    dev_ppl_common: float
    dev_ppl: float
    dev_oov_rate: float
    reused: bool


@dataclass
class BuildResult:
    """What :func:`build` made and measured (perplexities on the dev text)."""

    method: str
    order: int
    arpa: Path
    binary: Path | None
    work_dir: Path
    dev: str
    weights: dict[str, float]
    components: list[ComponentResult]
    mix_ppl_common: float
    mix_ppl: float
    mix_oov_rate: float
    tuning: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict:
        d = asdict(self)
        for k in ("arpa", "binary", "work_dir"):
            d[k] = None if d[k] is None else str(d[k])
        return d

    def table(self) -> str:
        rows = [("model", "weight", "dev ppl_common", "dev ppl", "oov_rate")]
        for c in self.components:
            rows.append((c.name, f"{c.weight:.4f}", f"{c.dev_ppl_common:.2f}", f"{c.dev_ppl:.2f}",
                         f"{100 * c.dev_oov_rate:.2f}%"))
        rows.append((f"mix ({self.method})", "", f"{self.mix_ppl_common:.2f}", f"{self.mix_ppl:.2f}",
                     f"{100 * self.mix_oov_rate:.2f}%"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths)))
                 for r in rows]
        lines.insert(1, "-" * len(lines[0]))
        return "\n".join(lines)


def parse_source(spec: str) -> tuple[str, str]:
    """``"name=path"`` -> (name, path); a bare path is named after its file stem.

    >>> parse_source("seed=data/seed.hi"), parse_source("data/mt.hi")
    (('seed', 'data/seed.hi'), ('mt', 'data/mt.hi'))
    """
    if "=" in spec:
        name, path = spec.split("=", 1)
        if NAME_RE.match(name) and not Path(spec).exists():
            return name, path
    return Path(spec).stem, spec


def _normalise_sources(sources) -> list[tuple[str, Path]]:
    items = list(sources.items()) if isinstance(sources, dict) else list(sources)
    if not items:
        raise LmbootError("no text source given (give at least one --text NAME=PATH)")
    out: list[tuple[str, Path]] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, (str, Path)):
            name, path = parse_source(str(item))
        else:
            name, path = item
            name = name or Path(path).stem
        if not NAME_RE.match(name):
            raise LmbootError(f"source name {name!r} must be letters, digits, '_', '.', '+' or '-'",
                              path=path)
        if name in seen:
            raise LmbootError(f"two sources are named {name!r}: name them with NAME=PATH", path=path)
        seen.add(name)
        out.append((name, check_file(path, f"text of source {name!r}")))
    return out


def _train_component(name: str, text: Path, work_dir: Path, order: int, prune, normalizer: Normalizer,
                     intermediate: bool, memory: str | None) -> Component:
    arpa = work_dir / f"{name}.arpa"
    inter = work_dir / f"{name}.intermediate" if intermediate else None
    stamp_path = work_dir / f"{name}.stamp.json"
    stamp = {"version": _STAMP_VERSION, "text": str(text.resolve()), "sha256": sha256(text),
             "order": order, "prune": list(prune) if prune else None,
             "normalizer": {"lowercase": normalizer.lowercase, "digits": normalizer.digits}}
    try:
        old = json.loads(stamp_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = None
    if old and {k: old.get(k) for k in stamp} == stamp and arpa.exists() and (
            inter is None or (old.get("intermediate") and Path(f"{inter}.kenlm_intermediate").exists())):
        log.info("source %s: reusing %s", name, arpa)
        return Component(name, text, arpa, inter, old.get("sentences", 0), old.get("tokens", 0), reused=True)
    log.info("source %s: training an order-%d LM of %s", name, order, text)
    res = lm_mod.train(text, arpa, order=order, prune=prune, normalizer=normalizer, memory=memory,
                       intermediate=inter)
    lm_mod.write_json(stamp_path, {**stamp, "intermediate": bool(inter), "sentences": res.sentences,
                                   "tokens": res.tokens})
    return Component(name, text, arpa, inter, res.sentences, res.tokens)


def build(sources, dev: str | Path, out_arpa: str | Path, order: int = 3,
          method: str | Interpolator = "linear", binary: str | Path | None = None,
          work_dir: str | Path | None = None, prune: Sequence[int] | None = None,
          normalizer: Normalizer | None = None, memory: str | None = None,
          progress: bool = False) -> BuildResult:
    """Train one LM per source, interpolate them with weights tuned on ``dev``, write ``out_arpa``.

    ``sources``: ``[(name, path), ...]``, ``{name: path}`` or ``["name=path", ...]``.
    ``method``: ``"linear"`` (EM weights, static ARPA mixture; default) or ``"loglinear"``
    (KenLM ``interpolate``), or an :class:`Interpolator`. With one source there is nothing
    to interpolate: its LM is the output, with weight 1.0 (a note is logged).
    Component LMs and the normalised dev text stay in ``work_dir`` (default
    ``<out_arpa>.parts/``) and are reused when their text and parameters are unchanged.
    The output ARPA (and ``binary``) are written atomically.

    >>> res = build({"seed": "seed.hi", "mt": "mt.hi"}, "dev.hi", "final.arpa")  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    interp = get_interpolator(method)
    srcs = _normalise_sources(sources)
    norm = normalizer or Normalizer()
    dev = check_file(dev, "dev text")
    if not 1 <= order <= 6:
        raise LmbootError(f"order must be between 1 and 6 (KenLM's build), not {order}")
    out_arpa = Path(out_arpa)
    work = Path(work_dir) if work_dir else out_arpa.with_name(out_arpa.name + ".parts")
    # The dev text, normalised as the training text is; an empty result is an error up front.
    dev_lines = [s for s in (norm(line) for line in read_lines(dev, "dev text")) if s]
    if not dev_lines:
        raise LmbootError("dev text has no sentence left after normalisation", path=dev)
    work.mkdir(parents=True, exist_ok=True)
    dev_norm = work / "dev.normalized.txt"
    with atomic_write(dev_norm) as f:
        f.write("".join(s + "\n" for s in dev_lines))

    # lmplz's intermediate files are kept whenever there is something to interpolate, so that
    # a later run with the other method reuses the components too.
    comps = [_train_component(name, path, work, order, prune, norm, intermediate=len(srcs) > 1,
                              memory=memory)
             for name, path in srcs]
    if len(comps) == 1:
        log.info("one source only: its LM is the output (weight 1.0), nothing to interpolate")
        with atomic_path(out_arpa) as tmp:
            shutil.copyfile(comps[0].arpa, tmp)
        combined = Combined(weights=[1.0], info={"note": "one source: no interpolation"})
    else:
        combined = interp.combine(comps, dev_norm, out_arpa, work, progress=progress)
    bin_path = lm_mod.build_binary(out_arpa, binary) if binary else None

    ev = lm_mod.evaluate([c.arpa for c in comps] + [out_arpa], dev, normalizer=norm,
                         names=[c.name for c in comps] + ["mix"])
    comp_res = [ComponentResult(name=c.name, text=str(c.text), arpa=str(c.arpa), weight=w,
                                sentences=c.sentences, tokens=c.tokens, dev_ppl_common=e.ppl_common,
                                dev_ppl=e.ppl, dev_oov_rate=e.oov_rate, reused=c.reused)
                for c, w, e in zip(comps, combined.weights, ev.models)]
    mix_eval = ev.models[-1]
    return BuildResult(method=interp.name, order=order, arpa=out_arpa, binary=bin_path, work_dir=work,
                       dev=str(dev), weights={c.name: w for c, w in zip(comps, combined.weights)},
                       components=comp_res, mix_ppl_common=mix_eval.ppl_common, mix_ppl=mix_eval.ppl,
                       mix_oov_rate=mix_eval.oov_rate, tuning={**combined.info, "signature": ev.signature},
                       seconds=time.perf_counter() - t0)
