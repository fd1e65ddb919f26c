"""WER of LMs by n-best rescoring (λ·LM + μ·length, the rescoring stage's code: :mod:`lmboot.rescore`).

>>> from lmboot.evaluate import wer_from_nbest, format_table
>>> results = wer_from_nbest("test.nbest.jsonl", ["seed.bin", "final.bin"],
...                          tune_on="dev.nbest.jsonl")                    # doctest: +SKIP
>>> print(format_table(results))                                           # doctest: +SKIP

Vocabulary honesty: a recogniser cannot output a word its LM does not know. Every LM is
treated the same way: with ``oov="penalty"`` (default) each unknown word of a hypothesis is
charged one fixed log10 penalty (``oov_penalty``, :data:`lmboot.lm.score.DEFAULT_OOV_PENALTY`) instead of that LM's own
``<unk>`` probability; with ``oov="exclude"`` hypotheses with unknown words cannot be chosen
(when every hypothesis of an utterance has one, those with the fewest remain). In both modes
an unknown word left in the chosen output is written as ``<unk>`` and so always counts as an
error: a small LM cannot look better by not knowing the test words.
"""
from __future__ import annotations

import copy
import logging
import time
from pathlib import Path
from typing import Sequence

from lmboot.errors import LmbootError
from lmboot.evaluate.results import WerResult, WerResults
from lmboot.io.nbest import NbestReader, open_nbest
from lmboot.lm.score import DEFAULT_OOV_PENALTY, LMScorer
from lmboot.metrics import utterance_errors, word_edit_distance, word_errors
from lmboot.rescore import DEFAULT_LENGTH_PENALTIES, DEFAULT_LM_WEIGHTS, Weights, rescore, tune
from lmboot.text.normalize import Normalizer

log = logging.getLogger("lmboot")

UNK = "<unk>"
OOV_MODES = ("penalty", "exclude")


def load_entries(nbest: str | Path | NbestReader, normalizer: Normalizer | None = None) -> list[dict]:
    """Read n-best entries (any accepted format) with ``ref`` and hypothesis texts normalised."""
    reader = nbest if isinstance(nbest, NbestReader) else open_nbest(nbest)
    norm = normalizer or Normalizer()
    out = []
    for e in reader.read():
        e = copy.deepcopy(e)
        e["ref"] = norm(e["ref"])
        for h in e["hyps"]:
            h["text"] = norm(h["text"])
            h.setdefault("tokens", len(h["text"].split()))
        out.append(e)
    if not out:
        raise LmbootError("no n-best entries", path=reader.name)
    return out


def _list_stats(entries: list[dict]) -> tuple:
    refs = [e["ref"] for e in entries]
    first = [e["hyps"][0]["text"] for e in entries]
    oracle = [min((h["text"] for h in e["hyps"]), key=lambda t, r=e["ref"]: word_edit_distance(r, t))
              for e in entries]
    return word_errors(refs, first, normalizer=None), word_errors(refs, oracle, normalizer=None), oracle


def _restrict(entries: list[dict], vocab: LMScorer) -> list[dict]:
    """Exclude mode: keep, per utterance, the hypotheses with the fewest unknown words."""
    out = []
    for e in entries:
        n_unk = [len(vocab.unknown(h["text"])) for h in e["hyps"]]
        m = min(n_unk)
        e2 = dict(e)
        e2["hyps"] = [h for h, k in zip(e["hyps"], n_unk) if k == m]
        e2["_orig_index"] = [i for i, k in enumerate(n_unk) if k == m]
        out.append(e2)
    return out


