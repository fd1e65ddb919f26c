"""Self-training: fine-tune the translator on its own translations of in-domain source text.

Each round: translate (a subset of) the in-domain source with the current model, keep the
top hypothesis of each sentence if it passes the filters, mix those synthetic pairs with a
seeded sample of the original bitext (``mix_ratio`` original pairs per synthetic pair) and
fine-tune the current model on the mix. Rounds before the last write their model to
``OUT/round-K/model``; the last round's model is ``OUT/model``. Every round's n-best list and
training bitext stay in ``OUT/round-K/`` for inspection; re-running skips finished work.

>>> from lmboot.nmt import self_train, MinScoreFilter              # doctest: +SKIP
>>> res = self_train("runs/en-hi", "source.en", "runs/en-hi-st", "general.en", "general.hi",
...                  max_sentences=900, steps=300, filters=[MinScoreFilter(-1.5)])
>>> res.model_dir, res.rounds[0].kept                            # doctest: +SKIP
"""
from __future__ import annotations

import json
import logging
import os
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from lmboot.corpus import atomic_write, write_bitext
from lmboot.errors import LmbootError

log = logging.getLogger("lmboot")


class HypothesisFilter(ABC):
    """Decides whether a synthetic pair (source, n-best hypothesis) is used for training."""

    name = "filter"

    @abstractmethod
    def keep(self, source: str, hyp: dict) -> bool:
        """``hyp`` is an n-best entry: ``{"text", "score", "tokens"}``."""


@dataclass
class MinScoreFilter(HypothesisFilter):
    """Keep hypotheses whose mean log-probability per token is at least ``min_score``."""

    min_score: float
    name = "min_score"

    def keep(self, source: str, hyp: dict) -> bool:
        return hyp["score"] / max(int(hyp["tokens"]), 1) >= self.min_score


@dataclass
class LengthRatioFilter(HypothesisFilter):
    """Drop pairs whose character-length ratio exceeds ``max_ratio`` either way (hallucinations)."""

    max_ratio: float = 3.0
    name = "length_ratio"

    def keep(self, source: str, hyp: dict) -> bool:
        a, b = len(source.strip()), len(hyp["text"].strip())
        if b == 0:
            return False
        return max(a, b) / max(min(a, b), 1) <= self.max_ratio


@dataclass
class RoundResult:
    round: int
    model_dir: Path
    nbest: Path
    translated: int
    kept: int
    original: int
    train: object  # TrainResult


@dataclass
class SelfTrainResult:
    model_dir: Path
    rounds: list[RoundResult] = field(default_factory=list)


def _subset(source: Path, out: Path, max_sentences: int | None, sample: bool, seed: int) -> Path:
    from lmboot.corpus import read_lines, write_lines

    lines = list(read_lines(source, "in-domain source"))
    if max_sentences is not None and max_sentences < len(lines):
        if sample:
            idx = sorted(random.Random(seed).sample(range(len(lines)), max_sentences))
            lines = [lines[i] for i in idx]
        else:
            lines = lines[:max_sentences]
    write_lines(out, lines)
    return out


def self_train(
    model_dir: str | os.PathLike,
    source: str | os.PathLike,
    out_dir: str | os.PathLike,
    train_src: str | os.PathLike,
    train_tgt: str | os.PathLike | None,
    *,
    rounds: int = 1,
    max_sentences: int | None = None,
    sample: bool = False,
    filters: Sequence[HypothesisFilter] = (),
    mix_ratio: float = 1.0,
    steps: int = 300,
    lr: float | None = None,
    warmup_steps: int | None = None,
    dev_src: str | os.PathLike | None = None,
    dev_tgt: str | os.PathLike | None = None,
    valid_every: int | None = None,
    beam: int = 5,
    max_time: float | str | None = None,
    seed: int = 1,
    device: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> SelfTrainResult:
    """Run ``rounds`` rounds of self-training starting from ``model_dir``; see the module doc.

    ``max_sentences`` translates only the first N lines of ``source`` (``sample=True``: a
    seeded random N). ``lr`` defaults to half the preset's learning rate; ``steps`` are the
    fine-tuning steps per round. ``max_time`` bounds each round's fine-tuning.
    """
    from lmboot.nmt.data import read_pairs
    from lmboot.nmt.model import PRESETS, read_info
    from lmboot.nmt.train import train
    from lmboot.nmt.translate import iter_nbest, translate

    if rounds < 1:
        raise LmbootError(f"rounds must be >= 1, not {rounds}")
    if mix_ratio < 0:
        raise LmbootError(f"mix ratio must be >= 0, not {mix_ratio}")
    info = read_info(model_dir)
    out = Path(out_dir)
    original = read_pairs(train_src, train_tgt, "training bitext")
    current = Path(model_dir)
    result = SelfTrainResult(model_dir=out / "model")
    base_lr = PRESETS.get(info.preset, PRESETS["small"]).lr
    for r in range(1, rounds + 1):
        rdir = out / f"round-{r}"
        rdir.mkdir(parents=True, exist_ok=True)
        subset = _subset(Path(source), rdir / "source.txt", max_sentences, sample, seed + r)
        nbest = rdir / "nbest.jsonl"
        if not nbest.exists():  # written atomically: present means complete
            translate(current, subset, nbest, beam=beam, nbest=1, device=device, threads=threads, progress=progress)
        pairs, n = [], 0
        for rec in iter_nbest(nbest):
            n += 1
            hyp = rec["hyps"][0]
            if hyp["text"].strip() and all(f.keep(rec["source"], hyp) for f in filters):
                pairs.append((rec["source"], hyp["text"]))
        if not pairs:
            raise LmbootError("no synthetic pair passed the filters; relax --min-score", path=nbest)
        k = min(len(original), int(round(mix_ratio * len(pairs))))
        orig = random.Random(seed + 100 * r).sample(original, k) if k < len(original) else list(original)
        mixed = pairs + orig
        write_bitext(mixed, rdir / "train.src", rdir / "train.tgt")
        target = out / "model" if r == rounds else rdir / "model"
        tr = train(rdir / "train.src", rdir / "train.tgt", target, src_lang=info.src_lang, tgt_lang=info.tgt_lang,
                   init_from=current, max_steps=steps, lr=lr if lr is not None else base_lr / 2,
                   warmup_steps=warmup_steps if warmup_steps is not None else max(1, steps // 10),
                   dev_src=dev_src, dev_tgt=dev_tgt, valid_every=valid_every or steps, patience=None,
                   max_time=max_time, seed=seed + r, device=device, threads=threads, progress=progress)
        rr = RoundResult(round=r, model_dir=target, nbest=nbest, translated=n, kept=len(pairs), original=len(orig),
                         train=tr)
        result.rounds.append(rr)
        log.info("self-training round %d: kept %d of %d translations, + %d original pairs, %d steps -> %s",
                 r, len(pairs), n, len(orig), tr.steps, target)
        current = target
    with atomic_write(out / "summary.json") as f:
        json.dump({"model": str(result.model_dir),
                   "rounds": [{"round": x.round, "model": str(x.model_dir), "nbest": str(x.nbest),
                               "translated": x.translated, "kept": x.kept, "original": x.original,
                               "steps": x.train.steps, "best": x.train.best} for x in result.rounds]},
                  f, indent=2, ensure_ascii=False)
        f.write("\n")
    return result
