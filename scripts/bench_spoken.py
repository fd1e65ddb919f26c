#!/usr/bin/env python
"""Spoken form against written form on the baselines without translation (issue 19).

Per benchmark, in each form (all texts and the test in that form): the seed-only LM and seed ⊕
general (linear mixture tuned on dev), as ``lmboot lm train`` / ``lm build`` / ``lm eval``
make them. Prints the test OOV rate and ppl_common, the digit tokens in each vocabulary, the
n-grams lost (only in the written-form LM) and gained (only in the spoken-form LM), and how
fast the spoken form rewrites the general text.

    nice -n 10 python scripts/bench_spoken.py                  # va-en-de and tico-en-hi in ../shared/bench
    python scripts/bench_spoken.py --bench DIR:LANG --work W   # another benchmark; keep the models in W
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "bench"


def ngrams(arpa: Path) -> dict[int, set[str]]:
    from lmboot.io.arpa import ArpaReader

    out: dict[int, set[str]] = {}
    for order, words, _, _ in ArpaReader(arpa):
        out.setdefault(order, set()).add(" ".join(words))
    return out


def run(bench: Path, lang: str, work: Path) -> list[str]:
    from lmboot import lm
    from lmboot.text.normalize import Normalizer
    from lmboot.text.spoken import spoken_form_batch

    rows, grams = [], {}
    for form in ("written", "spoken"):
        norm = Normalizer(spoken_form=True, lang=lang) if form == "spoken" else Normalizer()
        w = work / bench.name / form
        w.mkdir(parents=True, exist_ok=True)
        seed = lm.train(bench / f"seed.{lang}", w / "seed.arpa", order=3, normalizer=norm).arpa
        lm.build([("seed", bench / f"seed.{lang}"), ("general", bench / f"general.{lang}")], bench / f"dev.{lang}",
                 w / "general.arpa", order=3, normalizer=norm)
        ev = lm.evaluate([seed, w / "general.arpa"], bench / f"test.{lang}", names=["seed", "seed+general"],
                         normalizer=norm)
        for m, arpa in zip(ev.models, (seed, w / "general.arpa")):
            g = grams[form, m.model] = ngrams(arpa)
            digits = sum(1 for x in g[1] if re.search(r"\d", x))
            row = (f"| {bench.name} | {m.model} | {form} | {m.tokens:,} | {100 * m.oov_rate:.2f}% | {m.ppl_common:.2f} "
                   f"| {digits} | {len(g[1]):,} | {sum(len(s) for s in g.values()):,} |")
            if form == "spoken":
                old = grams["written", m.model]
                lost = sum(len(old[n] - g.get(n, set())) for n in old)
                gained = sum(len(g[n] - old.get(n, set())) for n in g)
                row += f" {lost:,} / {gained:,} |"
            else:
                row += " |"
            rows.append(row)
    lines = (bench / f"general.{lang}").read_text(encoding="utf-8").splitlines()
    t = time.perf_counter()
    said = spoken_form_batch(lines, lang)
    dt = time.perf_counter() - t
    changed = sum(a != b for a, b in zip(lines, said))
    print(f"{bench.name}: spoken form of general.{lang}: {len(lines):,} lines ({changed:,} changed) in {dt:.2f} s",
          file=sys.stderr)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", action="append", help="DIR:LANG with seed/general/dev/test.LANG (repeat)")
    ap.add_argument("--work", type=Path, default=None, help="keep the models here (default: a temp dir)")
    args = ap.parse_args()
    benches = [(Path(b.rsplit(":", 1)[0]), b.rsplit(":", 1)[1]) for b in args.bench or ()] or [
        (SHARED / "va-en-de", "de"), (SHARED / "tico-en-hi", "hi")]
    print("| benchmark | LM | form | test tokens | test OOV | test ppl_common | digit tokens in vocab | vocab "
          "| n-grams | n-grams lost / gained |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for bench, lang in benches:
            for row in run(bench, lang, args.work or Path(tmp)):
                print(row, flush=True)


if __name__ == "__main__":
    main()
