"""The pipeline's steps: thin adapters from a step's inputs and parameters to the library.

Each function is ``fn(out_dir, inputs, params) -> (outputs, metrics)`` (see
:class:`lmboot.pipeline.runner.Step`); the library modules do the work. Every choice that
shapes the translated LM text is judged on the in-domain dev text by the final LM it would
make (:class:`lmboot.lm.objective.DevObjective`): which translator (selection fine-tuning and
self-training keep the adapted translator only if it is better), the rescoring weights, how
many hypotheses per sentence, and the winnowing threshold. Each of those checks can switch
its technique off, and the step's metrics say so.
"""
from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path
from typing import Any

from lmboot.errors import LmbootError
from lmboot.io.corpus import (atomic_path, atomic_write, chunked, iter_raw_lines, read_bitext, read_lines,
                               write_bitext, write_json, write_lines)
from lmboot.text.normalize import Normalizer

log = logging.getLogger("lmboot")


# --------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------
def objective(i: dict, p: dict, out: Path):
    """The dev objective of the final LM: seed LM + best-baseline general LM + a candidate text."""
    from lmboot.lm.objective import DevObjective

    obj = DevObjective([i["seed_lm"], i["general_lm"]], i["dev"], order=p["lm_order"], oov_penalty=p["oov_penalty"],
                       work_dir=out)
    if obj.unknown_rate() > 0.5:
        log.warning("%.0f%% of the dev tokens are unknown to the seed and general LMs: dev decisions rest on "
                    "little evidence", 100 * obj.unknown_rate())
    return obj


def _engine_kwargs(p: dict) -> dict:
    return {} if p.get("engine", "fairseq2") == "fairseq2" else {"engine": p["engine"]}


def _translate_kwargs(p: dict) -> dict:
    return {"no_repeat_ngram_size": p["no_repeat_ngram_size"], "threads": p["threads"], **_engine_kwargs(p)}


def judge(obj, check_src: str | Path, out: Path, p: dict):
    """Judge translators by the dev objective of their top-1 translations of the check sentences."""
    from lmboot.nmt.adapt import lm_judge

    return lm_judge(obj, check_src, out, beam=p["beam"], **_translate_kwargs(p))


def _norm_pairs(pairs, normalize: bool):
    if not normalize:
        return [(s, t) for s, t in pairs]
    norm = Normalizer()
    src, tgt = norm.batch([s for s, _ in pairs]), norm.batch([t for _, t in pairs])
    return [(s, t) for s, t in zip(src, tgt) if s and t]


def mt_scores(hyp: str | Path, ref: str | Path) -> dict:
    """BLEU and chrF of a top-1 text against references (sacrebleu, with signatures)."""
    from lmboot.metrics import mt_scores as scores

    hyps = Path(hyp).read_text(encoding="utf-8").splitlines()
    refs = Path(ref).read_text(encoding="utf-8").splitlines()[: len(hyps)]
    return scores(hyps, refs)


# --------------------------------------------------------------------------------------
# Text form
# --------------------------------------------------------------------------------------
#: Data files in the source language; every other one is in the target language.
SOURCE_SIDE = ("source", "general_src")


def spoken(out: Path, i: dict, p: dict):
    """Spoken-form copies of the data files (numbers, dates, times, currencies and symbols as
    words), line for line (empty lines kept: the bitext stays aligned), that every later step
    reads instead of the originals."""
    from lmboot.text.spoken import spoken_form_batch

    outs, changed = {}, {}
    for key, path in i.items():
        lang = p["src_lang"] if key in SOURCE_SIDE else p["tgt_lang"]
        dest = out / f"{key}{Path(path).suffix}"  # the suffix kept: selection names its outputs by it
        n = 0
        with atomic_write(dest) as f:
            for chunk in chunked((t for _, t in iter_raw_lines(path, f"[data] {key}")), 4096):
                said = spoken_form_batch(chunk, lang)
                n += sum(a != b for a, b in zip(chunk, said))
                f.write("".join(f"{x}\n" for x in said))
        outs[key], changed[key] = dest, n
    return outs, {"lines_changed": changed, "src_lang": p["src_lang"], "tgt_lang": p["tgt_lang"]}


