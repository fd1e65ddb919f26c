#!/usr/bin/env python
"""Benchmark `lmboot nmt`: training tokens/s and translation sentences/s per preset.

For each preset it measures, in the same run and on the same generated toy bitext:
  - lmboot.nmt.train (data pipeline, loss, AdamW, schedule, clipping, checkpointing) in target
    tokens/s, against a bare fairseq2 loop (forward + backward + AdamW on the same batches);
  - lmboot.nmt.translate (beam 5, n-best 5, JSONL writing) in sentences/s, against fairseq2's
    BeamSearchSeq2SeqGenerator called directly on batches of 32 length-sorted sentences.
Uses CUDA when available (``--device`` to force).

With ``--precision-table`` it measures instead, in one run on the same data, lmboot.nmt.train's
target tokens/s for every precision (fp32, bf16 autocast) with and without deterministic
kernels, the ratio to today's default before this option existed (fp32, deterministic), and
a bare loop under ``torch.compile`` (what it gave, or why it failed).

    OMP_NUM_THREADS=2 .venv/bin/python scripts/bench_nmt.py --presets tiny,small --steps 30
    OMP_NUM_THREADS=2 .venv/bin/python scripts/bench_nmt.py --presets tiny --steps 60 --precision-table
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # toy_nmt: the generated toy pair


def bare_train(model_dir: Path, pairs, steps: int, dev, precision: str = "fp32",
               compile: bool = False) -> tuple[float, float]:
    """(target tokens/s, warm-up seconds) of a plain fairseq2 loop over the same kind of batches;
    with ``compile`` the model runs under torch.compile and the warm-up holds its compilation
    (dynamic shapes: a few recompilations in the first batches)."""
    import torch

    from lmboot.nmt import model as M
    from lmboot.nmt import precision as P
    from lmboot.nmt.data import build_train_pipeline, to_seq2seq_batch

    info = M.read_info(model_dir)
    tok = M.load_tokenizer(model_dir, info)
    p = M.PRESETS[info.preset]
    torch.manual_seed(0)
    model = M.build_model(info, dev).train()
    net = torch.compile(model, dynamic=True) if compile else model
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    it = iter(build_train_pipeline(pairs, tok, info.src_lang, info.tgt_lang, batch_tokens=p.batch_tokens,
                                   max_len=128, seed=0))
    warmup = 5 if compile else 2  # excluded from the timing
    batches = [to_seq2seq_batch(next(it), dev) for _ in range(steps + warmup)]
    ntok, t0, t_start = 0, None, time.perf_counter()
    for i, b in enumerate(batches):
        if i == warmup:
            _sync(dev)
            t0, ntok = time.perf_counter(), 0
        inp, tgt = b.as_auto_regressive()
        s, sl = inp.as_source_input()
        t, tl = inp.as_target_input()
        with P.autocast(precision, dev.type):
            loss = net(s, sl, t, tl, targets=tgt.seqs, label_smoothing=0.1, reduction="sum")
        opt.zero_grad()
        (loss / tgt.num_elements).backward()
        opt.step()
        ntok += tgt.num_elements
    _sync(dev)
    return ntok / (time.perf_counter() - t0), t0 - t_start


def precision_table(d: Path, pairs, args, dev) -> None:
    """lmboot.nmt.train's target tokens/s per precision and determinism, same data, one run."""
    import platform

    from lmboot.nmt import train
    from lmboot.nmt.precision import cpu_flags, resolve

    flags = sorted(f for f in cpu_flags() if "bf16" in f or "amx" in f or "vnni" in f)
    print(f"cpu {platform.processor() or platform.machine()}, flags {' '.join(flags) or '-'}; "
          f"precision auto -> {resolve('auto', dev.type)}")
    print(f"{'preset':8} {'precision':9} {'deterministic':>13} {'tgt tok/s':>10} {'vs fp32+det':>11} {'final loss':>10}")
    for preset in args.presets.split(","):
        ref = None
        for prec in ("fp32", "bf16"):
            for det in (True, False):
                m = d / f"{preset}-{prec}-{det}"
                res = train(d / "train.en", d / "train.xx", m, src_lang="eng_Latn", tgt_lang="xyz_Deva",
                            preset=preset, spm_model=d / "spm.model", max_steps=args.steps, valid_every=10**9,
                            device=args.device, threads=args.threads, progress=False, precision=prec,
                            deterministic=det)
                ref = ref or res.target_tokens_per_s
                print(f"{preset:8} {prec:9} {str(det):>13} {res.target_tokens_per_s:10,.0f} "
                      f"{res.target_tokens_per_s / ref:11.2f} {res.last_loss:10.3f}", flush=True)
        for prec in ("fp32", "bf16"):
            try:
                tps, cs = bare_train(d / f"{preset}-fp32-True", pairs, args.steps, dev, prec, compile=True)
                print(f"{preset:8} {prec:9} {'torch.compile':>13} {tps:10,.0f} {tps / ref:11.2f} "
                      f"(bare loop, {cs:.0f} s to compile)", flush=True)
            except Exception as e:  # noqa: BLE001 - report what torch.compile did, whatever it raised
                print(f"{preset:8} {prec:9} {'torch.compile':>13} failed: {type(e).__name__}: "
                      f"{str(e).splitlines()[0][:120] if str(e) else ''}", flush=True)


