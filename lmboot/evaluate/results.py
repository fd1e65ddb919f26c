"""Result records of ``lmboot eval wer``: one :class:`WerResult` per LM, and :class:`WerResults`,
the comparison of several LMs on one test set (its table, details and JSON report)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from lmboot.io.corpus import atomic_write, write_json
from lmboot.metrics import ErrorCounts
from lmboot.results import Result, text_table


@dataclass
class WerResult(Result):
    """WER of one LM on one test set (rescored n-best lists, or a real decoding).

    ``counts`` are the errors of the LM's choices; ``first_pass`` and ``oracle`` (n-best
    only) describe the lists themselves and are the same for every LM. ``simulated`` is True
    when the lists came from ``lmboot eval simulate``: such WERs compare LMs with each other
    and are not the WER of any recogniser.
    """

    lm: str
    method: str  # "rescore", or the decoder's name in lmboot.evaluate.decode.DECODERS ("pocketsphinx")
    counts: ErrorCounts
    first_pass: ErrorCounts | None = None
    oracle: ErrorCounts | None = None
    simulated: bool = False
    oov_mode: str = "penalty"  # "penalty" | "exclude" | "skip" | "g2p"
    oov_penalty: float | None = None  # log10, charged per unknown word (penalty mode)
    weights: dict | None = None
    tuned_on: str | None = None
    tune_before: float | None = None
    tune_after: float | None = None
    chosen_oov_words: int = 0  # words of the chosen outputs the LM does not know (always errors)
    lm_vocab_missing: list = field(default_factory=list)  # decoding: LM words without pronunciation
    g2p_words: list = field(default_factory=list)  # decoding: words given pronunciations by G2P
    seconds: float = 0.0
    details: list = field(default_factory=list, repr=False)

    @property
    def wer(self) -> float:
        return self.counts.wer

    @property
    def cer(self) -> float:
        return self.counts.cer

    def summary(self) -> str:
        return (f"{self.lm}: WER {100 * self.wer:.2f}% ({'simulated' if self.simulated else self.method}, "
                f"{self.counts.utterances} utterances)")

    def to_json(self) -> dict:
        d = {"lm": self.lm, "method": self.method, "simulated": self.simulated,
             "wer": self.wer, "cer": self.cer, **{k: v for k, v in self.counts.to_json().items()
                                                  if k not in ("wer", "cer")},
             "oov_mode": self.oov_mode, "oov_penalty_log10": self.oov_penalty,
             "chosen_oov_words": self.chosen_oov_words, "seconds": round(self.seconds, 3)}
        if self.first_pass is not None:
            d["first_pass_wer"] = self.first_pass.wer
        if self.oracle is not None:
            d["oracle_wer"] = self.oracle.wer
        if self.weights is not None:
            d["weights"] = self.weights
        if self.tuned_on:
            d.update(tuned_on=self.tuned_on, tune_before=self.tune_before, tune_after=self.tune_after)
        if self.method != "rescore":
            d.update(lm_words_without_pronunciation=len(self.lm_vocab_missing),
                     lm_words_without_pronunciation_list=self.lm_vocab_missing,
                     g2p_words=self.g2p_words)
        return d


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}"


def format_table(results: Sequence[WerResult]) -> str:
    """A plain-text table of several LMs on the same test set, relative WER vs the first.

    The title says "SIMULATED" when the lists were simulated, and states how words unknown
    to an LM were handled.
    """
    if not results:
        return "(no results)"
    base = results[0].wer
    rows = [("lm", "WER%", "rel.vs.1st", "CER%", "sub", "del", "ins", "words", "1st-pass%", "oracle%",
             "λ", "μ")]
    for r in results:
        rel = "-" if r is results[0] else ("n/a" if base == 0 else f"{100 * (r.wer - base) / base:+.1f}%")
        w = r.weights or {}
        rows.append((r.lm, _pct(r.wer), rel, _pct(r.cer), str(r.counts.substitutions), str(r.counts.deletions),
                     str(r.counts.insertions), str(r.counts.ref_words),
                     _pct(r.first_pass.wer if r.first_pass else None), _pct(r.oracle.wer if r.oracle else None),
                     f"{w['lm_weight']:g}" if "lm_weight" in w else "-",
                     f"{w['length_penalty']:g}" if "length_penalty" in w else "-"))
    r0 = results[0]
    kind = "SIMULATED WER (simulated n-best lists: compares LMs, not a recogniser's WER)" if r0.simulated \
        else ("WER, n-best rescoring" if r0.method == "rescore" else f"WER, real decoding with {r0.method}")
    title = f"{kind}; {r0.counts.utterances} utterances"
    if r0.method == "rescore":
        oov = (f"words unknown to an LM: fixed penalty {r0.oov_penalty:g} log10 each, same for every LM"
               if r0.oov_mode == "penalty" else "hypotheses with words unknown to an LM: not selectable")
        title += f"; {oov}; an unknown word in the chosen output counts as an error"
        if r0.tuned_on:
            title += f"; weights tuned on {r0.tuned_on}"
    else:
        missing = ", ".join(f"{Path(r.lm).name}: {len(r.lm_vocab_missing)} ({r.oov_mode}"
                            + (f", {len(r.g2p_words)} by G2P)" if r.g2p_words else ")") for r in results)
        title += f"; LM words without pronunciation: {missing}"
    return title + "\n" + text_table(rows)


def write_details(path: str | Path, results: Iterable[WerResult]) -> int:
    """Per-utterance details of every result as JSONL (one line per LM and utterance), atomically."""
    n = 0
    with atomic_write(path) as f:
        for r in results:
            for d in r.details:
                f.write(json.dumps({"lm": r.lm, **d}, ensure_ascii=False) + "\n")
                n += 1
    return n


def write_report(path: str | Path, results: Sequence[WerResult]) -> None:
    """All figures as one JSON document (a list of result summaries plus the table), atomically."""
    write_json(path, {"table": format_table(results), "results": [r.to_json() for r in results]})


class WerResults(list):
    """The results of several LMs on one test set (a list of :class:`WerResult`, first = baseline),
    with the result protocol: ``summary()`` is the comparison table, ``to_json()`` the report."""

    def summary(self) -> str:
        return format_table(self)

    def to_json(self) -> dict:
        return {"table": format_table(self), "results": [r.to_json() for r in self]}

    def notes(self) -> list[str]:
        """Warnings for people: LM words a decoder had no pronunciation for."""
        out = []
        for r in self:
            if r.lm_vocab_missing:
                shown = " ".join(r.lm_vocab_missing[:20]) + (" ..." if len(r.lm_vocab_missing) > 20 else "")
                out.append(f"{r.lm}: {len(r.lm_vocab_missing)} LM word(s) without pronunciation: {shown}")
        return out

    def write(self, details: str | Path | None = None, json_out: str | Path | None = None) -> None:
        """Write per-utterance ``details`` (JSONL) and the ``json_out`` report, when given."""
        if details is not None:
            write_details(details, self)
        if json_out is not None:
            write_report(json_out, self)