def _text_form(p: dict) -> Normalizer:
    """The normaliser of a step's text: spoken form in the target language when the run has it."""
    return Normalizer(spoken_form=True, lang=p["spoken_lang"]) if p.get("spoken_lang") else Normalizer()


# --------------------------------------------------------------------------------------
# Seed LM and the baselines without translation
# --------------------------------------------------------------------------------------
def seed_lm(out: Path, i: dict, p: dict):
    from lmboot import lm

    r = lm.train(i["text"], out / "seed.arpa", order=p["order"], binary=out / "seed.bin")
    return {"arpa": r.arpa, "binary": r.binary}, {"sentences": r.sentences, "tokens": r.tokens,
                                                  "discount_fallback": r.discount_fallback}


def select(out: Path, i: dict, p: dict):
    from lmboot import select as sel

    kw = {k: v for k, v in p.items() if k in ("keep_fraction", "k", "dim")}
    r = sel.select(i["src"], i["tgt"], i["seed"], out, method=p["method"], random_seed=p["seed"], **kw)
    outs = {"src": r.selected_src, "tgt": r.selected_tgt, "scores": r.scores_path, "summary": r.summary_path}
    if r.histogram_path:
        outs["histogram"] = r.histogram_path
    return outs, {"total": r.total, "kept": r.kept, "rule": r.rule, "threshold": r.threshold,
                  "sentences_per_s": round(r.sentences_per_s, 1)}


def lm_build(out: Path, i: dict, p: dict):
    """One interpolated LM of the text sources ``text:NAME`` (components cached run-wide)."""
    from lmboot import lm

    sources = [(k.split(":", 1)[1], v) for k, v in i.items() if k.startswith("text:")]
    empty = [k for k, v in sources if Path(v).stat().st_size == 0]
    for k in empty:
        log.warning("lm build: source %s is empty (nothing survived the earlier steps); left out", k)
    sources = [(k, v) for k, v in sources if k not in empty]
    interp = lm.LinearInterpolator(min_weight=p["min_weight"]) if p["method"] == "linear" else p["method"]
    # The composition step's choice of the translations' order (see compose()).
    orders = json.loads(Path(i["orders"]).read_text(encoding="utf-8"))["orders"] if i.get("orders") else {}
    orders = {k: v for k, v in orders.items() if k in dict(sources)}
    max_size = p.get("max_size")
    # With a size budget the interpolated LM is pruned to it; lm.arpa/lm.bin are the pruned model.
    full = out / ("lm.full.arpa" if max_size else "lm.arpa")
    # Component LMs live in one run-wide cache: the seed and general LMs are trained once.
    r = lm.build(sources, i["dev"], full, order=p["order"], method=interp,
                 binary=None if max_size else out / "lm.bin", work_dir=out.parent / "lm-parts", orders=orders)
    dropped = r.tuning.get("dropped") or []
    outs = {"arpa": out / "lm.arpa", "binary": out / "lm.bin"}
    outs.update({f"part:{c.name}": c.arpa for c in r.components})
    metrics = {"weights": {k: round(v, 4) for k, v in r.weights.items()}, "method": p["method"],
               **({"orders": orders} if orders else {}),
               "left_out": empty + dropped, "dev_ppl_common": round(r.mix_ppl_common, 2),
               "components": {c.name: round(c.dev_ppl_common, 2) for c in r.components}}
    if max_size:
        # P(h) from the LM's own texts, weighted as interpolated (better than the chain rule of a
        # Kneser-Ney model: docs/lm-build.md, "Size budget").
        history = [(path, r.weights[name]) for name, path in sources if r.weights.get(name, 0) > 0]
        pr = lm.prune(full, out / "lm.arpa", max_size=max_size, binary=out / "lm.bin", history=history)
        # The pruned model keeps every word, so its dev ppl_common compares with the full one's.
        ev = lm.evaluate([out / "lm.bin"], i["dev"])
        outs["full_arpa"] = full
        metrics["pruned"] = {"max_size": pr.max_size, "binary_bytes": pr.binary_bytes,
                             "threshold": pr.threshold, "ngrams_before": pr.ngrams_before,
                             "ngrams_after": pr.ngrams_after, "dev_ppl_common": round(ev.models[0].ppl_common, 2),
                             "seconds": round(pr.seconds, 1)}
    return outs, metrics


