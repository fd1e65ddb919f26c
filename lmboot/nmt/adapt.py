"""Adapting a trained translator, and the dev check that keeps an adaptation only if it helps.

Two techniques continue training a translator from where it stands: fine-tuning on the
bitext pairs that selection found nearest the domain, and self-training on the translator's
own in-domain translations (:mod:`lmboot.nmt.selftrain`). Either can make the translator
worse (a weak translator learns its own errors; a small selected set is over-fitted), so
each is followed by :func:`keep_better`: the adapted and the starting translator are judged
by the same function (in the pipeline: the in-domain dev objective of the final LM,
:class:`lmboot.lm.objective.DevObjective`, over translations of held-out in-domain sentences)
and the better one is kept; ties keep the starting translator.

>>> res = fine_tune("runs/nmt", "selected.en", "selected.de", "runs/nmt-sel", steps=300)  # doctest: +SKIP
>>> keep_better("runs/nmt", "runs/nmt-sel", judge).chosen                                 # doctest: +SKIP
'adapted'
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

log = logging.getLogger("lmboot")


def fine_tune(model_dir: str | os.PathLike, train_src: str | os.PathLike, train_tgt: str | os.PathLike | None,
              out_model: str | os.PathLike, *, steps: int, lr: float | None = None,
              warmup_steps: int | None = None, dev_src=None, dev_tgt=None, valid_every: int | None = None,
              max_time: float | str | None = None, seed: int = 1, device: str | None = None,
              threads: int | None = None, progress: bool | None = None):
    """Continue training ``model_dir`` on a bitext into ``out_model`` (same vocabulary).

    ``lr`` defaults to half the preset's peak learning rate, warm-up to a tenth of ``steps``;
    validation (with a dev bitext) at the end, so ``best.pt`` is the better of the saved
    checkpoints. Re-running resumes, like :func:`lmboot.nmt.train`.
    """
    from lmboot.nmt.model import CONFIG, read_info, training_preset
    from lmboot.nmt.training import train

    info = read_info(model_dir)
    base_lr = training_preset(info.preset, Path(model_dir) / CONFIG).lr
    return train(train_src, train_tgt, out_model, src_lang=info.src_lang, tgt_lang=info.tgt_lang,
                 init_from=model_dir, max_steps=steps, lr=lr if lr is not None else base_lr / 2,
                 warmup_steps=warmup_steps if warmup_steps is not None else max(1, steps // 10),
                 dev_src=dev_src, dev_tgt=dev_tgt, valid_every=valid_every or steps, patience=None,
                 max_time=max_time, seed=seed, device=device, threads=threads, progress=progress)


@dataclass
class Verdict:
    """Which translator :func:`keep_better` kept, and both judgements (lower is better)."""

    model_dir: Path
    chosen: str  # "adapted" | "original"
    original: float
    adapted: float

    def to_json(self) -> dict:
        return {"model": str(self.model_dir), "chosen": self.chosen, "original": self.original,
                "adapted": self.adapted}


def keep_better(original: str | os.PathLike, adapted: str | os.PathLike,
                judge: Callable[[Path], float]) -> Verdict:
    """Judge both translators (lower is better) and keep the adapted one only if it is better
    by more than the tie margin (:data:`lmboot.decide.TIE`)."""
    from lmboot.decide import TIE

    before, after = float(judge(Path(original))), float(judge(Path(adapted)))
    chosen = "adapted" if after < before * (1 - TIE) else "original"  # a tie keeps what we had
    log.info("dev check: original %.3f, adapted %.3f -> keeping the %s translator", before, after, chosen)
    return Verdict(model_dir=Path(adapted if chosen == "adapted" else original), chosen=chosen,
                   original=before, adapted=after)


def lm_judge(objective: Callable[[list[str]], float], check_src: str | os.PathLike, work_dir: str | os.PathLike,
             beam: int = 5, **translate_kwargs) -> Callable[[Path], float]:
    """A judge for :func:`keep_better`: the dev objective (lower is better) of a translator's
    top-1 translations of held-out in-domain source sentences, degenerate ones left out.

    ``objective`` is typically :class:`lmboot.lm.objective.DevObjective` (the final LM's dev
    perplexity with those translations as its translated component)."""
    import hashlib

    from lmboot.text.quality import degenerate
    from lmboot.io.nbest import read_nbest
    from lmboot.nmt.translation import translate

    def judge(model_dir: Path) -> float:
        tag = hashlib.sha256(str(model_dir).encode()).hexdigest()[:8]
        path = Path(work_dir) / f"check.{tag}.jsonl"
        translate(model_dir, check_src, path, beam=beam, nbest=1, **translate_kwargs)
        texts = [r["hyps"][0]["text"] for r in read_nbest(path)]
        value = float(objective([t for t in texts if degenerate(t) is None]))
        log.info("dev check: %s -> %.3f", model_dir, value)
        return value

    return judge


def best_dev_scores(model_dir: str | os.PathLike) -> dict | None:
    """The dev BLEU/chrF of a model directory's best checkpoint (from its training log)."""
    import json

    p = Path(model_dir) / "train_log.jsonl"
    if not p.exists():
        return None
    rows = [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]
    if not rows:
        return None
    best = max(rows, key=lambda m: (m.get("chrf", 0.0), -m.get("dev_loss", 0.0)))
    return {k: best[k] for k in ("step", "bleu", "chrf", "dev_loss") if k in best}


__all__ = ["fine_tune", "keep_better", "lm_judge", "Verdict", "best_dev_scores"]
