"""Rescoring n-best files, and :func:`run`: ``lmboot rescore`` as one library call.

:func:`run` is what the command line and the pipeline's rescore step both call: it validates
the input, tunes the weights when asked (by a metric on a dev n-best list with references, or
by the final LM's dev objective on the list itself), saves them, rescores and writes the
outputs and the JSON report.
"""
from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from lmboot.errors import LmbootError
from lmboot.io.corpus import atomic_write, write_json
from lmboot.io.nbest import format_entry, read_nbest
from lmboot.lm.score import LMScorer
from lmboot.metrics import METRICS, Metric
from lmboot.rescore.combine import Weights, rescore
from lmboot.rescore.tuning import LMTuneResult, MetricTuneResult, tune, tune_lm
from lmboot.results import Result

log = logging.getLogger("lmboot")


@dataclass
class RescoreResult(Result):
    """What :func:`rescore_file` did. ``before``/``after``: ``metric`` of the producer's top-1
    and of the rescored choice, when every entry has a ``ref`` (else None)."""

    nbest: Path
    lm: Path
    out_jsonl: Path | None
    out_txt: Path | None
    weights: Weights
    entries: int = 0
    hyps: int = 0
    changed: int = 0  # entries whose choice differs from the producer's top-1
    seconds: float = 0.0
    metric: str | None = None
    before: float | None = None
    after: float | None = None
    signature: str | None = None

    @property
    def hyps_per_second(self) -> float:
        return self.hyps / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict:
        return {**super().to_json(), "hyps_per_second": self.hyps_per_second}

    def summary(self) -> str:
        s = (f"rescored {self.entries} entries ({self.hyps} hypotheses, {self.hyps_per_second:,.0f}/s): "
             f"{self.changed} top-1 choices changed")
        if self.before is not None:
            s += f"; {self.metric} {self.before:.2f} (producer's top-1) -> {self.after:.2f} (rescored)"
        if self.signature:
            s += "\n" + self.signature
        return s


def rescore_file(nbest_in: str | Path, lm_path: str | Path | None, out_jsonl: str | Path | None,
                 out_txt: str | Path | None, weights: Weights | None = None, normalizer=None,
                 oov_penalty: float | None = None, metric: str | None = None, progress: bool = False,
                 scorer: LMScorer | None = None) -> RescoreResult:
    """Rescore the n-best list ``nbest_in`` with the LM ``lm_path`` (or a ready ``scorer``).

    Writes ``out_jsonl`` (every entry with the added keys, see :func:`rescore`) and/or
    ``out_txt`` (the chosen text, one line per entry), both atomically: on any bad input
    neither output is touched. With ``metric`` and a ``ref`` in every entry, also measures
    the metric of the producer's top-1 and of the rescored choice.

    >>> rescore_file("test.nbest.jsonl", "seed.bin", "out.jsonl", "out.hi",
    ...              Weights(lm_weight=0.3), metric="chrf").summary()      # doctest: +SKIP
    """
    if out_jsonl is None and out_txt is None:
        raise LmbootError("nothing to write: give out_jsonl and/or out_txt")
    if metric is not None and metric not in METRICS:
        raise LmbootError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    weights = weights or Weights()
    if scorer is None:
        if lm_path is None:
            raise LmbootError("no language model given")
        scorer = LMScorer(lm_path, normalizer=normalizer, oov_penalty=oov_penalty)
    # Check the input's first line before anything is created.
    next(iter(read_nbest(nbest_in)))
    res = RescoreResult(nbest=Path(nbest_in), lm=scorer.path, out_jsonl=None if out_jsonl is None else Path(out_jsonl),
                        out_txt=None if out_txt is None else Path(out_txt), weights=weights, metric=metric)
    refs: list[str | None] = []
    top1: list[str] = []
    chosen: list[str] = []
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        fj = stack.enter_context(atomic_write(out_jsonl)) if out_jsonl is not None else None
        ft = stack.enter_context(atomic_write(out_txt)) if out_txt is not None else None
        entries: Iterable[dict] = read_nbest(nbest_in)
        if progress:
            from tqdm import tqdm

            entries = tqdm(entries, desc="rescore", unit=" entries")
        for e in rescore(entries, scorer, weights):
            res.entries += 1
            res.hyps += len(e["hyps"])
            res.changed += e["best"] != 0
            if fj is not None:
                fj.write(format_entry(e))
            if ft is not None:
                ft.write(e["best_text"].replace("\n", " ") + "\n")
            if metric is not None:
                refs.append(e.get("ref"))
                top1.append(e["hyps"][0]["text"])
                chosen.append(e["best_text"])
    res.seconds = time.perf_counter() - t0
    if metric is not None:
        if all(isinstance(r, str) for r in refs):
            m = Metric(metric, scorer.normalizer)
            res.before, res.after = m.corpus(top1, refs), m.corpus(chosen, refs)
            res.signature = m.signature()
        else:
            log.info("rescore: not every entry of %s has a 'ref'; %s not measured", nbest_in, metric)
    return res


