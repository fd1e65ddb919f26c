"""Relative-entropy pruning of backoff ARPA models (Stolcke 1998), to a threshold or a size budget.

As SRILM's ``ngram -prune``: every n-gram of order 2 and above is scored by the relative
change in the model's perplexity that removing it would cause, and those below the threshold
go. For the n-gram (h, w), with h' = h without its first word and BOW'(h) the back-off weight
of h recomputed without (h, w), Stolcke's increase in relative entropy is (log10 throughout)

    D = -P(h) { p(w|h) [log p(w|h') + log BOW'(h) - log p(w|h)]
                + (1 - sum_{v: hv listed} p(v|h)) [log BOW'(h) - log BOW(h)] }

and the n-gram is pruned when 10^D - 1 (the relative perplexity change) is below the
threshold. P(h) is the chain-rule probability of h under the model (for a history starting
with ``<s>`` the probability of ``</s>`` stands in for that of ``<s>``, as in SRILM). An n-gram
that a kept longer n-gram needs as its context (prefix) or its suffix is kept: ARPA needs the
first, KenLM's lookup the second. The back-off weights of the contexts that lost n-grams are
then recomputed so that every p(.|h) sums to one; kept probabilities are copied unchanged.

With a size budget (``max_size``) the threshold is the smallest one whose KenLM binary fits:
a bisection over the computed D values, the binary's size predicted exactly from the n-gram
counts (KenLM's probing layout), then checked on the real binary.

``history`` (the LM's training text) takes P(h) from text frequencies instead, better for
Kneser-Ney models (:mod:`lmboot.lm.history`).

N-grams are held as numpy arrays per order (one uint64 key, a log-probability, a back-off
weight and a context index each), not Python objects: about 60 bytes per n-gram at the peak
(a 1 GB, 30M n-gram ARPA pruned in 1.75 GiB).

>>> from lmboot import lm
>>> res = lm.prune("final.arpa", "small.arpa", max_size="5MB", binary="small.bin")  # doctest: +SKIP
>>> print(res.summary())                                                          # doctest: +SKIP
final.arpa -> small.arpa: 1-grams 8,931 -> 8,931, 2-grams 75,233 -> 31,022, ...
"""
from __future__ import annotations

import contextlib
import math
import tempfile
import time
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lmboot.errors import LmbootError
from lmboot.io.arpa import ArpaReader, is_kenlm_binary, split_fields
from lmboot.io.corpus import atomic_path, check_file
from lmboot.io.temps import temp_prefix
from lmboot.lm.size import binary_size, human, parse_size
from lmboot.lm.tools import run_tool
from lmboot.results import Result

CHECK_TMP = temp_prefix("lmboot-prune-")  # registered: a killed run's leftovers are cleaned

_CHUNK = 1 << 22  # rows per vectorised step: bounds the temporaries to ~100 MB
_EPS = 3e-6  # SRILM's Prob_Epsilon: rounding slack in back-off mass
_TINY = 1e-10
@dataclass
class PruneResult(Result):
    """What :func:`prune` did: n-grams per order before and after, the threshold, the sizes."""

    source: Path
    arpa: Path
    binary: Path | None
    ngrams_before: list[int]
    ngrams_after: list[int]
    threshold: float  # relative perplexity change below which n-grams went (SRILM -prune)
    max_size: int | None  # the budget in bytes, if one was given
    binary_bytes: int | None  # the real KenLM binary's size, when one was built
    predicted_bytes: int  # binary size predicted from the counts
    history: list[str] | None  # texts whose frequencies gave P(h); None: the model's chain rule
    recomputed_backoffs: int
    clamped_backoffs: int
    seconds: float

    @property
    def kept_fraction(self) -> float:
        return sum(self.ngrams_after) / max(1, sum(self.ngrams_before))

    def summary(self) -> str:
        orders = ", ".join(f"{n}-grams {a:,} -> {b:,}" for n, (a, b) in
                           enumerate(zip(self.ngrams_before, self.ngrams_after), 1))
        size = f"binary {self.binary or '(checked, not kept)'} {human(self.binary_bytes)}" \
            if self.binary_bytes is not None else f"predicted binary {human(self.predicted_bytes)}"
        budget = f" (budget {human(self.max_size)})" if self.max_size else ""
        hist = f" (P(h) from {', '.join(self.history)})" if self.history else ""
        return (f"{self.source} -> {self.arpa}: {orders}; kept {100 * self.kept_fraction:.1f} % of the n-grams "
                f"at threshold {self.threshold:.4g}{hist}; {size}{budget}; {self.seconds:.1f} s")


