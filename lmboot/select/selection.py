"""``lmboot select``: the driver that streams a general bitext past a scorer and keeps the best pairs.

The general corpus is streamed three times and never held in memory: pass 0 draws a seeded
reservoir sample (to fit the embedder / the general LM) and validates the bitext, pass 1
scores in batches keeping one float32 per pair, then the threshold is decided, and pass 2
writes the outputs. Nothing is written before the decision, every file is written
atomically, and a selection that keeps nothing is an error that suggests a threshold.
"""
from __future__ import annotations

import contextlib
import logging
import math
import random
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from lmboot import plots
from lmboot.defaults import DEFAULT_KEEP_FRACTION
from lmboot.errors import LmbootError
from lmboot.filtering import Filtered, Scores, decide, finish, progress_bar, quantiles
from lmboot.io.corpus import atomic_write, check_file, read_bitext, read_lines
from lmboot.io.temps import temp_prefix
from lmboot.select.embedders import Embedder
from lmboot.select.scorers import METHODS, make_scorer
from lmboot.text.normalize import Normalizer

log = logging.getLogger("lmboot")
WORK_TMP = temp_prefix(".select-work-")  # registered: a killed run's leftovers are cleaned

MAX_REPEAT = 100  # as [oversample] repeat: more copies only fill the disk
QUANTILES = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)


@dataclass
class SelectResult(Filtered):
    """What :func:`select` kept and where it wrote it."""

    method: str
    total: int  # pairs read (pairs with an empty side are skipped by the reader and not counted)
    kept: int
    dropped: int
    unscorable: int  # target side empty after normalisation: never kept
    rule: str  # "keep_fraction=0.2" | "top_k=1000" | "max_distance=0.6"
    threshold: float  # score of the last kept pair (top_k/fraction) or the given max_distance
    score_label: str
    quantiles: dict = field(default_factory=dict)
    selected_src: Path | None = None
    selected_tgt: Path | None = None  # None for TSV input/output
    repeat: int = 1  # > 1: the outputs hold every pair, the kept ones this many times
    written: int = 0  # pairs written to the outputs
    scores_path: Path | None = None
    summary_path: Path | None = None
    histogram_path: Path | None = None
    artifacts: dict = field(default_factory=dict)  # embedder dir / LM paths
    scorer: dict = field(default_factory=dict)
    seconds: float = 0.0
    score_seconds: float = 0.0
    sentences_per_s: float = 0.0

    def summary(self) -> str:
        outs = str(self.selected_src) + (f" + {self.selected_tgt}" if self.selected_tgt else "")
        how = (f"; all pairs written, the kept ones {self.repeat} times ({self.written} pairs)"
               if self.repeat > 1 else "")
        return (f"{self.kept_line()}, {self.rule}, threshold {self.threshold:.4f} ({self.method}){how}; "
                f"{self.sentences_per_s:,.0f} sentences/s -> {outs}")

    def summary_json(self) -> dict:
        """summary.json: the result with output paths relative to its directory and without
        timings, so that the same inputs and seed give a byte-identical file wherever it is written."""
        out_dir = self.summary_path.parent

        def rel(p):
            return None if p is None else Path(p).relative_to(out_dir).as_posix()

        d = self.to_json()
        for key in ("seconds", "score_seconds", "sentences_per_s"):
            d.pop(key)
        for key in ("selected_src", "selected_tgt", "scores_path", "summary_path", "histogram_path"):
            d[key] = rel(d[key])
        d["artifacts"] = {k: rel(v) for k, v in d["artifacts"].items()}
        return d


def _reservoir(src, tgt, size: int, rng: random.Random) -> tuple[list[tuple[int, str, str]], int]:
    """Pass 0: a uniform random sample (Algorithm R) of ``(pair index, source, target)``, in
    random order, and the number of pairs; validates the whole bitext on the way."""
    sample: list[tuple[int, str, str]] = []
    n = 0
    for _, s, t in read_bitext(src, tgt, with_lineno=True):
        if n < size:
            sample.append((n, s, t))
        else:
            j = rng.randrange(n + 1)
            if j < size:
                sample[j] = (n, s, t)
        n += 1
    rng.shuffle(sample)
    return sample, n


def _output_names(src: Path, tgt: Path | None, stem: str = "selected") -> tuple[str, str | None]:
    if tgt is None:
        return f"{stem}.tsv", None
    a, b = src.suffix, tgt.suffix
    if a and b and a != b:
        return f"{stem}{a}", f"{stem}{b}"
    return f"{stem}.src", f"{stem}.tgt"


