#!/usr/bin/env python
"""Benchmark: LM scoring throughput of ``lmboot.rescore`` against bare ``kenlm.Model.score``.

Everything is measured in one run, on the same strings: short voice-assistant-style
utterances made (seeded) from an in-domain text, in the shape a translator emits them
(case, punctuation, spacing). Each figure is the best of ``--repeat`` runs. Times are CPU
seconds of this process (``time.process_time``), so that other jobs on a shared machine do
not skew them. The target of issue #5 is LMScorer.score within 2x of bare kenlm (raw).

    .venv/bin/python scripts/bench_rescore.py                       # toy corpus, 200k hyps
    .venv/bin/python scripts/bench_rescore.py --text ../shared/bench/tico-en-hi/seed.hi

Lines printed:
  bare kenlm (raw)        model.score(s) on the raw strings, in a Python loop
  bare kenlm (normalised) model.score(s) on the strings already normalised
  kenlm + corpus.normalize  the straightforward way: lmboot.text.normalize.normalize(s), then model.score
  Normalizer.batch only   the batch normaliser alone, no LM (what LMScorer adds to kenlm)
  LMScorer.score          batch normalisation + scoring + natural-log conversion + word counts
  LMScorer oov_penalty    the same with the fixed OOV penalty (per-word vocabulary check)
  rescore() 5-best        the whole combination and choice over 5-best lists, output records included
"""
from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lmboot import lm  # noqa: E402
from lmboot.io.corpus import read_lines  # noqa: E402
from lmboot.text.normalize import Normalizer  # noqa: E402
from lmboot.lm.score import LMScorer  # noqa: E402
from lmboot.rescore import Weights, rescore  # noqa: E402

PUNCT = ["", "", "", "।", "?", "!", ",", "।", "."]


def make_hyps(sentences: list[str], n: int, seed: int) -> list[str]:
    """``n`` short utterances (3-10 words) as an NMT would emit them, mostly distinct."""
    rng = random.Random(seed)
    words = [w for s in sentences for w in s.split()]
    out = []
    for _ in range(n):
        toks = rng.choice(sentences).split()
        if len(toks) > 3:
            a = rng.randrange(0, max(1, len(toks) - 3))
            toks = toks[a:a + rng.randint(3, 10)]
        r = rng.random()
        if r < 0.3:  # an n-best neighbour: one word replaced
            toks[rng.randrange(len(toks))] = rng.choice(words)
        elif r < 0.45:
            toks.insert(rng.randrange(len(toks) + 1), rng.choice(words))
        elif r < 0.55 and len(toks) > 1:
            del toks[rng.randrange(len(toks))]
        s = " ".join(toks) + rng.choice(PUNCT)
        if rng.random() < 0.2:
            s = s.capitalize()
        out.append(s)
    return out


def cpu_seconds(fn) -> float:
    """CPU time of this process running ``fn`` (robust to other processes on a shared machine)."""
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--text", type=Path, default=ROOT / "corpora" / "toy" / "seed.hi",
                    help="in-domain text: trains the LM (unless --lm) and seeds the utterances")
    ap.add_argument("--lm", type=Path, help="existing KenLM binary to use instead of training one")
    ap.add_argument("--order", type=int, default=3)
    ap.add_argument("-n", type=int, default=200_000, help="number of hypotheses")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import kenlm

    sentences = list(read_lines(args.text))
    hyps = make_hyps(sentences, args.n, args.seed)
    norm = Normalizer()
    normed = [norm(h) for h in hyps]
    with tempfile.TemporaryDirectory(prefix="bench-rescore-") as tmp:
        if args.lm:
            model_path = args.lm
        else:
            res = lm.train(args.text, Path(tmp) / "seed.arpa", order=args.order, binary=Path(tmp) / "seed.bin",
                           memory="200M")
            model_path = res.binary
        model = kenlm.Model(str(model_path))
        score = model.score

        def bare_raw():
            for s in hyps:
                score(s, bos=True, eos=True)

        def bare_norm():
            for s in normed:
                score(s, bos=True, eos=True)

        def naive():  # the straightforward way: the corpus normaliser, then kenlm, per string
            for s in hyps:
                score(norm(s), bos=True, eos=True)

        def ours(oov_penalty=None):
            LMScorer(model_path, oov_penalty=oov_penalty).score(hyps)

        def batch_only():
            for i in range(0, len(hyps), 2048):
                norm.batch(hyps[i:i + 2048])

        entries = [{"id": i, "hyps": [{"text": t, "score": -float(j)} for j, t in enumerate(hyps[i:i + 5])]}
                   for i in range(0, len(hyps), 5)]

        def full():
            for _ in rescore(entries, LMScorer(model_path), Weights(lm_weight=0.5, length_penalty=0.2)):
                pass

        # The LMScorer lines include loading the (small) model each time: charged to us.
        # Runs are interleaved (every method once per round), so that a load change on a
        # shared machine hits all methods alike; each keeps its best round.
        methods = [("bare kenlm (raw)", bare_raw), ("bare kenlm (normalised)", bare_norm),
                   ("kenlm + corpus.normalize", naive), ("Normalizer.batch only", batch_only),
                   ("LMScorer.score", ours), ("LMScorer oov_penalty=-7", lambda: ours(-7.0)),
                   ("rescore() 5-best", full)]
        best = {name: math.inf for name, _ in methods}
        for _ in range(args.repeat):
            for name, fn in methods:
                best[name] = min(best[name], cpu_seconds(fn))
        rows = [(name, best[name]) for name, _ in methods]
    n = len(hyps)
    words = sum(len(s.split()) for s in normed) / n
    distinct = len(set(hyps))
    print(f"{n} hypotheses ({distinct} distinct, {words:.1f} words on average) from {args.text}; "
          f"LM order {args.order}, KenLM binary; CPU time, best of {args.repeat} interleaved rounds")
    base = rows[0][1]
    print(f"{'':27s}{'hyps/s':>12s}{'us/hyp':>9s}{'x bare':>9s}")
    for name, t in rows:
        print(f"{name:27s}{n / t:12,.0f}{1e6 * t / n:9.2f}{t / base:9.2f}")


if __name__ == "__main__":
    main()