def baseline(out: Path, i: dict, p: dict):
    """The best LM without translation: seed + all general text, or + Moore-Lewis-selected text,
    whichever has the lower dev perplexity (both scored in one common vocabulary)."""
    from lmboot import lm

    names = [k.split(":", 1)[1] for k in i if k.startswith("lm:")]
    ev = lm.evaluate([i[f"lm:{n}"] for n in names], i["dev"], names=names, oov_penalty=p["oov_penalty"])
    dev = {m.model: round(m.ppl_common, 2) for m in ev.models}
    chosen = min(names, key=lambda n: (dev[n], names.index(n))) if p["general"] == "best" else p["general"]
    lm.build_binary(i[f"part:{chosen}"], out / "general.bin")
    choice = out / "choice.json"
    write_json(choice, {"baseline": chosen, "dev_ppl_common": dev})
    return {"text": i[f"text:{chosen}"], "lm": out / "general.bin", "mix": i[f"lm:{chosen}"], "choice": choice}, {
        "best": chosen, "dev_ppl_common": dev}


# --------------------------------------------------------------------------------------
# Translator
# --------------------------------------------------------------------------------------
def source(out: Path, i: dict, p: dict):
    """The in-domain source text to translate (normalised like the translator's bitext), the
    held-out check sentences that judge translators, and the rest (for self-training)."""
    if i.get("ref"):  # line-aligned: a pair with an empty side is skipped
        pairs = list(read_bitext(i["source"], i["ref"]))
        lines, refs = [s for s, _ in pairs], [t for _, t in pairs]
    else:
        lines, refs = list(read_lines(i["source"], "in-domain source")), None
    if p["normalize"]:
        norm = Normalizer()
        normed = norm.batch(lines)
        keep = [j for j, s in enumerate(normed) if s]
        lines = [normed[j] for j in keep]
        if refs is not None:
            rn = norm.batch(refs)
            refs = [rn[j] for j in keep]
    if not lines:
        raise LmbootError("the in-domain source has no sentence left after normalisation", path=i["source"])
    n_check = min(p["sentences"], max(1, len(lines) // 2))
    check = set(random.Random(p["seed"]).sample(range(len(lines)), n_check))
    write_lines(out / "source.txt", lines)
    write_lines(out / "check.txt", [x for j, x in enumerate(lines) if j in check])
    write_lines(out / "rest.txt", [x for j, x in enumerate(lines) if j not in check])
    outs = {"text": out / "source.txt", "check": out / "check.txt", "rest": out / "rest.txt"}
    if refs is not None:
        write_lines(out / "ref.txt", refs)
        outs["ref"] = out / "ref.txt"
    return outs, {"sentences": len(lines), "check": n_check, "normalized": p["normalize"]}


def split_dev(out: Path, i: dict, p: dict):
    """Hold out ``dev_pairs`` pairs of the training bitext (every n-th) for NMT validation;
    with ``normalize`` both sides are normalised as the LM text is first."""
    pairs = _norm_pairs(list(read_bitext(i["src"], i["tgt"])), p["normalize"])
    if len(pairs) < 2:
        raise LmbootError("the general bitext has fewer than 2 usable pairs", path=i["src"])
    n = max(1, min(p["dev_pairs"], len(pairs) // 10))
    every = max(1, len(pairs) // n)
    dev_idx = {j for j in range(len(pairs)) if j % every == every - 1 and j // every < n}
    dev = [x for j, x in enumerate(pairs) if j in dev_idx]
    train = [x for j, x in enumerate(pairs) if j not in dev_idx]
    write_bitext(train, out / "train.src", out / "train.tgt")
    write_bitext(dev, out / "dev.src", out / "dev.tgt")
    return ({"train_src": out / "train.src", "train_tgt": out / "train.tgt", "dev_src": out / "dev.src",
             "dev_tgt": out / "dev.tgt"}, {"train": len(train), "dev": len(dev)})


def oversample(out: Path, i: dict, p: dict):
    """The translator's training bitext weighted toward the domain: every pair, and the
    ``keep_fraction`` nearest the domain ``repeat`` times (bilingual Moore-Lewis: target side
    against the seed, source side against the in-domain source text)."""
    from lmboot import select as sel

    r = sel.select(i["src"], i["tgt"], i["seed"], out, method="moore-lewis", keep_fraction=p["keep_fraction"],
                   source_domain=i["source"], repeat=p["repeat"], random_seed=p["seed"])
    return ({"src": r.selected_src, "tgt": r.selected_tgt, "scores": r.scores_path, "summary": r.summary_path},
            {"total": r.total, "kept": r.kept, "repeat": r.repeat, "written": r.written, "threshold": r.threshold})


def spm(out: Path, i: dict, p: dict):
    from lmboot import nmt

    r = nmt.train_spm([i["src"]], [i["tgt"]], out / "spm.model", vocab_size=p["vocab_size"], seed=p["seed"])
    return {"model": r.model}, {"vocab_size": r.vocab_size}


def _dev_metrics(best: dict | None) -> dict:
    return {f"dev_{k}": v for k, v in (best or {}).items() if isinstance(v, (int, float)) and k != "step"}


def nmt_train(out: Path, i: dict, p: dict):
    from lmboot import nmt

    r = nmt.train(i["src"], i["tgt"], out / "model", src_lang=p["src_lang"], tgt_lang=p["tgt_lang"],
                  dev_src=i["dev_src"], dev_tgt=i["dev_tgt"], preset=p["preset"], spm_model=i["spm"],
                  max_steps=p["max_steps"], max_time=p["max_time"], valid_every=p["valid_every"],
                  patience=p["patience"], lr=p["lr"], batch_tokens=p["batch_tokens"], seed=p["seed"],
                  threads=p["threads"], precision=p["precision"], deterministic=p["deterministic"],
                  average=p["average"])
    m = {"steps": r.steps, "stopped": r.stopped, "seconds": round(r.seconds, 1),
         "target_tokens_per_s": round(r.target_tokens_per_s, 1), "precision": r.precision,
         "deterministic": r.deterministic, "best_step": r.best_step, **_dev_metrics(r.best)}
    if r.averaged:
        m["averaged"] = {k: r.averaged[k] for k in ("steps", "chrf", "kept", "best_single")}
    return {"model": out / "model"}, m


def nmt_select(out: Path, i: dict, p: dict):
    """Embedding selection adapts the translator: fine-tune it on the selected pairs, keep the
    result only if it judges better on the in-domain check sentences."""
    from lmboot.nmt.adapt import best_dev_scores, fine_tune, keep_better

    fine_tune(i["model"], i["src"], i["tgt"], out / "model", steps=p["steps"], dev_src=i["dev_src"],
              dev_tgt=i["dev_tgt"], max_time=p["max_time"], seed=p["seed"], threads=p["threads"])
    v = keep_better(i["model"], out / "model", judge(objective(i, p, out), i["check"], out, p))
    return {"model": v.model_dir}, {
        "kept": v.chosen, "check_objective": {"original": round(v.original, 3), "adapted": round(v.adapted, 3)},
        "dev_chrf": {"original": (best_dev_scores(i["model"]) or {}).get("chrf"),
                     "adapted": (best_dev_scores(out / "model") or {}).get("chrf")}}


def self_train(out: Path, i: dict, p: dict):
    from lmboot import nmt

    r = nmt.self_train(i["model"], i["source"], out, i["src"], i["tgt"], rounds=p["rounds"],
                       max_sentences=p["max_sentences"], steps=p["steps"], mix_ratio=p["mix_ratio"],
                       trust=p["trust"], max_time=p["max_time"], dev_src=i["dev_src"], dev_tgt=i["dev_tgt"],
                       judge=judge(objective(i, p, out), i["check"], out, p), beam=p["beam"],
                       translate_kwargs={k: v for k, v in _translate_kwargs(p).items() if k != "threads"},
                       seed=p["seed"], threads=p["threads"])
    v = r.verdict
    return {"model": r.model_dir}, {
        "kept": v.chosen, "check_objective": {"original": round(v.original, 3), "adapted": round(v.adapted, 3)},
        "synthetic_pairs": [x.kept for x in r.rounds],
        "dev_chrf": {"original": (r.dev.get("original") or {}).get("chrf"),
                     "adapted": (r.dev.get("fine-tuned") or {}).get("chrf")}}


def translate(out: Path, i: dict, p: dict):
    from lmboot import nmt

    r = nmt.translate(i["model"], i["source"], out / "nbest.jsonl", out / "top1.txt", beam=p["beam"],
                      nbest=p["nbest"], ref_path=i.get("ref"), **_translate_kwargs(p))
    m: dict[str, Any] = {"sentences": r.sentences, "sentences_per_s": round(r.sentences_per_s, 2)}
    if r.bleu is not None:
        m.update(bleu=round(r.bleu, 2), chrf=round(r.chrf, 2), bleu_signature=r.bleu_signature,
                 chrf_signature=r.chrf_signature)
    return {"nbest": r.out_jsonl, "top1": r.out_txt}, m


# --------------------------------------------------------------------------------------
# From n-best translations to LM text
# --------------------------------------------------------------------------------------
def rescore(out: Path, i: dict, p: dict):
    """Rescore with the seed LM; with ``tune``, lambda and mu are chosen by the dev objective
    of the final LM (lambda = mu = 0, the translator's own choice, is always a candidate)."""
    from lmboot import rescore as rs

    w = rs.Weights(lm_weight=p["lm_weight"], length_penalty=p["length_penalty"], norm_exponent=p["norm_exponent"])
    m: dict[str, Any] = {}
    run = rs.run(i["nbest"], i["lm"], out / "rescored.jsonl", out / "best.txt", weights=w, metric=None,
                 objective=objective(i, p, out) if p["tune"] else None)
    if run.tuning is not None:
        t = run.tuning
        m.update(tuned_on="dev objective", dev_objective_before=round(t.before, 3),
                 dev_objective_after=round(t.after, 3), distinct_choices=t.evaluated)
        write_json(out / "tuning.json", t.to_json())
    w, r = run.weights, run.rescored
    m.update(lm_weight=w.lm_weight, length_penalty=w.length_penalty, off=w.lm_weight == 0 and w.length_penalty == 0,
             entries=r.entries, changed=r.changed)
    if i.get("ref"):
        m.update(mt_scores(out / "best.txt", i["ref"]))
    return {"nbest": r.out_jsonl, "top1": r.out_txt}, m


def lmtext(out: Path, i: dict, p: dict):
    """LM text from the n-best lists: how many sound hypotheses per sentence, of how many of the
    most confident sentences, chosen by the dev objective."""
    from lmboot import lmtext as lt
    from lmboot.io.nbest import read_nbest

    entries = list(read_nbest(i["nbest"]))
    if p.get("spoken_lang"):  # a translator can still write digits: the LM text is in spoken form
        from lmboot.text.spoken import spoken_form_batch

        hyps = [h for e in entries for h in e["hyps"]]
        for h, t in zip(hyps, spoken_form_batch([h["text"] for h in hyps], p["spoken_lang"])):
            h["text"] = t
    nb, tr = p["nbest"][0], p["trust"][0]
    m: dict[str, Any] = {}
    if p["tune"]:
        obj = objective(i, p, out)
        t = lt.tune(entries, obj, p["nbest"], p["trust"], without=obj.without())
        nb, tr = t.nbest, t.trust
        m.update(dev_objective=round(t.objective, 3), dev_objective_without=round(t.without, 3))
        write_json(out / "tuning.json", t.to_json())
    r = lt.write(entries, out / "text.txt", nb, tr)
    m.update(nbest=nb, trust=tr, entries=r.entries, lines=r.lines)
    return {"text": r.out}, m


def winnow(out: Path, i: dict, p: dict):
    """Winnow by seed-LM perplexity; with ``tune`` the percentile (or none: keep all) is chosen
    by the dev objective."""
    from lmboot import winnow as wn

    pct = p["percentile"]
    m: dict[str, Any] = {}
    if p["tune"]:
        t = wn.tune(i["text"], i["lm"], i["dev"], objective(i, p, out), p["percentiles"])
        pct = t.percentile
        m.update(dev_objective=round(t.objective, 3))
        write_json(out / "tuning.json", t.to_json())
    if pct is None:
        with atomic_path(out / "kept.txt") as tmp:
            shutil.copyfile(i["text"], tmp)
        n = sum(1 for _ in read_lines(out / "kept.txt"))
        m.update(off=True, total=n, kept=n)
        return {"kept": out / "kept.txt"}, m
    # An ablation goes on when nothing passes (broken translations): the LM build then
    # leaves this source out, and the report shows kept=0.
    r = wn.winnow(i["text"], i["lm"], out, percentile=pct, dev=i["dev"], allow_empty=True)
    m.update(off=False, percentile=pct, total=r.total, kept=r.kept, threshold=round(r.threshold, 2))
    return {"kept": r.kept_path, "summary": r.summary_path, "histogram": r.histogram_path}, m


def compose(out: Path, i: dict, p: dict):
    """How the final LM uses the translations, chosen by the dev objective: the n-gram order of
    their component (``order``), and one more component of general text selected with seed +
    translations as the in-domain side (``steer``). Writes ``choice.json`` (read by the LM
    build) and ``steer.txt`` (empty when steering is off or rejected)."""
    from lmboot import lm
    from lmboot.lm.compose import choose_order, steer
    from lmboot.lm.objective import DevObjective

    lines = list(read_lines(i["text"], "translations"))
    m: dict[str, Any] = {}
    k = p["lm_order"]
    if p["order"] and lines:
        oc = choose_order(lambda n: DevObjective([i["seed_lm"], i["general_lm"]], i["dev"], order=n,
                                                 oov_penalty=p["oov_penalty"], work_dir=out),
                          lines, [n for n in p["orders"] if n <= p["lm_order"]])
        k = oc.order
        m.update(order=k, order_objectives={str(n): v for n, v in oc.objectives.items()})
    steer_txt = out / "steer.txt"
    if p["steer"] and lines:
        mt_arpa = out / "translations.arpa"
        lm.train(i["text"], mt_arpa, order=k)
        obj = DevObjective([i["seed_lm"], i["general_lm"], mt_arpa], i["dev"], order=p["lm_order"],
                           oov_penalty=p["oov_penalty"], work_dir=out)
        sr = steer(i["general_src"], i["general_tgt"], i["seed"], i["text"], out / "steer", obj, obj.without(),
                   fractions=p["fractions"], random_seed=p["seed"])
        shutil.move(str(sr.text), steer_txt)
        m.update(steer=sr.fraction is not None, steer_fraction=sr.fraction, steer_lines=sr.kept,
                 steer_objectives=sr.objectives)
    else:
        with atomic_path(steer_txt) as tmp:
            Path(tmp).write_text("", encoding="utf-8")
    write_json(out / "choice.json", {"orders": {p["name"]: k}, **m})
    return {"choice": out / "choice.json", "steer": steer_txt}, m


# --------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------
def evaluate(out: Path, i: dict, p: dict):
    from lmboot import lm as lm_mod

    systems = p["systems"]
    lms = [i[f"lm:{s}"] for s in systems]
    norm = _text_form(p)  # the test is already in the run's text form; the signature says which
    ppl = lm_mod.evaluate(lms, i["test"], names=systems, oov_penalty=p["oov_penalty"], normalizer=norm)
    write_json(out / "ppl.json", ppl.to_json())
    metrics: dict[str, Any] = {"ppl_signature": ppl.signature, "text_form": norm.signature, "systems": {}}
    if i.get("baseline"):
        metrics["best_baseline"] = json.loads(Path(i["baseline"]).read_text(encoding="utf-8"))["baseline"]
    for m in ppl.models:
        metrics["systems"][m.model] = {"ppl_common": round(m.ppl_common, 2), "ppl": round(m.ppl, 2),
                                       "oov_rate": round(m.oov_rate, 4)}
    outs = {"ppl": out / "ppl.json"}
    if p["simulate"]:
        from lmboot import evaluate as ev

        ev.simulate(i["test"], out / "test.sim.jsonl", vocab_from=[i["seed_text"], i["general_tgt"]],
                    target_wer=p["target_wer"], nbest=p["nbest"], seed=p["seed"])
        res = ev.wer_from_nbest(out / "test.sim.jsonl", lms, names=systems, oov_penalty=p["oov_penalty"])
        for s, r in zip(systems, res):
            metrics["systems"][s]["wer_simulated"] = round(r.wer, 4)
        metrics["first_pass_wer"] = round(res[0].first_pass.wer, 4) if res[0].first_pass else None
        metrics["oracle_wer"] = round(res[0].oracle.wer, 4) if res[0].oracle else None
        outs["simulated_nbest"] = out / "test.sim.jsonl"
    return outs, metrics