def select(general_src: str | Path, general_tgt: str | Path | None, seed: str | Path, out_dir: str | Path,
           method: str = "centroid", keep_fraction: float | None = None, max_distance: float | None = None,
           top_k: int | None = None, k: int = 5, embedder: str | Embedder = "tfidf", random_seed: int = 1,
           dim: int = 128, fit_sample: int = 50000, batch_size: int = 2048, order: int = 3,
           normalizer: Normalizer | None = None, progress: bool = False, plot: bool = True,
           source_domain: str | Path | None = None, repeat: int = 1,
           src_normalizer: Normalizer | None = None) -> SelectResult:
    """Keep the pairs of a general bitext whose target side is nearest the in-domain ``seed``.

    ``general_src``/``general_tgt``: two line-aligned files, or one TSV (``general_tgt=None``).
    ``seed``: in-domain target-language text. ``method``: ``centroid`` | ``knn`` |
    ``moore-lewis``. At most one keep rule: ``max_distance`` (keep score <= it), ``top_k`` or
    ``keep_fraction`` (default :data:`DEFAULT_KEEP_FRACTION` of all pairs). ``embedder``: ``tfidf`` | ``st:/model/dir`` | a
    saved embedder directory. ``fit_sample``: general target sentences sampled (seeded
    reservoir) to fit the embedder / draw the general LM's text from. Text is normalised with
    ``normalizer`` (default :class:`~lmboot.text.normalize.Normalizer`) before scoring; outputs carry
    the input lines unchanged. The source side takes ``src_normalizer``; by default ``normalizer``
    without its spoken form, whose language is the target's.

    ``source_domain`` (``moore-lewis`` only): in-domain text in the *source* language, such as
    the text the translator will translate. Each pair then scores the sum of two
    cross-entropy differences, target side against the seed and source side against this text
    (bilingual Moore-Lewis, Axelrod et al. 2011): a source language's in-domain text is
    usually far larger than the target seed, and it is the source side the translator must
    learn to read. ``repeat`` > 1 writes ``oversampled.*`` instead of ``selected.*``: every
    pair, the kept ones ``repeat`` times (the copies after the whole bitext), a translator's
    training data weighted toward the domain rather than cut down to it.

    Writes in ``out_dir``: the selected bitext (``selected.<src-ext>`` + ``selected.<tgt-ext>``,
    or ``selected.tsv``), ``scores.tsv`` (``line, score, decision`` for every pair), ``summary.json``,
    ``histogram.png``, and ``embedder/`` (embedding methods) or ``lm/`` (Moore-Lewis).

    >>> res = select("general.en", "general.hi", "seed.hi", "sel", method="knn", k=5)  # doctest: +SKIP
    >>> print(res.kept, res.selected_src, res.selected_tgt)                            # doctest: +SKIP
    5211 sel/selected.en sel/selected.hi
    """
    t_start = time.perf_counter()
    rules = [r for r in (keep_fraction, max_distance, top_k) if r is not None]
    if len(rules) > 1:
        raise LmbootError("give at most one of --keep-fraction, --max-distance, --top-k")
    if not rules:
        keep_fraction = DEFAULT_KEEP_FRACTION
    if keep_fraction is not None and not 0 < keep_fraction <= 1:
        raise LmbootError(f"--keep-fraction must be in (0, 1], not {keep_fraction}")
    if top_k is not None and top_k < 1:
        raise LmbootError(f"--top-k must be at least 1, not {top_k}")
    if max_distance is not None and not math.isfinite(max_distance):
        raise LmbootError(f"--max-distance must be a finite number, not {max_distance}")
    if method == "ml":
        method = "moore-lewis"
    if method not in METHODS:
        raise LmbootError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    if fit_sample < 1 or batch_size < 1:
        raise LmbootError("fit_sample and batch_size must be at least 1")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
        raise LmbootError(f"--repeat must be an integer in [1, {MAX_REPEAT}], not {repeat!r}")
    if source_domain is not None and method != "moore-lewis":
        raise LmbootError(f"an in-domain source text scores the source side with Moore-Lewis: use "
                          f"--method moore-lewis, not {method}")
    norm = normalizer or Normalizer()
    src_norm = src_normalizer or (replace(norm, spoken_form=False, lang=None) if norm.spoken_form else norm)
    src = check_file(general_src, "general bitext" if general_tgt is None else "general source side")
    tgt = None if general_tgt is None else check_file(general_tgt, "general target side")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise LmbootError("output directory is a file", path=out_dir)

    # Seed: normalised, empty lines dropped.
    seed_texts = [s for s in (norm(x) for x in read_lines(seed, "seed set")) if s]
    if not seed_texts:
        raise LmbootError("seed set has no sentence left after normalisation", path=seed)
    if method == "knn" and len(seed_texts) < k:
        raise LmbootError(f"seed set has {len(seed_texts)} sentence(s), fewer than k={k} "
                          "(knn averages the k nearest seed sentences; lower --k)", path=seed)
    scorer = make_scorer(method, embedder, k=k, order=order, dim=dim, random_seed=random_seed)
    src_scorer = None
    if source_domain is not None:
        domain_src = [s for s in (src_norm(x) for x in read_lines(source_domain, "in-domain source text")) if s]
        if not domain_src:
            raise LmbootError("in-domain source text has no sentence left after normalisation", path=source_domain)
        src_scorer = make_scorer(method, order=order)

    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=WORK_TMP, dir=out_dir))
    try:
        # Pass 0: seeded sample of the general target side (also validates the whole bitext).
        total: int | None = None
        sample: list[tuple[int, str]] = []
        if scorer.needs_sample:
            raw, total = _reservoir(src, tgt, fit_sample, random.Random(random_seed))
            sample = [(i, s) for i, s in ((i, norm(t)) for i, _, t in raw) if s]
            if total == 0:
                raise LmbootError("general bitext has no pair with both sides non-empty", path=src)
        scorer.prepare(seed_texts, sample, work)
        del sample
        if src_scorer is not None:
            (work / "source").mkdir()
            src_scorer.prepare(domain_src, [(i, s) for i, s in ((i, src_norm(x)) for i, x, _ in raw) if s],
                               work / "source")
            del raw, domain_src

        # Pass 1: score in batches; keep one float32 per pair.
        scores = Scores()
        t_score = time.perf_counter()
        batch: list[str] = []
        batch_src: list[str] = []
        slots: list[int] = []

        def flush() -> None:
            if batch:
                vals = scorer.score(batch, slots)
                if src_scorer is not None:
                    vals = vals + src_scorer.score(batch_src, slots)
                for j, v in zip(slots, vals.tolist()):
                    scores[j] = v
                batch.clear()
                batch_src.clear()
                slots.clear()

        with progress_bar(progress, total, f"select {method}") as bar:
            for _, x, t in read_bitext(src, tgt, with_lineno=True):
                s = norm(t)
                scores.append(math.inf)
                if s:
                    batch.append(s)
                    if src_scorer is not None:
                        batch_src.append(src_norm(x))
                    slots.append(len(scores) - 1)
                    if len(batch) >= batch_size:
                        flush()
                        if bar is not None:
                            bar.update(batch_size)
                elif bar is not None:
                    bar.update(1)
            n_last = len(batch)
            flush()
            if bar is not None:
                bar.update(n_last)
        score_seconds = time.perf_counter() - t_score
        n = len(scores)
        if n == 0:
            raise LmbootError("general bitext has no pair with both sides non-empty", path=src)
        arr = scores.array
        finite = arr[np.isfinite(arr)]
        unscorable = n - len(finite)
        if len(finite) == 0:
            raise LmbootError("no target sentence of the general bitext is left after normalisation",
                              path=tgt or src)

        keep, threshold, rule = decide(arr, keep_fraction, max_distance, top_k)
        kept = int(keep.sum())
        if kept == 0:
            one_pct = float(np.quantile(finite.astype(np.float64), 0.01))
            why = (f"no pair has a score <= {max_distance:g}" if max_distance is not None
                   else f"{rule} rounds to 0 of {n} pairs")
            raise LmbootError(f"the selection keeps nothing ({why}); --max-distance {one_pct:.4f} would keep "
                              f"about 1 % of the pairs (scores range {float(finite.min()):.4f}..{float(finite.max()):.4f})",
                              path=tgt or src)

        # Pass 2: write the outputs (each atomically), if the disk can hold them.
        _check_space(out_dir, src, tgt, n, kept, repeat)
        label = scorer.score_label + (", target + source side" if src_scorer is not None else "")
        name_src, name_tgt = _output_names(src, tgt, "oversampled" if repeat > 1 else "selected")
        sel_src, sel_tgt = out_dir / name_src, (out_dir / name_tgt if name_tgt else None)
        scores_p = out_dir / "scores.tsv"
        artifacts = scorer.save(out_dir)
        if src_scorer is not None:
            artifacts.update({f"source_{k}": v for k, v in src_scorer.save(out_dir / "source").items()})

        def write_pair(s: str, t: str) -> None:
            if ft is None:
                fs.write(f"{s}\t{t}\n")
            else:
                fs.write(s + "\n")
                ft.write(t + "\n")

        with contextlib.ExitStack() as stack:
            fs = stack.enter_context(atomic_write(sel_src))
            ft = stack.enter_context(atomic_write(sel_tgt)) if sel_tgt else None
            fsc = stack.enter_context(atomic_write(scores_p))
            fsc.write("line\tscore\tdecision\n")
            i = -1
            for i, (lineno, s, t) in enumerate(read_bitext(src, tgt, with_lineno=True)):
                if i >= n:
                    break
                v = arr[i]
                if repeat > 1:
                    write_pair(s, t)
                if keep[i]:
                    decision = "keep"
                    if repeat == 1:
                        write_pair(s, t)
                else:
                    decision = "drop" if math.isfinite(v) else "empty"
                fsc.write(f"{lineno}\t{v:.6f}\t{decision}\n" if math.isfinite(v) else f"{lineno}\tinf\t{decision}\n")
            if i + 1 != n:
                raise LmbootError(f"general bitext changed while selecting ({n} pairs scored, {i + 1} on re-reading)",
                                  path=src)
            # The copies: the kept pairs again, in corpus order; re-read rather than held, so
            # memory stays bounded whatever the corpus size.
            for _ in range(repeat - 1):
                for i, (_, s, t) in enumerate(read_bitext(src, tgt, with_lineno=True)):
                    if i < n and keep[i]:
                        write_pair(s, t)
        seconds = time.perf_counter() - t_start
        res = SelectResult(
            method=method, total=n, kept=kept, dropped=n - kept, unscorable=unscorable, rule=rule,
            threshold=round(threshold, 6), score_label=label,
            quantiles=quantiles(finite.astype(np.float64), QUANTILES, digits=6),
            selected_src=sel_src, selected_tgt=sel_tgt, repeat=repeat,
            written=n + (repeat - 1) * kept if repeat > 1 else kept,
            scores_path=scores_p, artifacts=artifacts,
            scorer={**scorer.describe(), "normalizer": asdict(norm), "random_seed": random_seed,
                    **({"src_normalizer": asdict(src_norm)} if src_norm != norm else {}),
                    "fit_sample": fit_sample, "seed_sentences": len(seed_texts),
                    "inputs": {"general_src": str(src), "general_tgt": str(tgt) if tgt else None, "seed": str(seed),
                               "source_domain": str(source_domain) if source_domain is not None else None},
                    **({"source_side": src_scorer.describe()} if src_scorer is not None else {})},
            seconds=round(seconds, 3), score_seconds=round(score_seconds, 3),
            sentences_per_s=round(n / score_seconds, 1) if score_seconds > 0 else 0.0)
        finish(res, out_dir, (lambda png: plots.histogram(
            arr, threshold, png, xlabel=label + " (lower = more in-domain)", ylabel="pairs",
            cut_label=f"cut {threshold:.4f}", title=f"{method}: kept {kept} of {n} ({rule})")) if plot else None)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if created:  # everything in it is this call's: nothing half-written stays (lm/*.arpa, embedder/)
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    shutil.rmtree(work, ignore_errors=True)
    log.info("select (%s): kept %d of %d pairs (%.1f%%), %s, threshold %.4f; %.0f sentences/s",
             method, kept, n, 100 * kept / n, rule, threshold, res.sentences_per_s)
    return res


def _check_space(out_dir: Path, src: Path, tgt: Path | None, n: int, kept: int, repeat: int) -> None:
    """Refuse, before writing, outputs the disk cannot hold: the bitext's bytes per pair times the
    pairs written (``repeat`` copies of the kept ones), plus ``scores.tsv``."""
    bitext = src.stat().st_size + (tgt.stat().st_size if tgt is not None else 0)
    rows = n + (repeat - 1) * kept if repeat > 1 else kept
    need = bitext * rows / max(n, 1) + 24 * n
    free = shutil.disk_usage(out_dir).free
    if need > free:
        raise LmbootError(f"not enough disk space: the outputs need about {need / 1e6:,.0f} MB "
                          f"({rows:,} pairs), {free / 1e6:,.0f} MB are free"
                          + (f"; lower --repeat ({repeat})" if repeat > 1 else ""), path=out_dir)


__all__ = ["select", "SelectResult", "DEFAULT_KEEP_FRACTION", "MAX_REPEAT"]
