#!/usr/bin/env python
"""Benchmark of the static linear ARPA mixture (lmboot.lm.mixture.mix_arpa).

Trains two order-N LMs (an in-domain seed text and a general text) once, then times, in the
same run and on the same models:

- lmboot's ``mix_arpa`` (EM weights tuned on the dev text first): n-grams written per second,
  and the KenLM ``BaseScore`` calls it made per second;
- plain KenLM ``BaseScore`` calls per second in a bare Python loop (the floor of what the
  mixture's per-n-gram KenLM work can cost);
- KenLM's own C++ ``interpolate`` (log-linear, with weight tuning) on the same two models.

    python scripts/bench_mix.py                       # ../shared/bench/tico-en-hi, else corpora/toy
    python scripts/bench_mix.py --data corpora/toy --order 3
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = ROOT.parent / "shared" / "bench" / "tico-en-hi"
    ap.add_argument("--data", type=Path, default=default if (default / "seed.hi").exists() else ROOT / "corpora" / "toy",
                    help="directory with seed.hi, general.hi, dev.hi")
    ap.add_argument("--order", type=int, default=3)
    ap.add_argument("--work", type=Path, default=None, help="keep the models here (default: a temp dir)")
    args = ap.parse_args()

    import kenlm

    from lmboot import lm
    from lmboot.io.arpa import ArpaReader
    from lmboot.lm import mixture, tools
    from lmboot.lm.builder import _train_component
    from lmboot.lm.perplexity import dev_token_probs
    from lmboot.io.corpus import read_lines
    from lmboot.text.normalize import Normalizer

    tmp = tempfile.TemporaryDirectory(prefix="bench-mix-")
    work = args.work or Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    norm = Normalizer()
    t = time.perf_counter()
    comps = [_train_component(name, args.data / f"{name}.hi", work, args.order, None, norm,
                                  intermediate=True, memory="20%") for name in ("seed", "general")]
    t_train = time.perf_counter() - t
    dev = work / "dev.normalized.txt"
    dev.write_text("".join(s + "\n" for s in (norm(x) for x in read_lines(args.data / "dev.hi")) if s),
                   encoding="utf-8")

    t = time.perf_counter()
    models = [lm.load(c.arpa) for c in comps]
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    em = mixture.em_weights(dev_token_probs(models, list(read_lines(dev))))
    t_em = time.perf_counter() - t
    stats = mixture.mix_arpa([c.arpa for c in comps], em.weights, work / "mix.arpa", models=models)
    total = sum(stats.ngrams)

    # Bare KenLM: as many BaseScore calls as the mixture made, in a plain loop.
    words = [ws[-1] for _n, ws, _lp, _lb in ArpaReader(comps[1].arpa)]
    null, out = kenlm.State(), kenlm.State()
    models[1].NullContextWrite(null)
    n_calls = stats.kenlm_calls
    reps = n_calls // len(words) + 1
    t = time.perf_counter()
    done = 0
    for _ in range(reps):
        for w in words:
            models[1].BaseScore(null, w, out)
        done += len(words)
    t_bare = time.perf_counter() - t

    t = time.perf_counter()
    with open(work / "loglinear.arpa", "wb") as f:
        tools.run_tool("interpolate", ["-m", comps[0].intermediate, "-m", comps[1].intermediate,
                                             "-t", dev, "-T", work / "interp", "-S", "20%"], stdout=f)
    t_interp = time.perf_counter() - t

    print(f"data {args.data}, order {args.order}; components trained in {t_train:.1f} s "
          f"(reused: {all(c.reused for c in comps)}), loaded by KenLM in {t_load:.2f} s")
    print(f"EM weights {[round(w, 4) for w in em.weights]} in {em.iterations} iterations over "
          f"{em.tokens} dev tokens: {t_em:.2f} s")
    print(f"mix_arpa: {'+'.join(map(str, stats.ngrams))} = {total} n-grams in {stats.seconds:.2f} s "
          f"= {stats.ngrams_per_s:,.0f} n-grams/s; {stats.kenlm_calls} KenLM calls "
          f"({stats.kenlm_calls / stats.seconds:,.0f}/s inside the mixture)")
    print(f"bare KenLM BaseScore loop: {done} calls in {t_bare:.2f} s = {done / t_bare:,.0f} calls/s "
          f"-> mixture spends {stats.seconds / (t_bare * stats.kenlm_calls / done):.1f}x the bare KenLM time")
    print(f"KenLM interpolate (log-linear, C++, tuning included): {t_interp:.2f} s "
          f"-> mix_arpa/interpolate time ratio {stats.seconds / t_interp:.2f}")


if __name__ == "__main__":
    main()