def wer_from_nbest(nbest: str | Path | NbestReader, lm_paths: Sequence[str | Path], tune_on=None,
                   oov: str = "penalty", oov_penalty: float = DEFAULT_OOV_PENALTY, weights=None,
                   normalizer: Normalizer | None = None, lm_weights: Sequence[float] | None = None,
                   length_penalties: Sequence[float] | None = None,
                   names: Sequence[str] | None = None, details: str | Path | None = None,
                   json_out: str | Path | None = None) -> WerResults:
    """Rescore the n-best lists of ``nbest`` with each LM and measure WER (one result per LM).

    ``tune_on``: n-best lists (path or reader) of a dev part; the LM weight λ and length
    weight μ are then tuned for each LM separately on it (grid ``lm_weights`` x
    ``length_penalties``, by default the rescoring stage's grid, by WER) with
    :func:`lmboot.rescore.tune`; otherwise ``weights``
    (a :class:`lmboot.rescore.Weights`, default λ=1, μ=0) is used for every LM.
    ``oov``: "penalty" or "exclude" (see the module doc). ``details`` (per-utterance JSONL)
    and ``json_out`` (the report) are written when given.
    """
    if oov not in OOV_MODES:
        raise LmbootError(f"oov must be one of {', '.join(OOV_MODES)}, not {oov!r}")
    if not lm_paths:
        raise LmbootError("no language model given")
    norm = normalizer or Normalizer()
    reader = nbest if isinstance(nbest, NbestReader) else open_nbest(nbest)
    entries = load_entries(reader, norm)
    dev = load_entries(tune_on, norm) if tune_on is not None else None
    dev_name = (tune_on.name if isinstance(tune_on, NbestReader) else str(tune_on)) if tune_on is not None else None
    simulated = any(bool(e.get("simulated")) for e in entries)
    first_pass, oracle, oracle_texts = _list_stats(entries)
    names = list(names) if names else [str(p) for p in lm_paths]
    results = WerResults()
    for lm_path, name in zip(lm_paths, names):
        t0 = time.perf_counter()
        # One model per LM: it scores the hypotheses and says which words it knows (cached).
        scorer = LMScorer(lm_path, normalizer=norm, oov_penalty=oov_penalty if oov == "penalty" else None)
        test = _restrict(entries, scorer) if oov == "exclude" else entries
        w, before, after = (weights or Weights()), None, None
        if dev is not None:
            d = _restrict(dev, scorer) if oov == "exclude" else dev
            tr = tune(d, scorer, metric="wer", lm_weights=tuple(lm_weights or DEFAULT_LM_WEIGHTS),
                      length_penalties=tuple(length_penalties or DEFAULT_LENGTH_PENALTIES))
            w, before, after = tr.weights, tr.before / 100, tr.after / 100
        chosen, rows, n_unk = [], [], 0
        for e, e_orig, orc in zip(rescore(test, scorer, w), entries, oracle_texts):
            best = e["best"]
            if "_orig_index" in e:
                best = e["_orig_index"][best]
            text = e_orig["hyps"][best]["text"]
            unknown = set(scorer.unknown(text))
            if unknown:
                n_unk += sum(1 for x in text.split() if x in unknown)
                text = " ".join(UNK if x in unknown else x for x in text.split())
            chosen.append(text)
            rows.append({"id": e_orig.get("id"), "ref": e_orig["ref"], "hyp": text, "best": best,
                            "first_pass": e_orig["hyps"][0]["text"], "oracle": orc,
                            "unknown_words": sorted(unknown)})
        counts = word_errors([e["ref"] for e in entries], chosen, normalizer=None)
        for d in rows:
            d.update(utterance_errors(d["ref"], d["hyp"]))
        results.append(WerResult(
            lm=name, method="rescore", counts=counts, first_pass=first_pass, oracle=oracle, simulated=simulated,
            oov_mode=oov, oov_penalty=oov_penalty if oov == "penalty" else None,
            weights=_weights_dict(w), tuned_on=dev_name, tune_before=before, tune_after=after,
            chosen_oov_words=n_unk, seconds=time.perf_counter() - t0, details=rows))
        log.info("%s: WER %.2f%% (%s)", name, 100 * counts.wer, "simulated" if simulated else "rescored")
    results.write(details, json_out)
    return results


def _weights_dict(w) -> dict:
    return {"lm_weight": w.lm_weight, "length_penalty": w.length_penalty, "norm_exponent": w.norm_exponent}