@dataclass
class _Order:
    """The n-grams of one order, sorted by ``keys`` (suffix index * V + first word id; for 1-grams
    the word id): lmplz writes its sections in this order, so they need no sorting."""

    logp: np.ndarray  # log10 p(w|h), float64 (copied to the output unchanged)
    bow: np.ndarray | None  # log10 back-off weight, 0 where none; None for the top order
    keys: np.ndarray  # uint64
    pre: np.ndarray | None  # index of the (n-1)-gram prefix, the context; None for 1-grams
    inv: np.ndarray | None  # file position -> sorted position; None when the file was sorted


def _chunks(n: int):
    for s in range(0, n, _CHUNK):
        yield slice(s, min(n, s + _CHUNK))


class _Model:
    """An ARPA model as arrays: read once (validated by :class:`ArpaReader`), written by copying
    the kept lines of a second pass."""

    def __init__(self, path: Path):
        reader = ArpaReader(path)
        self.path, self.counts, self.order = reader.path, list(reader.counts), reader.order
        if not self.counts[0]:
            raise LmbootError("the model has no 1-grams", path=self.path)
        self.words: list[str] = []
        self.orders: dict[int, _Order] = {}
        ids: dict[str, int] = {}
        cur, n, filled = 1, 1, 0
        cols, logp, bow = self._alloc(1)
        ib, lb, bb = array("i"), array("d"), array("d")

        def flush():
            nonlocal filled
            m = len(lb)
            if filled + m > len(logp):
                raise LmbootError(f"the {cur}-gram section has more n-grams than the header's {len(logp)}",
                                  path=self.path, line=reader.lineno)
            cols[filled * cur:(filled + m) * cur] = np.frombuffer(ib, dtype=np.int32)
            logp[filled:filled + m] = np.frombuffer(lb)
            if bow is not None:
                bow[filled:filled + m] = np.frombuffer(bb)
            filled += m
            del ib[:], lb[:], bb[:]

        try:
            for n, words, p, b in reader:
                while n != cur:  # section done (sections with no n-gram are skipped over)
                    flush()
                    self._finish(cur, cols, logp, bow)
                    cur, filled = cur + 1, 0
                    cols, logp, bow = self._alloc(cur)
                if n == 1:
                    if words[0] in ids:
                        raise LmbootError(f"1-gram {words[0]!r} is listed twice", path=self.path, line=reader.lineno)
                    ids[words[0]] = len(ids)
                    self.words.append(words[0])
                else:
                    ib.extend(map(ids.__getitem__, words))
                lb.append(p)
                if bow is not None:
                    bb.append(0.0 if b is None else b)
                if len(lb) >= 1 << 16:
                    flush()
        except KeyError as e:
            raise LmbootError(f"{n}-gram word {e.args[0]!r} is not among the 1-grams", path=self.path,
                              line=reader.lineno) from None
        flush()
        while cur <= self.order:
            self._finish(cur, cols, logp, bow)
            cur += 1
            if cur <= self.order:
                cols, logp, bow = self._alloc(cur)
        self.bos, self.eos = ids.get("<s>"), ids.get("</s>")

    def _alloc(self, n: int):
        c = self.counts[n - 1]
        return (np.empty(c * n if n > 1 else 0, dtype=np.int32), np.empty(c),
                np.empty(c) if n < self.order else None)

    def find(self, n: int, suffix: np.ndarray, first: np.ndarray) -> np.ndarray:
        """Sorted index of the n-grams (first word, (n-1)-gram ``suffix``) in order n; -1 if absent."""
        keys, out = self.orders[n].keys, np.full(len(first), -1, dtype=np.int64)
        if len(keys) == 0:
            return out
        V = np.uint64(len(self.words))
        for s in _chunks(len(first)):
            q = suffix[s].astype(np.uint64) * V + first[s].astype(np.uint64)
            pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
            out[s] = np.where(keys[pos] == q, pos, -1)
        return out

    def _missing(self, what: str, cols: np.ndarray, idx: np.ndarray, lo: int, hi: int) -> None:
        bad = np.flatnonzero(idx < 0)
        if len(bad):
            row = cols[bad[0]]
            raise LmbootError(f"the {len(row)}-gram '{' '.join(self.words[i] for i in row)}' has no {what} "
                              f"'{' '.join(self.words[i] for i in row[lo:hi])}': lm prune needs a model whose "
                              "n-grams are closed under prefixes and suffixes, as lmplz writes them", path=self.path)

    def _finish(self, n: int, cols: np.ndarray, logp: np.ndarray, bow: np.ndarray | None) -> None:
        V = len(self.words)
        if n == 1:
            self.orders[1] = _Order(logp, bow, np.arange(V, dtype=np.uint64), None, None)
            return
        cols = cols.reshape(-1, n)
        suf = cols[:, n - 1].astype(np.int64)  # (w2..wn), built leftwards from the last word
        for j in range(n - 2, 0, -1):
            suf = self.find(n - j, suf, cols[:, j])
        self._missing("suffix", cols, suf, 1, n)
        if n == 2:
            pre = cols[:, 0].astype(np.int64)
        else:  # the prefix (w1..wn-1) = w1 + the prefix of the suffix
            pre = self.find(n - 1, self.orders[n - 1].pre[suf], cols[:, 0])
            self._missing("prefix", cols, pre, 0, n - 1)
        keys = suf.astype(np.uint64) * np.uint64(V) + cols[:, 0].astype(np.uint64)
        del suf
        idx_type = np.int32 if self.counts[n - 2] < 2**31 else np.int64
        inv = None
        if len(keys) > 1 and not np.all(keys[1:] > keys[:-1]):
            perm = np.argsort(keys, kind="stable")
            keys = keys[perm]
            dup = np.flatnonzero(keys[1:] == keys[:-1])
            if len(dup):
                row = cols[perm[dup[0]]]
                raise LmbootError(f"the {n}-gram '{' '.join(self.words[i] for i in row)}' is listed twice",
                                  path=self.path)
            logp, pre = logp[perm], pre[perm]
            bow = bow[perm] if bow is not None else None
            inv = np.empty(len(perm), dtype=np.int32 if len(perm) < 2**31 else np.int64)
            inv[perm] = np.arange(len(perm), dtype=inv.dtype)
        self.orders[n] = _Order(logp, bow, keys, pre.astype(idx_type), inv)

    def lookup(self, words: list[str]) -> int:
        """Sorted index of the n-gram ``words`` in the tables of its order; -1 if not listed."""
        ids = {w: i for i, w in enumerate(self.words)}
        if any(w not in ids for w in words):
            return -1
        idx = np.array([ids[words[-1]]])
        for j in range(len(words) - 2, -1, -1):
            idx = self.find(len(words) - j, idx, np.array([ids[words[j]]]))
        return int(idx[0])

    def suffix(self, n: int, s: slice) -> np.ndarray:
        return (self.orders[n].keys[s] // np.uint64(len(self.words))).astype(np.int64)

    def vocab_bytes(self) -> int:
        return sum(len(w.encode("utf-8")) + 1 for w in self.words)

    def deltas(self, history: dict[int, np.ndarray] | None = None) -> dict[int, np.ndarray]:
        """Per order >= 2, each n-gram's relative perplexity change 10^D - 1 if it alone were
        pruned (float32; +inf where SRILM skips the context: no consistent back-off mass).
        ``history``: log10 P(h) per history order (:mod:`lmboot.lm.history`) instead of the
        model's chain rule."""
        uni = self.orders[1].logp
        marg = history[1] if history else uni.copy()  # log10 P(h) of the histories of the next order
        if not history and self.bos is not None and self.eos is not None:
            marg[self.bos] = uni[self.eos]  # P(<s> ...) as SRILM: p(</s>) stands in for p(<s>)
        out = {}
        for n in range(2, self.order + 1):
            o, lo = self.orders[n], self.orders[n - 1]
            nctx = len(lo.logp)
            num, den = np.ones(nctx), np.ones(nctx)  # 1 - sum p(w|h), 1 - sum p(w|h') over listed hw
            for s in _chunks(len(o.logp)):
                num -= np.bincount(o.pre[s], 10.0 ** o.logp[s], nctx)
                den -= np.bincount(o.pre[s], 10.0 ** lo.logp[self.suffix(n, s)], nctx)
            num[(num < 0) & (num > -_EPS)] = 0.0
            den[(den < 0) & (den > -_EPS)] = 0.0
            zero = (den <= 0) & (num >= 0) & (num <= _EPS)  # SRILM: no mass left on either side
            num[zero] = den[zero] = 0.0
            valid = (num >= 0) & ((den > 0) | zero)
            pc = np.empty(len(o.logp), dtype=np.float32)
            nxt = np.empty(len(o.logp), dtype=np.float32) if n < self.order and not history else None
            for s in _chunks(len(o.logp)):
                ctx, L = o.pre[s], o.logp[s]
                lbo = lo.logp[self.suffix(n, s)]
                p, pbo, nu = 10.0 ** L, 10.0 ** lbo, num[ctx]
                with np.errstate(divide="ignore"):
                    new_bow = np.log10(nu + p) - np.log10(den[ctx] + pbo)
                dh = -(10.0 ** marg[ctx]) * (p * (lbo + new_bow - L) + nu * (new_bow - lo.bow[ctx]))
                r = np.expm1(dh * math.log(10))
                r[~valid[ctx]] = np.inf
                pc[s] = r
                if nxt is not None:
                    nxt[s] = marg[ctx] + L
            out[n] = pc
            marg = history[n] if history and n < self.order else nxt
        return out

    def keep(self, pc: dict[int, np.ndarray], threshold: float) -> dict[int, np.ndarray]:
        """Kept masks per order >= 2 at ``threshold`` (nothing goes at 0): n-grams with
        10^D - 1 < threshold go, unless a kept longer n-gram needs them as prefix or suffix."""
        keep, protect = {}, None
        for n in range(self.order, 1, -1):
            k = ~(pc[n] < threshold) if threshold > 0 else np.ones(len(pc[n]), dtype=bool)
            if protect is not None:
                k |= protect
            keep[n] = k
            if n > 2:
                protect = np.zeros(self.counts[n - 2], dtype=bool)
                for s in _chunks(len(k)):
                    ks = k[s]
                    protect[self.orders[n].pre[s][ks]] = True
                    protect[self.suffix(n, s)[ks]] = True
        return keep

    def counts_after(self, keep: dict[int, np.ndarray]) -> list[int]:
        return [self.counts[0]] + [int(np.count_nonzero(keep[n])) for n in range(2, self.order + 1)]

    def backoffs(self, keep: dict[int, np.ndarray]) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], int]:
        """New log10 back-off weights of the contexts that lost n-grams: {order: (changed mask,
        weights)}, and how many had to be clamped (no mass left, by rounding)."""
        new, clamped = {}, 0
        for n in range(2, self.order + 1):
            o, lo = self.orders[n], self.orders[n - 1]
            nctx = len(lo.logp)
            lost, s1, s2 = np.zeros(nctx, dtype=bool), np.zeros(nctx), np.zeros(nctx)
            for s in _chunks(len(o.logp)):
                k, ctx = keep[n][s], o.pre[s]
                lost[ctx[~k]] = True
                s1 += np.bincount(ctx[k], 10.0 ** o.logp[s][k], nctx)
                s2 += np.bincount(ctx[k], 10.0 ** lo.logp[self.suffix(n, s)[k]], nctx)
            if not lost.any():
                continue
            num, den = 1.0 - s1[lost], 1.0 - s2[lost]
            clamped += int(np.count_nonzero((num < _TINY) | (den < _TINY)))
            bow = lo.bow.copy()
            bow[lost] = np.log10(np.maximum(num, _TINY)) - np.log10(np.maximum(den, _TINY))
            new[n - 1] = (lost, bow)
        return new, clamped

    def write(self, out: Path, keep: dict[int, np.ndarray], new_bow: dict) -> None:
        """The kept lines of the input, in its order, with recomputed back-off weights."""
        counts = self.counts_after(keep)
        with open(out, "w", encoding="utf-8", newline="\n") as f:
            f.write("\\data\\\n" + "".join(f"ngram {n}={c}\n" for n, c in enumerate(counts, 1)))
            cur, buf = 0, []
            for n, line in ArpaReader(self.path).lines():
                while n != cur:
                    f.write("".join(buf))
                    buf.clear()
                    cur += 1
                    f.write(f"\n\\{cur}-grams:\n")
                    i, inv = 0, self.orders[cur].inv
                    kmask = _file_order(keep.get(cur), inv)
                    changed, bows = new_bow.get(cur, (None, None))
                    cmask = _file_order(changed, inv)
                if kmask is None or kmask[i]:
                    if cmask is not None and cmask[i]:
                        parts = split_fields(line)
                        b = float(bows[inv[i] if inv is not None else i])
                        line = parts[0] + "\t" + " ".join(parts[1:n + 1]) + (f"\t{b:.7g}" if b != 0 else "")
                    buf.append(line + "\n")
                    if len(buf) >= 1 << 16:
                        f.write("".join(buf))
                        buf.clear()
                i += 1
            f.write("".join(buf))
            for n in range(cur + 1, self.order + 1):
                f.write(f"\n\\{n}-grams:\n")
            f.write("\n\\end\\\n")