@dataclass
class RescoreRun(Result):
    """What :func:`run` did: the tuning (if any), the weights used, the rescoring (if any outputs)."""

    weights: Weights
    tuning: MetricTuneResult | LMTuneResult | None = None
    tuned_on: Path | None = None  # the dev n-best list of a tuning by metric
    saved_weights: Path | None = None
    rescored: RescoreResult | None = None

    def summary(self) -> str:
        lines = []
        if self.tuning is not None:
            lines.append(self.tuning.summary())
        if self.saved_weights is not None:
            lines.append(f"weights -> {self.saved_weights}")
        if self.rescored is not None:
            lines.append(self.rescored.summary())
        return "\n".join(lines)

    def to_json(self) -> dict:
        """``{"tune": {"on": ..., <tuning>}, "rescore": <rescoring>}``, each key when it happened."""
        out: dict = {}
        if self.tuning is not None:
            on = str(self.tuned_on) if self.tuned_on is not None else "dev objective"
            out["tune"] = {"on": on, **self.tuning.to_json()}
        if self.rescored is not None:
            out["rescore"] = self.rescored.to_json()
        return out


def run(nbest: str | Path, lm: str | Path, out_jsonl: str | Path | None = None, out_txt: str | Path | None = None,
        *, weights: Weights | None = None, tune_on: str | Path | None = None, metric: str | None = "chrf",
        objective=None, save_weights: str | Path | None = None, json_out: str | Path | None = None,
        normalizer=None, oov_penalty: float | None = None, progress: bool = False) -> RescoreRun:
    """Tune (optionally), then rescore the n-best list ``nbest`` with the LM ``lm``.

    ``weights``: the weights to use (default :class:`Weights`'s), or to start tuning from
    (its ``norm_exponent`` is kept). Tuning, at most one of:

    - ``tune_on``: a dev n-best list with a ``ref`` per entry; lambda and mu chosen by
      ``metric`` (:func:`lmboot.rescore.tune`);
    - ``objective``: a function of the chosen texts, lower is better (typically
      :class:`lmboot.lm.objective.DevObjective`); lambda and mu chosen on ``nbest`` itself
      (:func:`lmboot.rescore.tune_lm`).

    ``save_weights`` writes the tuned weights (with how they were tuned) for ``--weights-from``.
    With ``out_jsonl`` and/or ``out_txt``, rescores (:func:`rescore_file`; ``metric`` measured
    when every entry has a ``ref``). ``json_out`` writes :meth:`RescoreRun.to_json`. The whole
    input is validated before any tuning or writing.
    """
    if tune_on is not None and objective is not None:
        raise LmbootError("tune by a metric on --tune-on or by the dev objective, not both")
    if save_weights is not None and tune_on is None and objective is None:
        raise LmbootError("--save-weights needs --tune-on")
    if out_jsonl is None and out_txt is None and save_weights is None:
        raise LmbootError("nothing to write: give --out-jsonl and/or --out-txt (or --tune-on with --save-weights)")
    if metric is not None and metric not in METRICS:
        raise LmbootError(f"--metric must be one of {', '.join(METRICS)}, not {metric!r}")
    weights = weights or Weights()
    scorer = LMScorer(lm, normalizer=normalizer, oov_penalty=oov_penalty)
    entries = list(read_nbest(nbest)) if objective is not None else None
    if entries is None:
        for _ in read_nbest(nbest):  # validate the whole input before tuning or writing anything
            pass
    res = RescoreRun(weights=weights)
    if tune_on is not None:
        res.tuning = tune(list(read_nbest(tune_on, require_ref=True)), scorer, metric=metric or "chrf",
                          norm_exponents=(weights.norm_exponent,))
        res.tuned_on = Path(tune_on)
    elif objective is not None:
        res.tuning = tune_lm(entries, scorer, objective)
    if res.tuning is not None:
        res.weights = weights = res.tuning.weights
        if save_weights is not None:
            tuned = {k: v for k, v in res.to_json()["tune"].items() if k != "weights"}
            weights.to_json(save_weights, extra={"tuned": tuned})
            res.saved_weights = Path(save_weights)
    if out_jsonl is not None or out_txt is not None:
        res.rescored = rescore_file(nbest, None, out_jsonl, out_txt, weights, metric=metric, progress=progress,
                                    scorer=scorer)
    if json_out is not None:
        write_json(json_out, res.to_json())
    return res


__all__ = ["run", "RescoreRun", "rescore_file", "RescoreResult"]
