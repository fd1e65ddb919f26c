"""Self-training: fine-tune the translator on its own translations of in-domain source text.

Each round: translate (a subset of) the in-domain source with the current model, keep the
top hypothesis of each sentence if it is sound (:mod:`lmboot.text.quality`) and among the
ones the translator is most confident of, mix those synthetic pairs with a
seeded sample of the original bitext (``mix_ratio`` original pairs per synthetic pair) and
fine-tune the current model on the mix. Rounds before the last write their model to
``OUT/round-K/model``; the last round's model is ``OUT/model``. Every round's n-best list and
training bitext stay in ``OUT/round-K/`` for inspection; re-running skips finished work. With a ``judge`` the
fine-tuned translator must beat the one it started from, or the original is kept
(:func:`lmboot.nmt.adapt.keep_better`): self-training never makes the translator worse on
the judge's terms.

>>> from lmboot.nmt import self_train, MinScoreFilter              # doctest: +SKIP
>>> res = self_train("runs/en-hi", "source.en", "runs/en-hi-st", "general.en", "general.hi",
...                  max_sentences=900, steps=300, filters=[MinScoreFilter(-1.5)])
>>> res.model_dir, res.rounds[0].kept                            # doctest: +SKIP
"""
from __future__ import annotations

import logging
import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from lmboot.io.corpus import write_bitext, write_json
from lmboot.errors import LmbootError
from lmboot.results import Result
from lmboot.text.quality import (DegenerateFilter, HypothesisFilter, LengthRatioFilter,  # noqa: F401 (re-export)
                                MinScoreFilter, mean_logprob, most_confident)

log = logging.getLogger("lmboot")


@dataclass
class RoundResult:
    round: int
    model_dir: Path
    nbest: Path
    translated: int
    kept: int
    original: int
    train: object  # NMTTrainResult


@dataclass
class SelfTrainResult(Result):
    model_dir: Path  # the translator kept (the fine-tuned one, unless the dev check rejected it)
    rounds: list[RoundResult] = field(default_factory=list)
    verdict: object = None  # lmboot.nmt.adapt.Verdict, when a judge was given
    dev: dict = field(default_factory=dict)  # dev BLEU/chrF of the original and fine-tuned translators

    def summary(self) -> str:
        lines = [f"round {r.round}: kept {r.kept} of {r.translated} translations + {r.original} original pairs, "
                 f"{r.train.steps} steps -> {r.model_dir}" for r in self.rounds]
        if self.verdict is not None:
            v = self.verdict
            lines.append(f"dev check: original {v.original:.2f}, fine-tuned {v.adapted:.2f} -> kept the "
                         f"{'fine-tuned' if v.chosen == 'adapted' else 'original'} model: {self.model_dir}")
        return "\n".join(lines)