def _file_order(mask: np.ndarray | None, inv: np.ndarray | None) -> bytes | None:
    """A sorted-order mask in file order, as bytes (indexing bytes is the fastest lookup per line)."""
    if mask is None:
        return None
    return (mask[inv] if inv is not None else mask).tobytes()


def _floor_error(path: Path, budget: int, n1: int, floor: int) -> LmbootError:
    return LmbootError(f"a size budget of {human(budget)} cannot be met: the {n1:,} 1-grams alone "
                       f"(never pruned) take {human(floor)} as a KenLM binary", path=path)


def _check_floor(path: Path, budget: int) -> None:
    """Refuse a budget below the 1-grams' binary after reading the 1-gram section only."""
    reader = ArpaReader(path)
    entries, vocab_bytes = iter(reader), 0
    try:
        for n, words, _, _ in entries:
            if n > 1:
                break
            vocab_bytes += len(words[0].encode("utf-8")) + 1
    finally:
        entries.close()
    floor = binary_size([reader.counts[0]] + [0] * (reader.order - 1), vocab_bytes)
    if floor > budget:
        raise _floor_error(path, budget, reader.counts[0], floor)


def _fit(model: _Model, pc: dict, budget: int, vocab_bytes: int) -> tuple[float, dict]:
    """The smallest threshold whose predicted binary fits ``budget`` (bisection over the D values)."""
    def size(keep):
        return binary_size(model.counts_after(keep), vocab_bytes)

    floor = binary_size([model.counts[0]] + [0] * (model.order - 1), vocab_bytes)
    if floor > budget:
        raise _floor_error(model.path, budget, model.counts[0], floor)
    if binary_size(model.counts, vocab_bytes) <= budget:
        return 0.0, model.keep(pc, 0.0)
    cand = np.unique(np.concatenate([p[np.isfinite(p)] for p in pc.values()]))
    if not len(cand):
        raise LmbootError(f"a size budget of {human(budget)} cannot be met: no n-gram of this model can be pruned",
                          path=model.path)

    def threshold(j: int) -> float:
        return float(np.nextafter(cand[j], np.float32(np.inf)))  # prunes every value <= cand[j]

    lo, hi = 0, len(cand) - 1
    last = model.keep(pc, threshold(hi))
    if size(last) > budget:
        raise LmbootError(f"a size budget of {human(budget)} cannot be met: pruning every n-gram that can go "
                          f"still leaves {human(size(last))}", path=model.path)
    while lo < hi:
        mid = (lo + hi) // 2
        if size(model.keep(pc, threshold(mid))) <= budget:
            hi = mid
        else:
            lo = mid + 1
    return threshold(lo), model.keep(pc, threshold(lo))


