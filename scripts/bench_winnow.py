#!/usr/bin/env python3
"""Winnowing throughput (sentences/s) next to bare kenlm.Model.score on the same sentences.

    .venv/bin/python scripts/bench_winnow.py [--lines 200000] [--data ../shared/bench/tico-en-hi]

Uses the tico-en-hi benchmark when present (seed LM on seed.hi, general.hi repeated to
--lines), else the toy corpora. Both timings are taken in this one run, on one binary model.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lmboot import lm, winnow  # noqa: E402
from lmboot.io.corpus import read_lines  # noqa: E402
from lmboot.text.normalize import normalize  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "tico-en-hi")
    args = ap.parse_args()
    data = args.data if (args.data / "seed.hi").exists() else ROOT / "corpora" / "toy"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        res = lm.train(data / "seed.hi", tmp / "seed.arpa", order=3, binary=tmp / "seed.bin")
        src = list(read_lines(data / "general.hi"))
        lines = list(itertools.islice(itertools.cycle(src), args.lines))
        text = tmp / "input.hi"
        text.write_text("\n".join(lines) + "\n", encoding="utf-8")

        model = lm.load(res.binary)
        normed = [normalize(s) for s in lines]
        t0 = time.perf_counter()
        for s in normed:
            model.score(s, bos=True, eos=True)
        bare = time.perf_counter() - t0

        t0 = time.perf_counter()
        out = winnow.winnow(text, res.binary, tmp / "out", percentile=90, dev=data / "dev.hi")
        full = time.perf_counter() - t0

    n = len(lines)
    print(f"data: {data} ({n} sentences, seed LM order 3, binary)")
    print(f"bare kenlm.Model.score (pre-normalised, in memory): {n / bare:12,.0f} sentences/s")
    print(f"lmboot winnow (read + normalise + score + write):    {n / full:12,.0f} sentences/s")
    print(f"ratio winnow/bare time: {full / bare:.2f}x   kept {out.kept}/{out.total} at threshold {out.threshold:.1f}")


if __name__ == "__main__":
    main()
