"""Benchmarks and real-data figures of ``lmboot eval`` (prints what it measured).

    python scripts/bench_eval.py speed              # WER / simulate / rescoring-WER throughput vs jiwer
    python scripts/bench_eval.py tico  [--work DIR] # simulated WER on tico-en-hi test.hi: seed vs seed+general
    python scripts/bench_eval.py real  [--work DIR] # espeak-ng + pocketsphinx on hinglish_top test.en[:200]

Data is read from ../shared (the benchmark exits with a message when it is absent).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("LMBOOT_SHARED", ROOT.parent / "shared"))


def _need(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"{path} not present: nothing to measure")
    return path


def speed(work: Path) -> None:
    """Throughput of lmboot's WER (jiwer underneath) against jiwer alone, and of simulate."""
    import random

    import jiwer

    from lmboot.evaluate import simulate
    from lmboot.metrics import word_errors

    rng = random.Random(0)
    words = [f"w{i}" for i in range(500)]
    refs = [" ".join(rng.choice(words) for _ in range(12)) for _ in range(5000)]
    hyps = [" ".join(w if rng.random() > 0.2 else rng.choice(words) for w in r.split()) for r in refs]
    t0 = time.perf_counter()
    base = jiwer.process_words(refs, hyps)
    t_jiwer = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = word_errors(refs, hyps, chars=False)
    t_ours = time.perf_counter() - t0
    assert abs(base.wer - ours.wer) < 1e-12
    print(f"WER of 5,000 utterances: jiwer.process_words {t_jiwer:.3f} s, lmboot word_errors (normalise + jiwer) "
          f"{t_ours:.3f} s, ratio {t_ours / t_jiwer:.2f}x")
    work.mkdir(parents=True, exist_ok=True)
    (work / "refs.txt").write_text("\n".join(refs[:500]) + "\n", encoding="utf-8")
    t0 = time.perf_counter()
    res = simulate(work / "refs.txt", work / "sim.jsonl", vocab_from=work / "refs.txt", target_wer=0.25, seed=1)
    t_sim = time.perf_counter() - t0
    print(f"simulate 500 sentences x 10 hyps: {t_sim:.2f} s ({500 / t_sim:.0f} sentences/s), first-pass WER "
          f"{100 * res.first_pass_wer:.2f}% (target 25%)")


def tico(work: Path) -> None:
    """Simulated WER on tico-en-hi test.hi: seed-only LM vs an LM on seed + general.hi."""
    from lmboot import lm
    from lmboot.evaluate import format_table, simulate, wer_from_nbest, write_details, write_report

    b = _need(SHARED / "bench" / "tico-en-hi")
    work.mkdir(parents=True, exist_ok=True)
    both = work / "seed+general.hi"
    both.write_bytes((b / "seed.hi").read_bytes() + (b / "general.hi").read_bytes())
    t0 = time.perf_counter()
    lm.train(b / "seed.hi", work / "seed.arpa", order=3, binary=work / "seed.bin")
    lm.train(both, work / "seed+general.arpa", order=3, binary=work / "seed+general.bin")
    print(f"trained 2 LMs in {time.perf_counter() - t0:.1f} s")
    vocab = [b / "seed.hi", b / "general.hi"]
    for part in ("dev", "test"):
        t0 = time.perf_counter()
        r = simulate(b / f"{part}.hi", work / f"{part}.sim.jsonl", vocab_from=vocab, target_wer=0.25, nbest=10, seed=1)
        print(f"simulate {part}.hi: {r.sentences} lists, first-pass WER {100 * r.first_pass_wer:.2f}%, oracle "
              f"{100 * r.oracle_wer:.2f}%, reference in {100 * r.ref_in_list:.0f}% ({time.perf_counter() - t0:.1f} s)")
    for oov in ("penalty", "exclude"):
        res = wer_from_nbest(work / "test.sim.jsonl", [work / "seed.bin", work / "seed+general.bin"],
                             tune_on=work / "dev.sim.jsonl", oov=oov, names=["seed", "seed+general"])
        print(format_table(res))
        write_report(work / f"report.{oov}.json", res)
        write_details(work / f"details.{oov}.jsonl", res)


def real(work: Path, limit: int = 200) -> None:
    """espeak-ng speaks hinglish_top test.en[:limit]; pocketsphinx decodes with two LMs."""
    from lmboot import lm
    from lmboot.evaluate import format_table, synth, wer_from_audio, write_details, write_report

    d = _need(SHARED / "data" / "hinglish_top")
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    s = synth(d / "test.en", work / "audio", voice="en-us", limit=limit)
    print(f"synth: {s.utterances} utterances ({s.spoken} spoken, {s.reused} reused, {s.with_digits} with digits) "
          f"in {time.perf_counter() - t0:.1f} s", flush=True)
    text = work / "train+validation.en"
    text.write_bytes((d / "train.en").read_bytes() + (d / "validation.en").read_bytes())
    r = lm.train(text, work / "hinglish.arpa", order=3)
    print(f"LM: {r.sentences} sentences, {r.tokens} tokens", flush=True)
    res_all = []
    for lm_path, oov in (("bundled", "skip"), (str(work / "hinglish.arpa"), "skip"), (str(work / "hinglish.arpa"), "g2p")):
        name = f"{Path(lm_path).name} ({oov})"
        [x] = wer_from_audio(s.manifest, [lm_path], oov=oov, names=[name])
        res_all.append(x)
        print(f"{x.lm}: WER {100 * x.wer:.2f}% on {x.counts.utterances} utterances; {len(x.lm_vocab_missing)} LM "
              f"words without pronunciation, {len(x.g2p_words)} given by G2P; {x.seconds:.0f} s decoding "
              f"({x.seconds / len(x.details):.2f} s/utt)", flush=True)
        write_report(work / "report.json", res_all)
        write_details(work / "details.jsonl", res_all)
    print(format_table(res_all), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("speed", "tico", "real"))
    ap.add_argument("--work", type=Path, default=None, help="Working directory (default /tmp/eval_<what>).")
    ap.add_argument("--limit", type=int, default=200)
    a = ap.parse_args()
    import logging

    logging.basicConfig(level=logging.INFO, format="[lmboot] %(message)s")
    work = a.work or Path(f"/tmp/eval_{a.what}")
    if a.what == "speed":
        speed(work)
    elif a.what == "tico":
        tico(work)
    else:
        real(work, a.limit)
    print(json.dumps({"done": a.what, "work": str(work)}))


if __name__ == "__main__":
    main()