def bare_translate(model_dir: Path, sentences, dev, beam: int = 5) -> float:
    import torch

    from fairseq2.generation.beam_search import BeamSearchSeq2SeqGenerator
    from fairseq2.nn import BatchLayout

    from lmboot.nmt.model import load_model

    model, tok, info = load_model(model_dir, dev)
    enc = tok.create_encoder(task="translation", lang=info.src_lang, mode="source")
    prompt = tok.create_encoder(task="translation", lang=info.tgt_lang, mode="target").prefix_indices.to(dev)
    gen = BeamSearchSeq2SeqGenerator(model, tok.vocab_info, beam_size=beam, max_gen_len=(1.5, 10),
                                     normalize_scores=False)
    seqs = sorted((enc(s) for s in sentences), key=len)
    _sync(dev)
    t0 = time.perf_counter()
    for k in range(0, len(seqs), 32):
        chunk = seqs[k:k + 32]
        S = torch.zeros(len(chunk), max(map(len, chunk)), dtype=torch.int64)
        for i, x in enumerate(chunk):
            S[i, :len(x)] = x
        S = S.to(dev)
        P = prompt.unsqueeze(0).expand(len(chunk), -1).contiguous()
        with torch.inference_mode():
            gen(S, BatchLayout.of(S, [len(x) for x in chunk]), P, BatchLayout.of(P))
    _sync(dev)
    return len(seqs) / (time.perf_counter() - t0)


def _sync(dev) -> None:
    import torch

    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="tiny,small,base")
    ap.add_argument("--steps", type=int, default=20, help="training steps per preset")
    ap.add_argument("--sentences", type=int, default=200, help="sentences to translate per preset")
    ap.add_argument("--pairs", type=int, default=3000)
    ap.add_argument("--device", default=None, help="cpu | cuda (default: cuda when available)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--precision-table", action="store_true",
                    help="tokens/s per precision and determinism (and torch.compile) instead")
    args = ap.parse_args()

    import torch

    from lmboot.io.corpus import write_bitext, write_lines
    from lmboot.nmt import train, train_spm, translate
    from lmboot.nmt.model import setup_device
    from toy_nmt import make_pairs

    dev = setup_device(args.device, args.threads)
    print(f"device {dev}, torch threads {torch.get_num_threads()}, cpu cores {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        pairs = make_pairs(args.pairs, seed=1, min_len=5, max_len=25)
        write_bitext(pairs, d / "train.en", d / "train.xx")
        test = [s for s, _ in make_pairs(args.sentences, seed=2, min_len=5, max_len=25)]
        write_lines(d / "test.en", test)
        train_spm([d / "train.en"], [d / "train.xx"], d / "spm.model", vocab_size=1000)
        if args.precision_table:
            precision_table(d, pairs, args, dev)
            return
        print(f"{'preset':8} {'params':>8} {'train tgt tok/s':>16} {'bare fairseq2':>14} {'ratio':>6} "
              f"{'translate sent/s':>17} {'bare generator':>15} {'ratio':>6}")
        for preset in args.presets.split(","):
            m = d / preset
            res = train(d / "train.en", d / "train.xx", m, src_lang="eng_Latn", tgt_lang="xyz_Deva", preset=preset,
                        spm_model=d / "spm.model", max_steps=args.steps, valid_every=10**9, device=args.device,
                        threads=args.threads, progress=False)
            bare, _ = bare_train(m, pairs, args.steps, dev)
            tr = translate(m, d / "test.en", d / f"{preset}.jsonl", beam=5, nbest=5, device=args.device,
                           threads=args.threads, progress=False)
            bare_tr = bare_translate(m, test, dev)
            from lmboot.nmt.model import load_model

            nparams = sum(p.numel() for p in load_model(m, dev)[0].parameters())
            print(f"{preset:8} {nparams / 1e6:7.1f}M {res.target_tokens_per_s:16,.0f} {bare:14,.0f} "
                  f"{res.target_tokens_per_s / bare:6.2f} {tr.sentences_per_s:17.1f} {bare_tr:15.1f} "
                  f"{tr.sentences_per_s / bare_tr:6.2f}", flush=True)


if __name__ == "__main__":
    main()
