#!/usr/bin/env python
"""Benchmark the translation engines: fairseq2 vs CTranslate2 (float32, int8) on one model.

For each test set (short voice-assistant requests, long TICO-19 sentences) and engine it
translates the first ``--lines`` lines with ``lmboot.nmt.translate`` (same beam, n-best,
batching and thread count) in a separate subprocess, and reports sentences/s (translation
only: model loading and the one-off export excluded), the child's peak RSS
(``os.wait4`` → ``ru_maxrss``) and the chrF of each CTranslate2 engine's top-1 against the
fairseq2 engine's top-1 (agreement, not quality: 100 = identical output). The ct2 engine
limits each sentence's output to a·its own length + b; fairseq2's generator uses the longest
source of its batch, so ``ct2-float32-batchlimit`` (the fairseq2 rule, the same batches)
separates the two engines' numerics from that rule.

Without ``--model`` it trains a quick model first (``tiny`` preset, 8,000-piece vocabulary,
``--train-time`` on ``va-en-de/general.{en,de}``, 200 held-out pairs for validation) into
``--cache`` and reuses it on later runs.

    OMP_NUM_THREADS=2 .venv/bin/python scripts/bench_translate.py --lines 500 --threads 2
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("LMBOOT_SHARED", ROOT.parent / "shared"))
# name: (engine, quantization, length limit). "ct2-float32-batchlimit" applies the fairseq2 engine's
# length rule (a*longest source of the batch+b, same batches) to isolate numerics from that rule.
ENGINES = {"fairseq2": ("fairseq2", None, None), "ct2-float32": ("ct2", "float32", "sentence"),
           "ct2-int8": ("ct2", "int8", "sentence"), "ct2-float32-batchlimit": ("ct2", "float32", "batch")}
DEFAULT_ENGINES = "fairseq2,ct2-float32,ct2-int8,ct2-float32-batchlimit"


def train_model(cache: Path, minutes: float, threads: int) -> Path:
    """A quick en->de translator on the va-en-de general bitext, cached in ``cache/model``."""
    from lmboot.io.corpus import read_bitext, write_bitext
    from lmboot.nmt import train

    model = cache / "model"
    if (model / "checkpoints" / "best.pt").exists() and (model / "DONE").exists():
        return model
    src, tgt = SHARED / "bench" / "va-en-de" / "general.en", SHARED / "bench" / "va-en-de" / "general.de"
    if not src.exists():
        sys.exit(f"no --model given and {src} is missing")
    pairs = list(read_bitext(src, tgt))
    random.Random(1).shuffle(pairs)
    data = cache / "data"
    write_bitext(pairs[200:], data / "train.en", data / "train.de")
    write_bitext(pairs[:200], data / "dev.en", data / "dev.de")
    print(f"training a tiny en->de model for {minutes:g} min into {model} ...", file=sys.stderr, flush=True)
    res = train(data / "train.en", data / "train.de", model, src_lang="eng_Latn", tgt_lang="deu_Latn",
                dev_src=data / "dev.en", dev_tgt=data / "dev.de", preset="tiny", vocab_size=8000,
                max_steps=100_000, max_time=minutes * 60, valid_every=400, valid_max=200, seed=1, threads=threads,
                progress=False)
    best = res.best or {}
    print(f"  {res.steps} steps, best dev chrF {best.get('chrf')} BLEU {best.get('bleu')}", file=sys.stderr,
          flush=True)
    (model / "DONE").write_text(json.dumps({"steps": res.steps, "best": best}) + "\n")
    return model


def worker(args) -> None:
    """One engine on one input, in this process; prints a JSON line of what it measured."""
    from lmboot.nmt.translation import translate

    engine, quant, limit = ENGINES[args.engine]
    kw = {}
    if engine != "fairseq2":
        kw = dict(engine=engine, quantization=quant, length_limit=limit)
    res = translate(args.model, args.input, args.out, args.out + ".txt", beam=args.beam, nbest=args.nbest,
                    max_lines=args.lines, device="cpu", threads=args.threads, progress=False, **kw)
    print(json.dumps({"sentences": res.sentences, "seconds": res.seconds, "sentences_per_s": res.sentences_per_s}))


def prepare(args) -> None:
    """The model (given, or trained once into the cache) and its exports; prints a JSON line."""
    from lmboot.nmt.ct2_export import ensure_export

    model = Path(args.model) if args.model else train_model(Path(args.cache), args.train_time, args.threads)
    for e in args.engines.split(","):  # export once, outside the measurement
        if ENGINES[e][1]:
            ensure_export(model, ENGINES[e][1])
    print(json.dumps({"model": str(model)}))


def run_child(cmd: list[str], env: dict, stream: bool = False) -> tuple[dict, int]:
    """Run one child; return its JSON result and its own peak RSS in KiB (``os.wait4``)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=None if stream else err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            sys.exit(f"child failed ({' '.join(cmd)}):\n{err.read()[-3000:]}")
        lines = [x for x in out.read().splitlines() if x.startswith("{")]
        return json.loads(lines[-1]), usage.ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="lmboot model directory (default: train a quick one into --cache)")
    ap.add_argument("--cache", default=str(ROOT / "runs" / "bench-translate"))
    ap.add_argument("--train-time", type=float, default=8.0, help="minutes of training when no --model")
    ap.add_argument("--lines", type=int, default=500, help="translate the first N lines of each set")
    ap.add_argument("--sets", default=f"va-en-de={SHARED / 'bench/va-en-de/source.en'},"
                                      f"tico-en-hi={SHARED / 'bench/tico-en-hi/source.en'}")
    ap.add_argument("--engines", default=DEFAULT_ENGINES)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--nbest", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="runs per set and engine (median sentences/s)")
    ap.add_argument("--json", help="also write the results here")
    # worker mode (internal)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    if args.prepare:
        return prepare(args)

    engines = args.engines.split(",")
    for e in engines:
        if e not in ENGINES:
            sys.exit(f"unknown engine {e!r}; choose from {', '.join(ENGINES)}")
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "PYTHONPATH": str(ROOT)}
    # Training and export run in a child too: a child's peak RSS counts the memory of the
    # process it was forked from, so this parent must stay small (standard library only).
    prep = [sys.executable, __file__, "--prepare", "--cache", args.cache, "--train-time", str(args.train_time),
            "--threads", str(args.threads), "--engines", args.engines] + (["--model", args.model] if args.model else [])
    res, _ = run_child(prep, env, stream=True)
    model = res["model"]
    sets = [spec.split("=", 1) for spec in args.sets.split(",")]
    runs: dict[tuple[str, str], list[dict]] = {(n, e): [] for n, _ in sets for e in engines}
    tops = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeat):  # interleaved, so a burst of load on the machine hits all engines
            for name, path in sets:
                for e in engines:
                    out = str(Path(tmp) / f"{name}.{e}.jsonl")
                    cmd = [sys.executable, __file__, "--worker", "--engine", e, "--model", model, "--input", path,
                           "--out", out, "--lines", str(args.lines), "--beam", str(args.beam), "--nbest",
                           str(args.nbest), "--threads", str(args.threads)]
                    load = os.getloadavg()[0]
                    res, rss = run_child(cmd, env)
                    tops[name, e] = Path(out + ".txt").read_text(encoding="utf-8").splitlines()
                    runs[name, e].append({"sentences": res["sentences"], "sentences_per_s": res["sentences_per_s"],
                                          "peak_rss_mb": rss / 1024, "load_before": load})
                    print(f"  [{rep + 1}/{args.repeat}] {name} {e}: {res['sentences_per_s']:.1f} sent/s, "
                          f"peak RSS {rss / 1024:.0f} MB (load average {load:.1f})", flush=True)
    rows = []
    for (name, e), rs in runs.items():
        speeds = sorted(r["sentences_per_s"] for r in rs)
        rows.append({"set": name, "engine": e, "sentences": rs[0]["sentences"],
                     "sentences_per_s": speeds[len(speeds) // 2],
                     "sentences_per_s_all": [r["sentences_per_s"] for r in rs],
                     "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
                     "load_before": sum(r["load_before"] for r in rs) / len(rs)})
    from sacrebleu.metrics import CHRF

    for r in rows:
        ref = tops.get((r["set"], "fairseq2"))
        if r["engine"] != "fairseq2" and ref is not None:
            hyp = tops[r["set"], r["engine"]]
            r["chrf_vs_fairseq2"] = CHRF().corpus_score(hyp, [ref]).score
            r["identical_top1"] = sum(a == b for a, b in zip(hyp, ref)) / max(1, len(ref))
    base = {r["set"]: r for r in rows if r["engine"] == "fairseq2"}
    print(f"\nmodel {model}; CPU, {args.threads} threads, beam {args.beam}, n-best {args.nbest}, "
          f"first {args.lines} lines; median of {args.repeat} run(s), max peak RSS; "
          f"load = mean 1-min load average before the runs ({os.cpu_count()} cores)\n")
    print("| set | engine | sentences/s | × fairseq2 | peak RSS MB | × fairseq2 | chrF vs fairseq2 top-1 "
          "| identical top-1 | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        b = base.get(r["set"])
        sp = f"{r['sentences_per_s'] / b['sentences_per_s']:.2f}" if b else "—"
        rs = f"{r['peak_rss_mb'] / b['peak_rss_mb']:.2f}" if b else "—"
        chrf = f"{r['chrf_vs_fairseq2']:.1f}" if "chrf_vs_fairseq2" in r else "—"
        ident = f"{100 * r['identical_top1']:.1f} %" if "identical_top1" in r else "—"
        print(f"| {r['set']} | {r['engine']} | {r['sentences_per_s']:.1f} | {sp} | {r['peak_rss_mb']:.0f} | {rs} "
              f"| {chrf} | {ident} | {r['load_before']:.1f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": str(model), "threads": args.threads, "beam": args.beam,
                                               "nbest": args.nbest, "lines": args.lines, "repeat": args.repeat,
                                               "rows": rows,
                                               "time": time.strftime("%Y-%m-%d %H:%M")}, indent=2) + "\n")


if __name__ == "__main__":
    main()
