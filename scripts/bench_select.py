#!/usr/bin/env python
"""Benchmarks of ``lmboot select`` (issue 3).

``throughput``: builds a bitext of at least ``--pairs`` pairs by repeating the lines of a real
general corpus, runs :func:`lmboot.select.select` on it and prints the scoring rate
(sentences/s of normalisation + embedding + scoring, pass 1), the end-to-end time and the
peak RSS; then, in the same process, the rate of the underlying libraries alone on the same
sentences (scikit-learn vectorisers + SVD projection for the embedders, the ``kenlm`` module
for Moore-Lewis, on pre-normalised text) and the ratio between the two.

``tico``: selects from ``general.{en,hi}`` toward ``seed.hi`` with each method at its default
setting, trains a 3-gram LM (KenLM) on the kept Hindi side and on random samples of the
general Hindi side (one with as many sentences, one with at least as many words) and prints
their perplexity on ``dev.hi`` on a common vocabulary (``lmboot.lm.evaluate``'s ppl_common).

    .venv/bin/python scripts/bench_select.py throughput --pairs 200000
    .venv/bin/python scripts/bench_select.py tico
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TICO = Path(os.environ.get("LMBOOT_SHARED", ROOT.parent / "shared")) / "bench" / "tico-en-hi"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def throughput(args) -> None:
    import numpy as np

    from lmboot.io.corpus import read_lines
    from lmboot.text.normalize import Normalizer
    from lmboot.select import load_embedder, select

    data = Path(args.data)
    src_lines = list(read_lines(data / "general.en"))
    tgt_lines = list(read_lines(data / "general.hi"))
    reps = -(-args.pairs // len(tgt_lines))
    with tempfile.TemporaryDirectory(prefix="bench-select-") as tmp:
        tmp = Path(tmp)
        with open(tmp / "big.en", "w", encoding="utf-8") as fs, open(tmp / "big.hi", "w", encoding="utf-8") as ft:
            for _ in range(reps):
                fs.writelines(s + "\n" for s in src_lines)
                ft.writelines(t + "\n" for t in tgt_lines)
        n = reps * len(tgt_lines)
        rss_before = peak_rss_mb()
        t0 = time.perf_counter()
        res = select(tmp / "big.en", tmp / "big.hi", data / "seed.hi", tmp / "out", method=args.method,
                     random_seed=1, progress=args.progress, plot=True)
        wall = time.perf_counter() - t0
        rss = peak_rss_mb()
        print(f"select --method {args.method}: {n} pairs ({reps} x {len(tgt_lines)} lines of {data.name}/general)")
        print(f"  pass 1 (normalise + embed + score): {res.score_seconds:.1f} s = {res.sentences_per_s:,.0f} sentences/s")
        print(f"  end to end (sample + fit + score + write): {wall:.1f} s = {n / wall:,.0f} pairs/s")
        print(f"  peak RSS: {rss:.0f} MB (before select: {rss_before:.0f} MB); kept {res.kept}, threshold {res.threshold}")

        # The underlying libraries alone, on the same (pre-normalised) sentences.
        norm = Normalizer()
        m = min(n, args.lib_sentences)
        texts = [tgt_lines[i % len(tgt_lines)] for i in range(m)]
        t0 = time.perf_counter()
        normed = [norm(t) for t in texts]
        t_norm = time.perf_counter() - t0
        normed = [s for s in normed if s]
        if args.method in ("centroid", "knn"):
            emb = load_embedder(tmp / "out" / "embedder")
            seed_vecs = emb.embed([s for s in (norm(x) for x in read_lines(data / "seed.hi")) if s])
            vecs = emb._vectorizers()
            t0 = time.perf_counter()
            for i in range(0, len(normed), 2048):  # sklearn vectorisers + projection, no lmboot logic
                import scipy.sparse as sp

                chunk = normed[i:i + 2048]
                x = sp.hstack([w.transform(c.transform(chunk)) for c, w, _ in vecs], format="csr")
                z = x @ emb._proj
                _ = z @ seed_vecs.mean(axis=0) if args.method == "centroid" else z @ seed_vecs.T
            t_lib = time.perf_counter() - t0
            lib = "scikit-learn CountVectorizer+TfidfTransformer (char+word) and SVD projection"
        else:
            import kenlm

            lm_in = kenlm.Model(res.artifacts["lm_in_domain"])
            lm_gen = kenlm.Model(res.artifacts["lm_general"])
            t0 = time.perf_counter()
            for s in normed:
                lm_in.score(s, bos=True, eos=True) - lm_gen.score(s, bos=True, eos=True)
            t_lib = time.perf_counter() - t0
            lib = "kenlm.Model.score x 2"
        lib_rate = len(normed) / t_lib
        print(f"  library alone ({lib}) on {len(normed)} pre-normalised sentences: {lib_rate:,.0f} sentences/s")
        print(f"  lmboot Normalizer alone: {m / t_norm:,.0f} sentences/s")
        print(f"  ratio select pass 1 / library alone: {res.sentences_per_s / lib_rate:.2f}")
        _ = np  # numpy imported for the embedders


def tico(args) -> None:
    from lmboot import lm
    from lmboot.io.corpus import read_lines, write_json, write_lines
    from lmboot.select import select

    data = Path(args.data)
    out = Path(args.out)
    general = list(read_lines(data / "general.hi"))
    rng = random.Random(args.random_seed)
    order = list(range(len(general)))
    rng.shuffle(order)
    rows = []
    for method in args.methods:
        t0 = time.perf_counter()
        res = select(data / "general.en", data / "general.hi", data / "seed.hi", out / method, method=method,
                     random_seed=args.random_seed)
        secs = time.perf_counter() - t0
        kept = list(read_lines(res.selected_tgt))
        kept_tokens = sum(len(s.split()) for s in kept)
        rand_n = [general[i] for i in order[:len(kept)]]
        rand_tok, tok = [], 0
        for i in order:
            if tok >= kept_tokens:
                break
            rand_tok.append(general[i])
            tok += len(general[i].split())
        models, names = [], []
        for name, lines in ((f"{method}-selected", kept), ("random-same-sentences", rand_n),
                            ("random-same-words", rand_tok)):
            txt = out / method / "eval" / f"{name}.txt"
            write_lines(txt, lines)
            lm.train(txt, txt.with_suffix(".arpa"), order=3)
            models.append(txt.with_suffix(".arpa"))
            names.append(f"{name} ({len(lines)} sent, {sum(len(x.split()) for x in lines)} words)")
        ev = lm.evaluate(models, data / "dev.hi", names=names)
        print(f"\n== {method}: kept {res.kept} of {res.total} ({res.rule}, threshold {res.threshold}) in {secs:.1f} s")
        print(ev.summary())
        rows.append({"method": method, "kept": res.kept, "total": res.total, "rule": res.rule,
                     "threshold": res.threshold, "seconds": round(secs, 1),
                     "ppl_common": {n: round(m.ppl_common, 2) for n, m in zip(names, ev.models)},
                     "oov_rate": {n: round(m.oov_rate, 4) for n, m in zip(names, ev.models)}})
    write_json(out / "tico_results.json", rows)
    print(f"\nwritten {out / 'tico_results.json'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("throughput", help="sentences/s and peak RSS on a large synthesised corpus")
    t.add_argument("--data", default=str(TICO), help="folder with general.en, general.hi, seed.hi")
    t.add_argument("--pairs", type=int, default=200_000)
    t.add_argument("--method", default="centroid", choices=["centroid", "knn", "moore-lewis"])
    t.add_argument("--lib-sentences", type=int, default=50_000)
    t.add_argument("--progress", action="store_true")
    c = sub.add_parser("tico", help="default-setting selections on tico-en-hi and dev.hi perplexity vs random")
    c.add_argument("--data", default=str(TICO))
    c.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "lmboot-bench-select"))
    c.add_argument("--methods", nargs="+", default=["centroid", "knn", "moore-lewis"])
    c.add_argument("--random-seed", type=int, default=1)
    args = ap.parse_args()
    data = Path(args.data)
    if not (data / "seed.hi").exists():
        print(f"no corpus at {data}: nothing to benchmark", file=sys.stderr)
        sys.exit(0)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    (throughput if args.cmd == "throughput" else tico)(args)
    print(json.dumps({"peak_rss_mb": round(peak_rss_mb())}))


if __name__ == "__main__":
    main()
