"""Training loop over fairseq2's parts (model factory, data pipeline, LR scheduler, DDP).

>>> from lmboot.nmt import train                                # doctest: +SKIP
>>> res = train("general.en", "general.hi", "runs/en-hi", src_lang="eng_Latn", tgt_lang="hin_Deva",
...             dev_src="dev.en", dev_tgt="dev.hi", preset="small", max_time=25 * 60)
>>> res.steps, res.best["chrf"]                                 # doctest: +SKIP
(2300, 41.2)

Re-running with the same model directory resumes from ``checkpoints/last.pt`` (written every
``save_every`` steps, on Ctrl-C and on SIGTERM): model, optimiser, scheduler, RNG and the
data-pipeline position are restored, so an interrupted run continues at the saved step.

Size (~470 lines): one training loop (resume, validation, early stopping, DDP) whose parts
share its local state.
"""
from __future__ import annotations

import logging
import math
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lmboot.errors import LmbootError
from lmboot.io.corpus import atomic_write
from lmboot.nmt import model as M
from lmboot.nmt.modeldir import prepare_dir, start_point  # noqa: F401 (start_point: public here too)
from lmboot.results import Result

log = logging.getLogger("lmboot")


@dataclass
class NMTTrainResult(Result):
    """What :func:`train` did (the translator; :class:`lmboot.lm.LMTrainResult` is the n-gram LM's)."""

    model_dir: Path
    start_step: int
    steps: int
    stopped: str  # max_steps | max_time | early_stopping | interrupted
    seconds: float
    target_tokens_per_s: float
    tokens_per_s: float  # source + target
    last_loss: float | None = None
    best_step: int | None = None
    best: dict[str, Any] | None = None
    validations: list[dict[str, Any]] = field(default_factory=list)
    precision: str = "fp32"
    deterministic: bool = True
    averaged: dict[str, Any] | None = None  # the averaged checkpoints' dev scores and whether they were kept

    def summary(self) -> str:
        b = self.best or {}
        return (f"{self.model_dir}: steps {self.start_step}->{self.steps} ({self.stopped}), {self.seconds:.0f} s, "
                f"{self.target_tokens_per_s:,.0f} target tokens/s ({self.precision}"
                f"{', deterministic' if self.deterministic else ''})"
                + (f"; best step {self.best_step}: BLEU {b.get('bleu')} chrF {b.get('chrf')} "
                   f"dev loss {b.get('dev_loss')} ({b.get('bleu_signature')})" if b else ""))


def parse_duration(text: str | float | int | None) -> float | None:
    """Seconds from ``90``, ``90s``, ``25m``, ``1.5h``."""
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)):
        return float(text)
    t = str(text).strip().lower()
    mult = {"s": 1, "m": 60, "h": 3600}.get(t[-1:], None)
    try:
        return float(t[:-1]) * mult if mult else float(t)
    except ValueError:
        raise LmbootError(f"invalid duration {text!r} (use e.g. 90, 90s, 25m, 1.5h)") from None


class _Stop(Exception):
    pass


def _spm_tsv_guard(train_src, train_tgt):
    if train_tgt is None and not str(train_src).lower().endswith(".tsv"):
        raise LmbootError("give the target side too, or a .tsv bitext (source<TAB>target)", path=train_src)


