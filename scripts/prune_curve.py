#!/usr/bin/env python
"""Perplexity against size: relative-entropy pruning (``lmboot lm prune``) next to lmplz count pruning.

Builds the unpruned LM of the text sources (one source: lmplz on it; several: ``lm build``'s
linear interpolation tuned on --dev), then

- entropy pruning: ``lm.prune`` of that LM to a series of binary size budgets, from the full
  size down to about 1 % of its n-grams of order 2 and above (1-grams are never pruned), with
  P(h) from the model (as SRILM) and from the LM's texts (``history=``, weighted as interpolated);
- count pruning: the same LM rebuilt with lmplz ``--prune 0 k k`` for growing k (every
  component pruned, then interpolated again);

and measures each model's test perplexity (``lm.evaluate``: ``ppl_common``; all models keep
every word, so the vocabulary is the same). Count pruning's perplexity is interpolated (log-log,
along its curve) at the entropy points' n-gram counts, so the two are compared at equal
numbers of n-grams; with ``--count-spare NAME`` a second count curve leaves that source whole
(a small in-domain seed), and the comparison takes the better count curve at each size. Prints a table, writes JSON and a PNG plot.

    python scripts/prune_curve.py --text seed=$B/seed.de --text general=$B/general.de \\
        --dev $B/dev.de --test $B/test.de --work /tmp/curve \\
        --json docs/prune-curve-va-en-de.json --plot docs/prune-curve-va-en-de.png
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FRACTIONS = (0.5, 0.3, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01)  # of the n-grams of order >= 2
LABELS = {"entropy": "relative entropy, P(h) from the model (SRILM)",
          "entropy+text": "relative entropy, P(h) from the LM text",
          "count": "counts (lmplz --prune 0 k k)",
          "count-spare": "counts, the --count-spare sources whole"}
COUNT_K = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)


def build(sources, dev: Path, out: Path, order: int, prune=None) -> list[tuple[str, float | None]]:
    """The LM of ``sources`` (lmplz, or lm build's linear mixture) with its binary beside it;
    returns its texts with their interpolation weights (the history texts of ``lm prune``)."""
    from lmboot import lm

    binary = out.with_suffix(".bin")
    if len(sources) == 1:
        cut = prune.get(sources[0][0]) if isinstance(prune, dict) else prune
        lm.train(sources[0][1], out, order=order, prune=cut, binary=binary)
        return [(sources[0][1], None)]
    r = lm.build(sources, dev, out, order=order, prune=prune, binary=binary,
                 work_dir=out.with_name(out.stem + ".parts"))
    return [(path, r.weights[name]) for name, path in sources if r.weights.get(name, 0) > 0]


def point(method: str, setting: str, arpa: Path, test: Path, full_total: int, full_high: int) -> dict:
    from lmboot import lm
    from lmboot.io.arpa import ArpaReader

    counts = ArpaReader(arpa).counts
    ev = lm.evaluate([arpa.with_suffix(".bin")], test).models[0]
    total, high = sum(counts), sum(counts[1:])
    return {"method": method, "setting": setting, "ngrams": counts, "total": total,
            "fraction": total / full_total, "fraction_high": high / full_high,
            "binary_bytes": arpa.with_suffix(".bin").stat().st_size,
            "ppl_common": ev.ppl_common, "ppl": ev.ppl, "oov_rate": ev.oov_rate}


def interp_loglog(x: float, xs: list[float], ys: list[float]) -> float | None:
    """y at x on the piecewise-linear curve through (log x, log y); None outside its range."""
    pts = sorted(zip(xs, ys))
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= x <= x1:
            if x1 == x0:
                return y0
            t = (math.log(x) - math.log(x0)) / (math.log(x1) - math.log(x0))
            return math.exp(math.log(y0) + t * (math.log(y1) - math.log(y0)))
    return None


def plot(points: list[dict], png: Path, title: str) -> None:
    from lmboot import plots

    plt = plots.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for method, colour, mark in (("entropy", "#4c72b0", "o"), ("entropy+text", "#55a868", "^"),
                                 ("count", "#dd8452", "s"), ("count-spare", "#c44e52", "v")):
        pts = sorted((p for p in points if p["method"] in (method, "none")), key=lambda p: p["total"])
        if len(pts) < 2:
            continue
        label = LABELS[method]
        axes[0].plot([p["total"] for p in pts], [p["ppl_common"] for p in pts], marker=mark, color=colour, label=label)
        axes[1].plot([p["binary_bytes"] / 1e6 for p in pts], [p["ppl_common"] for p in pts], marker=mark,
                     color=colour, label=label)
    from matplotlib.ticker import FuncFormatter

    for ax, xl in zip(axes, ("n-grams (all orders)", "KenLM binary (MB, probing)")):
        ax.set_xscale("log")
        plain = FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 100 else f"{v:g}")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if v < 100 and str(v)[0] in "1235" else ""))
        ax.set_xlabel(xl)
        ax.set_ylabel("test perplexity (ppl_common)")
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.suptitle(title)
    plots.save(fig, png)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--text", action="append", required=True, help="NAME=PATH text source (repeat to interpolate)")
    ap.add_argument("--dev", type=Path, required=True, help="dev text (interpolation weights)")
    ap.add_argument("--test", type=Path, required=True, help="test text (perplexity)")
    ap.add_argument("--order", type=int, default=3)
    ap.add_argument("--work", type=Path, required=True, help="where the models go")
    ap.add_argument("--count-spare", action="append", default=[],
                    help="NAME of a source that count pruning leaves whole (an extra count curve), e.g. a small seed")
    ap.add_argument("--json", type=Path, help="write the points and the comparison here")
    ap.add_argument("--plot", type=Path, help="write the PNG plot here")
    args = ap.parse_args()

    from lmboot import lm
    from lmboot.io.arpa import ArpaReader
    from lmboot.lm.size import binary_size, human

    t0 = time.time()
    args.work.mkdir(parents=True, exist_ok=True)
    sources = [lm.parse_source(t) for t in args.text]
    full = args.work / "full.arpa"
    history = build(sources, args.dev, full, args.order)
    counts = ArpaReader(full).counts
    full_total, full_high = sum(counts), sum(counts[1:])
    points = [point("none", "unpruned", full, args.test, full_total, full_high)]
    print(f"unpruned: {counts} n-grams, test ppl_common {points[0]['ppl_common']:.2f}", flush=True)

    # Entropy pruning to size budgets that keep about each fraction of the n-grams of order >= 2,
    # P(h) from the model (SRILM) and from the LM's texts (--history-text).
    vocab_bytes = points[0]["binary_bytes"] - binary_size(counts, 0)
    for method, hist in (("entropy", None), ("entropy+text", history)):
        for f in FRACTIONS:
            budget = binary_size([counts[0]] + [round(c * f) for c in counts[1:]], vocab_bytes)
            out = args.work / f"{method}-{f:g}.arpa"
            r = lm.prune(full, out, max_size=budget, binary=out.with_suffix(".bin"), history=hist)
            points.append(point(method, f"--max-size {budget} (threshold {r.threshold:.3g})", out, args.test,
                                full_total, full_high))
            print(f"{method} {human(budget)}: {r.ngrams_after} ppl {points[-1]['ppl_common']:.2f}", flush=True)

    # Count pruning: lmplz --prune 0 k k ... until under the smallest entropy point.
    spare = set(args.count_spare)
    for method in ("count", "count-spare") if spare else ("count",):
        for k in COUNT_K:
            out = args.work / f"{method}-{k}.arpa"
            cut = [0] + [k] * (args.order - 1)
            build(sources, args.dev, out, args.order,
                  prune={n: None if (method == "count-spare" and n in spare) else cut for n, _ in sources})
            points.append(point(method, f"--prune {' '.join(map(str, cut))}", out, args.test, full_total, full_high))
            print(f"{method} {k}: {points[-1]['ngrams']} ppl {points[-1]['ppl_common']:.2f}", flush=True)
            if points[-1]["fraction_high"] < 0.7 * min(FRACTIONS):  # past the smallest entropy point
                break

    # Against the better of the count curves at each size (the spared one, when there is one).
    curves = {m: [p for p in points if p["method"] in (m, "none")] for m in ("count", "count-spare") if
              any(p["method"] == m for p in points)}

    def count_ppl(n: float) -> dict[str, float | None]:
        return {m: interp_loglog(n, [p["total"] for p in c], [p["ppl_common"] for p in c]) for m, c in curves.items()}

    def vs(e: float | None, c: dict) -> float | None:  # against the better count curve
        best = min((v for v in c.values() if v), default=None)
        return e / best if e and best else None

    compare, target = [], {}
    for method in ("entropy", "entropy+text"):
        for p in points:
            if p["method"] == method:
                c = count_ppl(p["total"])
                compare.append({"method": method, "total": p["total"], "fraction": p["fraction"],
                                "fraction_high": p["fraction_high"], "entropy_ppl": p["ppl_common"], "count_ppl": c,
                                "entropy_vs_count": vs(p["ppl_common"], c)})
        curve_e = [p for p in points if p["method"] in (method, "none")]
        for key, n in (("10 % of all n-grams", 0.1 * full_total),
                       ("10 % of the n-grams of order >= 2", counts[0] + 0.1 * full_high)):
            e = interp_loglog(n, [p["total"] for p in curve_e], [p["ppl_common"] for p in curve_e])
            c = count_ppl(n)
            target[f"{method} at {key}"] = {"ngrams": round(n), "entropy_ppl": e, "count_ppl": c,
                                            "entropy_vs_count": vs(e, c)}

    rows = [("method", "setting", "n-grams per order", "% all", "% >=2", "binary", "test ppl")]
    for p in sorted(points, key=lambda p: (p["method"] != "none", p["method"], -p["total"])):
        rows.append((p["method"], p["setting"], " / ".join(f"{c:,}" for c in p["ngrams"]),
                     f"{100 * p['fraction']:.1f}", f"{100 * p['fraction_high']:.1f}", human(p["binary_bytes"]),
                     f"{p['ppl_common']:.2f}"))
    from lmboot.results import text_table

    print(text_table(rows))
    fmt = lambda x: f"{x:.2f}" if x else "-"  # noqa: E731
    names = list(curves)
    print(text_table([("method", "n-grams", "% all", "entropy ppl", *(f"{m} ppl (interp.)" for m in names),
                       "entropy/best count")] +
                     [(c["method"], f"{c['total']:,}", f"{100 * c['fraction']:.1f}", fmt(c["entropy_ppl"]),
                       *(fmt(c["count_ppl"][m]) for m in names),
                       f"{c['entropy_vs_count']:.3f}" if c["entropy_vs_count"] else "-") for c in compare]))
    for key, t in target.items():
        counts_txt = ", ".join(f"{m} {fmt(v)}" for m, v in t["count_ppl"].items())
        print(f"{key} ({t['ngrams']:,} n-grams): entropy {fmt(t['entropy_ppl'])}, {counts_txt}, "
              f"ratio to the better count curve {t['entropy_vs_count'] and round(t['entropy_vs_count'], 3)}")
    print(f"{time.time() - t0:.0f} s")
    if args.json:
        from lmboot.io.corpus import write_json

        write_json(args.json, {"sources": [f"{n}={p}" for n, p in sources], "dev": str(args.dev),
                               "test": str(args.test), "order": args.order, "points": points,
                               "comparison": compare, "target": target})
    if args.plot:
        plot(points, args.plot, f"{' + '.join(n for n, _ in sources)}, order {args.order}: test perplexity vs size")


if __name__ == "__main__":
    main()