def prune(arpa: str | Path, out: str | Path, *, threshold: float | None = None, max_size: int | str | None = None,
          binary: str | Path | None = None, history=None, normalizer=None) -> PruneResult:
    """Prune the ARPA model ``arpa`` by relative entropy into ``out`` (and a KenLM ``binary``).

    Give ``threshold`` (a relative perplexity change, as SRILM's ``-prune``: ``1e-8`` prunes
    little, ``1e-6`` much; 0 prunes nothing) or ``max_size`` (bytes of the KenLM binary: an
    int or ``"5MB"``, ``"1.5GB"``...); with ``max_size`` the threshold is the smallest that
    fits, checked on the real binary. ``history``: the LM's training text (a path, or
    ``[(path, weight), ...]``), whose frequencies then give P(h) instead of the model's chain
    rule (better for Kneser-Ney models, see :mod:`lmboot.lm.history`; text normalised by
    ``normalizer`` as the LM text was). Outputs are written atomically.

    >>> prune("final.arpa", "small.arpa", threshold=1e-7).ngrams_after   # doctest: +SKIP
    [8931, 31022, 20418]
    """
    t0 = time.perf_counter()
    if (threshold is None) == (max_size is None):
        raise LmbootError("give either a pruning threshold or a size budget (max_size)")
    if threshold is not None and (isinstance(threshold, bool) or not math.isfinite(threshold) or threshold < 0):
        raise LmbootError(f"the pruning threshold must be a finite number >= 0, not {threshold!r}")
    budget = parse_size(max_size) if max_size is not None else None
    src = check_file(arpa, "ARPA model")
    if is_kenlm_binary(src):
        raise LmbootError("is a KenLM binary model; lm prune reads the ARPA text it was built from", path=src)
    out = Path(out)
    if out.resolve() == src.resolve() or (binary is not None and Path(binary).resolve() == src.resolve()):
        raise LmbootError("an output would replace the input model", path=src)
    if budget is not None:
        _check_floor(src, budget)  # before the long read: the 1-grams alone must fit
    model = _Model(src)
    if model.order < 2:
        raise LmbootError("a 1-gram model has nothing to prune (1-grams are never pruned)", path=src)
    texts = [(history, None)] if isinstance(history, (str, Path)) else list(history or [])
    if texts:
        from lmboot.lm.history import history_logprobs

        pc = model.deltas(history_logprobs(model, texts, normalizer))
    else:
        pc = model.deltas()
    vocab_bytes = model.vocab_bytes()
    target = budget
    with contextlib.ExitStack() as stack:
        tmp_arpa = stack.enter_context(atomic_path(out))
        if binary is not None:
            tmp_bin = stack.enter_context(atomic_path(binary))
        elif budget is not None:
            tmp_bin = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=CHECK_TMP,
                                                                           dir=out.parent))) / "check.bin"
        else:
            tmp_bin = None
        for attempt in range(4):
            theta, keep = (float(threshold), model.keep(pc, float(threshold))) if budget is None else \
                _fit(model, pc, target, vocab_bytes)
            new_bow, clamped = model.backoffs(keep)
            model.write(tmp_arpa, keep, new_bow)
            predicted = binary_size(model.counts_after(keep), vocab_bytes)
            real = None
            if tmp_bin is not None:
                run_tool("build_binary", ["-s", tmp_arpa, tmp_bin])
                real = tmp_bin.stat().st_size
            if budget is None or real <= budget:
                break
            if attempt == 3:
                raise LmbootError(f"could not fit the budget of {human(budget)}: the binary still takes {human(real)}",
                                  path=src)
            target -= real - predicted  # the prediction was off: aim lower by as much
        if binary is not None:
            from lmboot.io.checksums import publish_with_checksum

            digest = publish_with_checksum(tmp_bin, binary)
    if binary is not None:
        from lmboot.io.checksums import write_checksum

        write_checksum(binary, digest)  # BINARY.sha256, verified by lm.load()
    return PruneResult(source=src, arpa=out, binary=Path(binary) if binary is not None else None,
                       ngrams_before=list(model.counts), ngrams_after=model.counts_after(keep), threshold=theta,
                       max_size=budget, binary_bytes=real, predicted_bytes=predicted,
                       history=[str(t) for t, _ in texts] or None,
                       recomputed_backoffs=sum(int(m.sum()) for m, _ in new_bow.values()),
                       clamped_backoffs=clamped, seconds=time.perf_counter() - t0)


__all__ = ["prune", "PruneResult", "parse_size", "binary_size", "human"]  # sizes from lmboot.lm.size