def _subset(source: Path, out: Path, max_sentences: int | None, sample: bool, seed: int) -> Path:
    from lmboot.io.corpus import read_lines, write_lines

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
    filters: Sequence[HypothesisFilter] = (DegenerateFilter(),),
    trust: float = 1.0,
    mix_ratio: float = 1.0,
    steps: int = 300,
    lr: float | None = None,
    warmup_steps: int | None = None,
    dev_src: str | os.PathLike | None = None,
    dev_tgt: str | os.PathLike | None = None,
    valid_every: int | None = None,
    beam: int = 5,
    max_time: float | str | None = None,
    judge: Callable[[Path], float] | None = None,
    translate_kwargs: dict | None = None,
    seed: int = 1,
    device: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> SelfTrainResult:
    """Run ``rounds`` rounds of self-training starting from ``model_dir``; see the module doc.

    ``max_sentences`` translates only the first N lines of ``source`` (``sample=True``: a
    seeded random N). Only translations the translator can be trusted with are trained on:
    those passing ``filters`` (by default :class:`~lmboot.text.quality.DegenerateFilter`:
    no loops, stutters or length outliers), and of those the ``trust`` fraction with the
    highest log-probability per token. ``lr`` defaults to half the preset's learning rate;
    ``steps`` are the fine-tuning steps per round. ``max_time`` bounds each round's
    fine-tuning. With ``judge`` (a function of a model directory, lower is better), the
    fine-tuned translator is kept only if it judges better than the one it started from
    (:func:`lmboot.nmt.adapt.keep_better`); ``result.model_dir`` is the one kept.
    ``translate_kwargs`` go to :func:`lmboot.nmt.translate` (e.g. ``engine``).
    """
    from lmboot.nmt.adapt import best_dev_scores, fine_tune, keep_better
    from lmboot.nmt.data import read_pairs
    from lmboot.nmt.model import read_info
    from lmboot.io.nbest import read_nbest
    from lmboot.nmt.translation import translate

    if rounds < 1:
        raise LmbootError(f"rounds must be >= 1, not {rounds}")
    if mix_ratio < 0:
        raise LmbootError(f"mix ratio must be >= 0, not {mix_ratio}")
    if not 0.0 < trust <= 1.0:
        raise LmbootError(f"trust must be in (0, 1], not {trust}")
    read_info(model_dir)
    out = Path(out_dir)
    original = read_pairs(train_src, train_tgt, "training bitext")
    start = current = Path(model_dir)
    result = SelfTrainResult(model_dir=out / "model")
    for r in range(1, rounds + 1):
        rdir = out / f"round-{r}"
        nbest = rdir / "nbest.jsonl"
        fresh = [d for d in (out, rdir) if not d.exists()]
        try:
            rdir.mkdir(parents=True, exist_ok=True)
            subset = _subset(Path(source), rdir / "source.txt", max_sentences, sample, seed + r)
            if not nbest.exists():  # written atomically: present means complete
                translate(current, subset, nbest, beam=beam, nbest=1, device=device, threads=threads,
                          progress=progress, **(translate_kwargs or {}))
        except LmbootError:
            # The model or the text refused (a truncated checkpoint...): no round started on paper.
            for d in fresh:
                shutil.rmtree(d, ignore_errors=True)
            raise
        candidates, n = [], 0
        for rec in read_nbest(nbest):
            n += 1
            hyp = rec["hyps"][0]
            if hyp["text"].strip() and all(f.keep(rec["source"], hyp) for f in filters):
                candidates.append((rec["source"], hyp))
        mask = most_confident([mean_logprob(h) for _, h in candidates], trust) if candidates else []
        pairs = [(s, h["text"]) for (s, h), keep in zip(candidates, mask) if keep]
        if not pairs:
            raise LmbootError("no synthetic pair passed the filters; relax --min-score", path=nbest)
        k = min(len(original), int(round(mix_ratio * len(pairs))))
        orig = random.Random(seed + 100 * r).sample(original, k) if k < len(original) else list(original)
        mixed = pairs + orig
        write_bitext(mixed, rdir / "train.src", rdir / "train.tgt")
        target = out / "model" if r == rounds else rdir / "model"
        tr = fine_tune(current, rdir / "train.src", rdir / "train.tgt", target, steps=steps, lr=lr,
                       warmup_steps=warmup_steps, dev_src=dev_src, dev_tgt=dev_tgt, valid_every=valid_every,
                       max_time=max_time, seed=seed + r, device=device, threads=threads, progress=progress)
        rr = RoundResult(round=r, model_dir=target, nbest=nbest, translated=n, kept=len(pairs), original=len(orig),
                         train=tr)
        result.rounds.append(rr)
        log.info("self-training round %d: kept %d of %d translations (%d sound), + %d original pairs, "
                 "%d steps -> %s", r, len(pairs), n, len(candidates), len(orig), tr.steps, target)
        current = target
    result.dev = {"original": best_dev_scores(start), "fine-tuned": best_dev_scores(current)}
    if judge is not None:
        result.verdict = keep_better(start, current, judge)
        result.model_dir = result.verdict.model_dir
    write_json(out / "summary.json", {
        "model": str(result.model_dir), "verdict": result.verdict.to_json() if result.verdict else None,
        "dev": result.dev,
        "rounds": [{"round": x.round, "model": str(x.model_dir), "nbest": str(x.nbest), "translated": x.translated,
                    "kept": x.kept, "original": x.original, "steps": x.train.steps, "best": x.train.best}
                   for x in result.rounds]})
    return result