def train(
    train_src: str | os.PathLike,
    train_tgt: str | os.PathLike | None,
    model_dir: str | os.PathLike,
    *,
    src_lang: str,
    tgt_lang: str,
    dev_src: str | os.PathLike | None = None,
    dev_tgt: str | os.PathLike | None = None,
    preset: str = "tiny",
    spm_model: str | os.PathLike | None = None,
    vocab_size: int | None = None,
    joint_spm: bool = True,
    init_from: str | os.PathLike | None = None,
    max_steps: int = 1000,
    max_time: float | str | None = None,
    valid_every: int = 200,
    save_every: int | None = None,
    patience: int | None = 5,
    lr: float | None = None,
    warmup_steps: int | None = None,
    batch_tokens: int | None = None,
    max_len: int = 128,
    label_smoothing: float = 0.1,
    clip_norm: float = 1.0,
    weight_decay: float = 1e-4,
    dropout: float | None = None,
    valid_beam: int = 4,
    valid_max: int = 500,
    seed: int = 1,
    device: str | None = None,
    threads: int | None = None,
    precision: str = "auto",
    deterministic: bool = True,
    average: int = 0,
    progress: bool | None = None,
    on_step: Callable[[int, float], None] | None = None,
) -> NMTTrainResult:
    """Train (or resume, or fine-tune) an encoder-decoder Transformer translator.

    - bitext: ``train_src``/``train_tgt`` line-aligned files, or ``train_tgt=None`` and a TSV;
    - SentencePiece: ``spm_model`` if given, else trained here (preset vocabulary size);
    - model: fairseq2 NLLB-architecture Transformer of the ``preset`` size (tiny/small/base),
      or initialised from ``init_from``: another lmboot model directory (fine-tuning, same
      vocabulary) or a JSON :class:`~lmboot.nmt.model.PretrainedSpec` of a local fairseq2
      checkpoint;
    - loss: label-smoothed cross entropy per target token; AdamW; linear warm-up then
      inverse square root (fairseq2 ``MyleLR``); gradient-norm clipping; batches of at most
      ``batch_tokens`` tokens, bucketed by length;
    - every ``valid_every`` steps (with a dev bitext): dev loss and sacrebleu BLEU/chrF of
      beam-``valid_beam`` translations of the first ``valid_max`` dev pairs; ``best.pt`` keeps
      the best chrF; training stops after ``patience`` validations without improvement;
    - stops at ``max_steps`` (total, counting resumed steps) or after ``max_time`` (seconds or
      "25m") of this run. Under ``torchrun``: data-parallel (gloo on CPU, NCCL on CUDA);
    - ``precision``: ``auto`` (bf16 autocast where the CPU has ``amx_bf16`` or the
      GPU supports it, else fp32), ``fp32``, ``bf16``, ``fp16`` (CUDA); weights and optimiser
      state stay fp32 (:mod:`lmboot.nmt.precision`). ``deterministic`` uses PyTorch's
      deterministic kernels on CPU (bit-exact reruns on the same CPU kind);
    - ``average`` >= 2: when training ends, the mean of the last ``average`` validated
      checkpoints is validated and replaces ``best.pt`` if its dev chrF is better
      (:mod:`lmboot.nmt.average`).
    ``on_step(step, loss)`` is called after each step (for tests and callers' own hooks).
    """
    import torch

    from fairseq2.nn.utils.grad import clip_grad_norm
    from fairseq2.optim.lr_schedulers import MyleLR

    from lmboot.nmt import average as A
    from lmboot.nmt import precision as P
    from lmboot.nmt.data import build_train_pipeline, read_pairs, to_seq2seq_batch

    _spm_tsv_guard(train_src, train_tgt)
    if dev_src is not None and dev_tgt is None:
        _spm_tsv_guard(dev_src, None)
    max_seconds = parse_duration(max_time)
    if max_steps < 1:
        raise LmbootError(f"max_steps must be >= 1, not {max_steps}")
    model_dir = Path(model_dir)
    save_every = save_every or valid_every
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    if average < 0 or average == 1:
        raise LmbootError(f"average must be 0 (off) or >= 2 checkpoints, not {average}")
    dev = M.setup_device(device, threads)
    prec = P.resolve(precision, dev.type)
    gang = gangs = None
    if world > 1:
        from fairseq2.gang import ProcessGroupGang, create_parallel_gangs

        if not torch.distributed.is_initialized():
            gang = ProcessGroupGang.create_default_process_group(dev)
            gangs = create_parallel_gangs(gang)
        else:  # pragma: no cover - a caller set up the process group
            raise LmbootError("torch.distributed is already initialised; run one training per process")
    if progress is None:
        progress = sys.stderr.isatty()
    progress = progress and rank == 0

    pairs = read_pairs(train_src, train_tgt, "training bitext")
    dev_pairs = read_pairs(dev_src, dev_tgt, "dev bitext")[:valid_max] if dev_src is not None else None

    if rank == 0:
        from lmboot.safety import clean_stale_temps

        clean_stale_temps(model_dir, recursive=False)
        clean_stale_temps(model_dir / "checkpoints", recursive=False)
    fresh = not model_dir.exists()
    try:
        info, init_weights = prepare_dir(model_dir, src_lang, tgt_lang, preset, spm_model, vocab_size, joint_spm,
                                          train_src, train_tgt, init_from, dropout, rank, gang)
    except Exception:
        if fresh and rank == 0:  # nothing half-made stays behind (a copied garbage spm.model, config.json)
            shutil.rmtree(model_dir, ignore_errors=True)
        raise
    p = M.training_preset(info.preset, model_dir / M.CONFIG)
    lr = lr if lr is not None else p.lr
    warmup_steps = warmup_steps if warmup_steps is not None else min(p.warmup_steps, max(1, max_steps // 4))
    batch_tokens = batch_tokens or p.batch_tokens
    tokenizer = M.load_tokenizer(model_dir, info)
    fingerprint = info.fingerprint(model_dir)

    # Determinism: seeded init, data order and dropout; deterministic kernels (an option:
    # docs/nmt.md has what they cost).
    torch.manual_seed(seed)
    if dev.type == "cpu":
        torch.use_deterministic_algorithms(deterministic, warn_only=True)
    if rank == 0:  # how this model was trained, for whoever reads config.json
        info.train = {**info.train, "precision": prec, "precision_requested": precision,
                      "deterministic": bool(deterministic and dev.type == "cpu"), "device": dev.type}
        M.write_info(model_dir, info)
    scaler = P.grad_scaler(prec, dev.type)
    model = M.build_model(info, dev)
    if init_weights is not None:
        if init_weights[0] == "pretrained":
            sd = M.load_pretrained_weights(init_weights[1], info, dev)
            M.load_weights(model, sd, init_weights[1].checkpoint)
        else:
            M.load_weights(model, init_weights[0], init_weights[1])
    model.train()

    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), eps=1e-8, weight_decay=weight_decay)
    sched = MyleLR(opt, num_warmup_steps=warmup_steps, start_lr=lr * 1e-3)
    pipeline = build_train_pipeline(pairs, tokenizer, src_lang, tgt_lang, batch_tokens=batch_tokens,
                                    max_len=max_len, seed=seed, rank=rank, world_size=world)

    ckdir = model_dir / "checkpoints"
    last_path = ckdir / M.LAST
    step, best, best_step, bad_valids, history = 0, None, None, 0, []
    if last_path.exists():
        state = M.load_checkpoint(last_path, fingerprint, map_location=dev)
        M.load_weights(model, state["model"], last_path)
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        if dev.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"], dev)
        step, best, best_step = int(state["step"]), state.get("best"), state.get("best_step")
        bad_valids, history = int(state.get("bad_valids", 0)), list(state.get("history", []))
        log.info("resuming %s at step %d", model_dir, step)
    start_step = step

    net = model
    if gangs is not None:
        from fairseq2.nn.ddp import to_ddp

        net = to_ddp(model, gangs)

    def save(which: Path) -> None:
        if rank != 0:
            return
        st = {"format": M.FORMAT, "fingerprint": fingerprint, "model": model.state_dict(),
              "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
              "rng": torch.get_rng_state(), "step": step, "best": best, "best_step": best_step,
              "bad_valids": bad_valids, "history": history}
        if dev.type == "cuda":
            st["cuda_rng"] = torch.cuda.get_rng_state(dev)
        M.save_checkpoint(which, st)

    def save_best() -> None:
        if rank == 0:
            M.save_checkpoint(ckdir / M.BEST, {"format": M.FORMAT, "fingerprint": fingerprint,
                                                "model": model.state_dict(), "step": step, "best": best})

    def save_snapshot() -> None:  # the weights checkpoint averaging will use
        if rank == 0 and average:
            M.save_checkpoint(A.snapshot_path(ckdir, step), {"format": M.FORMAT, "fingerprint": fingerprint,
                                                             "model": model.state_dict(), "step": step})
            A.prune_snapshots(ckdir, average)

    def validate(model=model) -> dict[str, Any]:
        from lmboot.metrics import mt_scores
        from lmboot.nmt.data import iter_eval_batches
        from lmboot.nmt.engines.fairseq2_engine import Fairseq2Translator as Translator

        model.eval()
        nll, ntok = 0.0, 0
        with torch.inference_mode():
            for b in iter_eval_batches(dev_pairs, tokenizer, src_lang, tgt_lang, dev):
                inp, tgt = b.as_auto_regressive()
                s, sl = inp.as_source_input()
                t, tl = inp.as_target_input()
                nll += float(model(s, sl, t, tl, targets=tgt.seqs, reduction="sum"))
                ntok += tgt.num_elements
        tr = Translator(model, tokenizer, info, beam=valid_beam, nbest=1)
        hyps = [h[0].text for h in tr.translate([s for s, _ in dev_pairs])]
        m = mt_scores(hyps, [t for _, t in dev_pairs])
        model.train()
        m.update(step=step, dev_loss=round(nll / max(ntok, 1), 4), dev_ppl=round(math.exp(min(nll / max(ntok, 1), 50)), 2))
        return m

    from tqdm import tqdm

    stopped = "max_steps"
    t0 = time.perf_counter()
    tok_tgt = tok_all = 0
    loss_ema = None
    prev_handler = None
    if threading_is_main():
        prev_handler = signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
    bar = tqdm(total=max_steps, initial=step, disable=not progress, desc="train", unit="step", dynamic_ncols=True)
    it = iter(pipeline)
    # Data position: the pipeline is seeded, so replaying the batches already consumed puts it
    # exactly where the interrupted run was (fairseq2's pipeline state_dict does not survive
    # repeat() over read_sequence in 0.8.1).
    for _ in range(step):
        next(it)
    try:
        while step < max_steps:
            batch = to_seq2seq_batch(next(it), dev)
            inp, tgt = batch.as_auto_regressive()
            s, sl = inp.as_source_input()
            t, tl = inp.as_target_input()
            n_tgt = tgt.num_elements
            with P.autocast(prec, dev.type):
                loss = net(s, sl, t, tl, targets=tgt.seqs, label_smoothing=label_smoothing, reduction="sum")
            opt.zero_grad(set_to_none=True)
            if scaler is None:
                (loss / n_tgt).backward()
                clip_grad_norm(net, max_norm=clip_norm)
                opt.step()
            else:  # fp16 on CUDA: scaled loss, unscaled before clipping
                scaler.scale(loss / n_tgt).backward()
                scaler.unscale_(opt)
                clip_grad_norm(net, max_norm=clip_norm)
                scaler.step(opt)
                scaler.update()
            sched.step()
            step += 1
            lv = float(loss.detach()) / n_tgt
            loss_ema = lv if loss_ema is None else 0.9 * loss_ema + 0.1 * lv
            tok_tgt += n_tgt * world
            tok_all += (batch.num_source_elements + n_tgt) * world
            el = time.perf_counter() - t0
            bar.update(1)
            post = f"loss {loss_ema:.3f} {tok_tgt / max(el, 1e-9):,.0f} tgt tok/s lr {sched.get_last_lr()[0]:.2e}"
            if max_seconds:
                post += f" time left {max(0.0, max_seconds - el) / 60:.1f}m"
            bar.set_postfix_str(post)
            if on_step is not None:
                on_step(step, lv)
            stop_now = max_seconds is not None and el >= max_seconds
            if gang is not None:  # all ranks stop together
                from fairseq2.gang import ReduceOperation

                flag = torch.tensor([1.0 if stop_now else 0.0], device=dev)
                gang.all_reduce(flag, ReduceOperation.MAX)
                stop_now = bool(flag.item())
            validated = False
            if dev_pairs is not None and (step % valid_every == 0 or step == max_steps or stop_now):
                m = None
                if rank == 0:
                    m = validate()
                    history.append(m)
                    improved = best is None or (m["chrf"], -m["dev_loss"]) > (best["chrf"], -best["dev_loss"])
                    if improved:
                        best, best_step, bad_valids = m, step, 0
                        save_best()
                    else:
                        bad_valids += 1
                    save_snapshot()
                    _write_log(model_dir, history)
                    bar.write(f"[lmboot] step {step}: dev loss {m['dev_loss']:.3f} BLEU {m['bleu']:.2f} "
                              f"chrF {m['chrf']:.2f}" + (" *" if improved else ""))
                if gang is not None:
                    obj = [bad_valids, best, best_step, history]
                    gang.broadcast_objects(obj)
                    bad_valids, best, best_step, history = obj
                validated = True
            if step % save_every == 0 or step == max_steps or stop_now:
                save(last_path)
                if gang is not None:
                    gang.barrier()
            if validated and patience is not None and bad_valids >= patience:
                stopped = "early_stopping"
                if step % save_every:
                    save(last_path)
                break
            if stop_now:
                stopped = "max_time"
                break
    except KeyboardInterrupt:
        stopped = "interrupted"
        save(last_path)
        log.warning("interrupted: saved %s at step %d; run the same command again to resume", last_path, step)
        raise
    finally:
        bar.close()
        if prev_handler is not None:
            signal.signal(signal.SIGTERM, prev_handler)
        if gang is not None and stopped == "interrupted":
            gang.close()
    if gang is not None:
        _check_replicas(model, rank, dev)
    seconds = time.perf_counter() - t0
    averaged = None
    if rank == 0 and average and dev_pairs is not None:
        averaged = A.average_and_validate(model_dir, info, fingerprint, dev, validate, best, average)
        if averaged and averaged["kept"]:
            best = averaged["metrics"]
    return NMTTrainResult(model_dir=model_dir, start_step=start_step, steps=step, stopped=stopped, seconds=seconds,
                       target_tokens_per_s=tok_tgt / max(seconds, 1e-9), tokens_per_s=tok_all / max(seconds, 1e-9),
                       last_loss=loss_ema, best_step=best_step, best=best, validations=history, precision=prec,
                       deterministic=bool(deterministic and dev.type == "cpu"), averaged=averaged)


def _check_replicas(model, rank: int, dev) -> None:
    """Data-parallel sanity check: every rank must end with the same weights."""
    import torch
    import torch.distributed as dist

    with torch.no_grad():
        sums = torch.stack([p.detach().double().sum() for p in model.parameters()]).to(dev)
    lo, hi = sums.clone(), sums.clone()
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    if not torch.equal(lo, hi):
        raise RuntimeError("data-parallel replicas diverged")
    dump = os.environ.get("LMBOOT_NMT_DUMP_RANK_WEIGHTS")  # for tests: each rank's own copy
    if dump:
        torch.save(model.state_dict(), f"{dump}{rank}.pt")
    dist.barrier()
    dist.destroy_process_group()


def threading_is_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _sigterm_to_interrupt(signum, frame):  # kill -> save last checkpoint like Ctrl-C
    raise KeyboardInterrupt


def _write_log(model_dir: Path, history: list[dict]) -> None:
    import json

    with atomic_write(model_dir / "train_log.jsonl") as f:
        for h in history:
            f.write(json.dumps(h, ensure_ascii=False) + "\n")


__all__ = ["train", "NMTTrainResult", "parse_duration"]
