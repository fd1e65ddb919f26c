"""``lmboot run``: the whole pipeline from one TOML config, resumable, with a report.

A run directory holds one subdirectory per step and ``manifest.json`` (FORMATS.md): per step
its inputs (path, size, sha256), parameters, outputs, start/end times and metrics. A step
whose inputs and parameters are unchanged and whose outputs exist is skipped on re-run, so a
killed run re-run picks up where it stopped (NMT training also resumes from its last
checkpoint inside the step).

A run builds one or more *systems* (LMs). The normal run builds the seed-only LM and the
pipeline system the config's stage switches describe; ``--ablation`` builds the baselines
and the paper's one-technique-at-a-time systems, sharing every step they have in common:

==============  ==============================================================
seed            seed LM only
general         seed + all general target text, interpolated
moore-lewis     seed + Moore-Lewis-selected general target text
mt              seed + raw top-1 translations (NMT on all general bitext)
mt+select       ... NMT trained on the embedding-selected bitext
mt+selftrain    ... NMT fine-tuned on its own in-domain translations
mt+rescore      ... n-best translations rescored with the seed LM
mt+winnow       ... translations winnowed by seed-LM perplexity
full            all four techniques together
==============  ==============================================================

>>> res = run("configs/toy.toml")                  # doctest: +SKIP
>>> print(res.table)                               # doctest: +SKIP
"""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import shutil
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lmboot.corpus import atomic_path, atomic_write, check_file
from lmboot.errors import LmbootError

log = logging.getLogger("lmboot")

STAGES = ("seed-lm", "select", "spm", "nmt", "self-train", "translate", "rescore", "winnow", "lm", "eval")

DEFAULTS: dict[str, Any] = {
    "run": {"dir": "runs/default", "seed": 1, "src_lang": "src", "tgt_lang": "tgt", "threads": None},
    "data": {"seed": None, "dev": None, "test": None, "source": None, "source_ref": None,
             "general_src": None, "general_tgt": None},
    "stages": {"select": True, "self_train": True, "rescore": True, "winnow": True},
    "seed_lm": {"order": 3},
    "select": {"method": "centroid", "keep_fraction": 0.3, "k": 5, "dim": 128},
    "moore_lewis": {"keep_fraction": 0.3},
    "nmt": {"preset": "tiny", "vocab_size": 1000, "max_steps": 400, "max_time": None, "valid_every": 200,
            "dev_pairs": 100, "patience": None},
    "self_train": {"rounds": 1, "max_sentences": 500, "steps": 150, "mix_ratio": 1.0},
    "translate": {"beam": 5, "nbest": 5},
    "rescore": {"tune": True, "lm_weight": 0.3, "length_penalty": 0.0, "norm_exponent": 0.0},
    "winnow": {"percentile": 95},
    "lm": {"order": 3, "method": "linear"},
    "eval": {"simulate": True, "target_wer": 0.25, "nbest": 10, "oov_penalty": -7.0},
}

ABLATION = ("seed", "general", "moore-lewis", "mt", "mt+select", "mt+selftrain", "mt+rescore", "mt+winnow", "full")


# --------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------
def _merge(base: dict, over: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if k not in base:
            raise LmbootError(f"unknown config key [{where}] {k}" if where else f"unknown config section [{k}]")
        out[k] = _merge(base[k], v, k) if isinstance(base[k], dict) and isinstance(v, dict) else v
    return out


def load_config(path: str | Path, overrides: dict | None = None) -> dict:
    """Read a TOML config; data paths are relative to the config file. Unknown keys are errors."""
    p = check_file(path, "config")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise LmbootError(f"not valid TOML ({e})", path=p) from None
    try:
        cfg = _merge(DEFAULTS, raw, "")
        if overrides:
            cfg = _merge(cfg, overrides, "")
    except LmbootError as e:
        raise LmbootError(e.message, path=p) from None
    base = p.parent
    for k, v in cfg["data"].items():
        if v is not None:
            cfg["data"][k] = str((base / v).resolve()) if not os.path.isabs(v) else v
    cfg["run"]["dir"] = str((base / cfg["run"]["dir"]).resolve())
    for k in ("seed", "dev", "test", "source", "general_src", "general_tgt"):
        if not cfg["data"][k]:
            raise LmbootError(f"[data] {k} is required", path=p)
        check_file(cfg["data"][k], f"[data] {k}")
    return cfg


# --------------------------------------------------------------------------------------
# Manifest and steps
# --------------------------------------------------------------------------------------
def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _file_record(path: str | Path) -> dict:
    """Path, size and sha256 of a file; of a directory (a model), over its files' names and hashes."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file())
        h = hashlib.sha256()
        for f in files:
            h.update(f"{f.relative_to(p)}\0{sha256(f)}\n".encode())
        return {"path": str(p), "size": sum(f.stat().st_size for f in files), "sha256": h.hexdigest()}
    return {"path": str(p), "size": p.stat().st_size, "sha256": sha256(p)}


@dataclass
class Step:
    """One unit of work: ``fn(out_dir, inputs, params) -> (outputs, metrics)``.

    ``outputs`` maps names to files (directories are recorded by path only); ``stage`` is the
    family (STAGES) that ``--from``/``--until`` and the config switches refer to.
    """

    name: str
    stage: str
    fn: Callable[[Path, dict, dict], tuple[dict, dict]]
    inputs: dict[str, str] = field(default_factory=dict)
    params: dict = field(default_factory=dict)


class Manifest:
    def __init__(self, path: Path):
        self.path = path
        self.data = {"version": 1, "steps": {}}
        if path.exists():
            try:
                self.data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                raise LmbootError("manifest is not valid JSON; remove it to start over", path=path) from None

    def save(self) -> None:
        with atomic_write(self.path) as f:
            json.dump(self.data, f, ensure_ascii=False, indent=2)
            f.write("\n")

    def fingerprint(self, step: Step, inputs: dict[str, dict]) -> str:
        blob = json.dumps({"params": step.params, "inputs": {k: v["sha256"] for k, v in inputs.items()}},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def done(self, step: Step, fp: str) -> dict | None:
        e = self.data["steps"].get(step.name)
        if not e or e.get("fingerprint") != fp or e.get("status") != "done":
            return None
        for rec in e["outputs"].values():
            p = Path(rec["path"])
            if not p.exists() or ("sha256" in rec and p.is_file() and p.stat().st_size != rec["size"]):
                return None
        return e


def _run_steps(steps: list[Step], run_dir: Path, manifest: Manifest, force_from: str | None,
               until: str | None) -> dict[str, dict]:
    """Run (or skip) steps in order; returns each step's output paths by name."""
    results: dict[str, dict] = {}
    for step in steps:
        forcing = force_from is not None and STAGES.index(step.stage) >= STAGES.index(force_from)
        if until and STAGES.index(step.stage) > STAGES.index(until):
            log.info("stop before %s (--until %s)", step.name, until)
            break
        inputs = {k: _resolve(v, results) for k, v in step.inputs.items()}
        in_records = {k: _file_record(v) for k, v in inputs.items() if v is not None and Path(v).exists()}
        fp = manifest.fingerprint(step, in_records)
        prior = None if forcing else manifest.done(step, fp)
        if prior is not None:
            log.info("step %-28s unchanged, skipped", step.name)
            results[step.name] = {k: r["path"] for k, r in prior["outputs"].items()}
            continue
        out_dir = run_dir / step.name
        out_dir.mkdir(parents=True, exist_ok=True)
        log.info("step %-28s running", step.name)
        start = time.time()
        manifest.data["steps"][step.name] = {"stage": step.stage, "status": "running", "fingerprint": fp,
                                             "inputs": in_records, "params": step.params,
                                             "start": _stamp(start), "outputs": {}, "metrics": {}}
        manifest.save()
        outputs, metrics = step.fn(out_dir, inputs, step.params)
        end = time.time()
        out_records = {k: _file_record(v) for k, v in outputs.items() if v is not None}
        manifest.data["steps"][step.name].update(status="done", end=_stamp(end), seconds=round(end - start, 2),
                                                 outputs=out_records, metrics=metrics)
        manifest.save()
        results[step.name] = {k: str(v) for k, v in outputs.items()}
    return results


def _resolve(ref: str | None, results: dict) -> str | None:
    """An input is a file path or ``@step:output`` naming an earlier step's output."""
    if ref is None or not ref.startswith("@"):
        return ref
    name, key = ref[1:].rsplit(":", 1)
    return results[name][key]


def _stamp(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


# --------------------------------------------------------------------------------------
# Stage functions (thin: the library modules do the work)
# --------------------------------------------------------------------------------------
def _seed_lm(out: Path, i: dict, p: dict):
    from lmboot import lm

    r = lm.train(i["text"], out / "seed.arpa", order=p["order"], binary=out / "seed.bin")
    return {"arpa": r.arpa, "binary": r.binary}, {"sentences": r.sentences, "tokens": r.tokens,
                                                  "discount_fallback": r.discount_fallback}


def _select(out: Path, i: dict, p: dict):
    from lmboot import select as sel

    kw = {k: v for k, v in p.items() if k in ("keep_fraction", "k", "dim")}
    r = sel.select(i["src"], i["tgt"], i["seed"], out, method=p["method"], random_seed=p["seed"], **kw)
    outs = {"src": r.selected_src, "tgt": r.selected_tgt, "scores": r.scores_path, "summary": r.summary_path}
    if r.histogram_path:
        outs["histogram"] = r.histogram_path
    return outs, {"total": r.total, "kept": r.kept, "rule": r.rule, "threshold": r.threshold,
                  "sentences_per_s": round(r.sentences_per_s, 1)}


def _split_dev(out: Path, i: dict, p: dict):
    """Hold out ``dev_pairs`` pairs of the training bitext (every n-th) for NMT validation."""
    from lmboot.corpus import read_bitext, write_bitext

    pairs = list(read_bitext(i["src"], i["tgt"]))
    n = min(p["dev_pairs"], max(1, len(pairs) // 10))
    every = max(1, len(pairs) // n)
    dev = [x for j, x in enumerate(pairs) if j % every == every - 1][:n]
    dev_idx = {j for j in range(len(pairs)) if j % every == every - 1 and j // every < n}
    train = [x for j, x in enumerate(pairs) if j not in dev_idx]
    write_bitext(train, out / "train.src", out / "train.tgt")
    write_bitext(dev, out / "dev.src", out / "dev.tgt")
    return ({"train_src": out / "train.src", "train_tgt": out / "train.tgt", "dev_src": out / "dev.src",
             "dev_tgt": out / "dev.tgt"}, {"train": len(train), "dev": len(dev)})


def _spm(out: Path, i: dict, p: dict):
    from lmboot import nmt

    r = nmt.train_spm([i["src"]], [i["tgt"]], out / "spm.model", vocab_size=p["vocab_size"], seed=p["seed"])
    return {"model": r.model if hasattr(r, "model") else out / "spm.model"}, {"vocab_size": p["vocab_size"]}


def _nmt(out: Path, i: dict, p: dict):
    from lmboot import nmt

    r = nmt.train(i["src"], i["tgt"], out / "model", src_lang=p["src_lang"], tgt_lang=p["tgt_lang"],
                  dev_src=i["dev_src"], dev_tgt=i["dev_tgt"], preset=p["preset"], spm_model=i["spm"],
                  max_steps=p["max_steps"], max_time=p["max_time"], valid_every=p["valid_every"],
                  patience=p["patience"], seed=p["seed"], threads=p["threads"])
    best = r.best or {}
    return {"model": out / "model"}, {"steps": r.steps, "stopped": r.stopped, "seconds": round(r.seconds, 1),
                                      "target_tokens_per_s": round(r.target_tokens_per_s, 1),
                                      **{k if k.startswith("dev_") else f"dev_{k}": v for k, v in best.items()
                                         if isinstance(v, (int, float))}}


def _self_train(out: Path, i: dict, p: dict):
    from lmboot import nmt

    r = nmt.self_train(i["model"], i["source"], out, i["src"], i["tgt"], rounds=p["rounds"],
                       max_sentences=p["max_sentences"], steps=p["steps"], mix_ratio=p["mix_ratio"],
                       dev_src=i["dev_src"], dev_tgt=i["dev_tgt"], seed=p["seed"], threads=p["threads"])
    return {"model": r.model_dir}, {"rounds": len(r.rounds), "kept": [x.kept for x in r.rounds]}


def _translate(out: Path, i: dict, p: dict):
    from lmboot import nmt

    r = nmt.translate(i["model"], i["source"], out / "nbest.jsonl", out / "top1.txt", beam=p["beam"],
                      nbest=p["nbest"], ref_path=i.get("ref"), threads=p["threads"])
    m = {"sentences": r.sentences, "sentences_per_s": round(r.sentences_per_s, 2)}
    if r.bleu is not None:
        m.update(bleu=round(r.bleu, 2), chrf=round(r.chrf, 2), bleu_signature=r.bleu_signature,
                 chrf_signature=r.chrf_signature)
    return {"nbest": r.out_jsonl, "top1": r.out_txt}, m


def _rescore(out: Path, i: dict, p: dict):
    """Rescore with the seed LM; with ``tune``, λ and μ are first tuned (chrF) on n-best
    translations of the NMT dev split, whose references are known (source_ref never is used)."""
    from lmboot import nmt, rescore

    w = rescore.Weights(lm_weight=p["lm_weight"], length_penalty=p["length_penalty"],
                        norm_exponent=p["norm_exponent"])
    m: dict[str, Any] = {}
    if p["tune"]:
        nmt.translate(i["model"], i["dev_src"], out / "dev.nbest.jsonl", ref_path=i["dev_tgt"],
                      beam=p["beam"], nbest=p["nbest"], threads=p["threads"])
        scorer = rescore.LMScorer(i["lm"])
        t = rescore.tune(list(rescore.read_nbest(out / "dev.nbest.jsonl")), scorer, metric="chrf",
                         norm_exponents=(p["norm_exponent"],))
        w = t.weights
        m.update(tuned_on="nmt dev split", dev_chrf_before=round(t.before, 2), dev_chrf_after=round(t.after, 2))
    r = rescore.rescore_file(i["nbest"], i["lm"], out / "rescored.jsonl", out / "best.txt", weights=w)
    m.update(lm_weight=w.lm_weight, length_penalty=w.length_penalty, norm_exponent=w.norm_exponent,
             entries=r.entries, changed=r.changed, hyps_per_s=round(r.hyps_per_second))
    if i.get("ref"):
        m.update(_mt_scores(out / "best.txt", i["ref"]))
    return {"nbest": r.out_jsonl, "top1": r.out_txt}, m


def _mt_scores(hyp: str | Path, ref: str | Path) -> dict:
    import sacrebleu

    hyps = Path(hyp).read_text(encoding="utf-8").splitlines()
    refs = Path(ref).read_text(encoding="utf-8").splitlines()[: len(hyps)]
    bleu, chrf = sacrebleu.metrics.BLEU(), sacrebleu.metrics.CHRF()
    return {"bleu": round(bleu.corpus_score(hyps, [refs]).score, 2),
            "chrf": round(chrf.corpus_score(hyps, [refs]).score, 2),
            "bleu_signature": str(bleu.get_signature()), "chrf_signature": str(chrf.get_signature())}


def _winnow(out: Path, i: dict, p: dict):
    from lmboot import winnow

    # An ablation goes on when nothing passes (broken translations): the LM build then
    # leaves this source out, and the report shows kept=0.
    r = winnow.winnow(i["text"], i["lm"], out, percentile=p["percentile"], dev=i["dev"], allow_empty=True)
    png = winnow.plot_histogram(out / "scores.f32", r.threshold, out / "histogram.png")
    return {"kept": r.kept_path, "summary": out / "summary.json", "histogram": png}, {
        "total": r.total, "kept": r.kept, "threshold": round(r.threshold, 2)}


def _lm_build(out: Path, i: dict, p: dict):
    from lmboot import mix

    sources = [(k, v) for k, v in i.items() if k != "dev"]
    empty = [k for k, v in sources if Path(v).stat().st_size == 0]
    for k in empty:
        log.warning("lm build: source %s is empty (nothing survived the earlier steps); left out", k)
    sources = [(k, v) for k, v in sources if k not in empty]
    r = mix.build(sources, i["dev"], out / "lm.arpa", order=p["order"], method=p["method"],
                  binary=out / "lm.bin", work_dir=out / "parts")
    return {"arpa": out / "lm.arpa", "binary": out / "lm.bin"}, {
        "weights": r.weights, "method": p["method"],
        "empty_sources_left_out": empty, "dev_ppl_common": round(r.mix_ppl_common, 2), "components": {c.name: round(c.dev_ppl_common, 2) for c in r.components}}


def _eval(out: Path, i: dict, p: dict):
    from lmboot import lm as lm_mod

    systems = p["systems"]
    lms = [i[f"lm:{s}"] for s in systems]
    ppl = lm_mod.evaluate(lms, i["test"], names=systems, oov_penalty=p["oov_penalty"])
    lm_mod.write_json(out / "ppl.json", ppl.to_json())
    metrics: dict[str, Any] = {"ppl_signature": ppl.signature, "systems": {}}
    for m in ppl.models:
        metrics["systems"][m.model] = {"ppl_common": round(m.ppl_common, 2), "ppl": round(m.ppl, 2),
                                       "oov_rate": round(m.oov_rate, 4)}
    outs = {"ppl": out / "ppl.json"}
    if p["simulate"]:
        from lmboot import evaluate

        evaluate.simulate(i["test"], out / "test.sim.jsonl", vocab_from=[i["seed_text"], i["general_tgt"]],
                                target_wer=p["target_wer"], nbest=p["nbest"], seed=p["seed"])
        res = evaluate.wer_from_nbest(out / "test.sim.jsonl", lms, names=systems, oov_penalty=p["oov_penalty"])
        for s, r in zip(systems, res):
            metrics["systems"][s]["wer_simulated"] = round(r.wer, 4)
        metrics["first_pass_wer"] = round(res[0].first_pass.wer, 4) if res[0].first_pass else None
        metrics["oracle_wer"] = round(res[0].oracle.wer, 4) if res[0].oracle else None
        outs["simulated_nbest"] = out / "test.sim.jsonl"
    return outs, metrics


# --------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------
def _flags(system: str, cfg: dict) -> dict:
    """What a system uses. 'pipeline' takes the config's switches."""
    if system == "pipeline":
        st = cfg["stages"]
        return {"mt": True, "select": st["select"], "selftrain": st["self_train"], "rescore": st["rescore"],
                "winnow": st["winnow"]}
    if system in ("seed", "general", "moore-lewis"):
        return {"mt": False}
    base = {"mt": True, "select": False, "selftrain": False, "rescore": False, "winnow": False}
    if system == "full":
        return {**base, "select": True, "selftrain": True, "rescore": True, "winnow": True}
    for part in system.split("+")[1:]:
        base[part] = True
    return base


def plan(cfg: dict, systems: list[str]) -> tuple[list[Step], dict[str, str]]:
    """The steps that build ``systems`` (deduplicated, in dependency order) and each system's LM ref."""
    d, run = cfg["data"], cfg["run"]
    common = {"seed": run["seed"]}
    steps: dict[str, Step] = {}

    def add(step: Step) -> str:
        steps.setdefault(step.name, step)
        return step.name

    add(Step("seed_lm", "seed-lm", _seed_lm, {"text": d["seed"]}, dict(cfg["seed_lm"])))
    lm_of: dict[str, str] = {"seed": "@seed_lm:binary"}
    nmt_params = {**cfg["nmt"], **common, "src_lang": run["src_lang"], "tgt_lang": run["tgt_lang"],
                  "threads": run["threads"]}

    def lm_step(name: str, text_ref: str) -> str:
        return add(Step(f"lm.{name}", "lm", _lm_build, {"seed": d["seed"], name: text_ref, "dev": d["dev"]},
                        dict(cfg["lm"])))

    for system in systems:
        f = _flags(system, cfg)
        if system == "seed":
            continue
        if system == "general":
            lm_of[system] = f"@{lm_step('general', d['general_tgt'])}:binary"
            continue
        if system == "moore-lewis":
            add(Step("select.moore-lewis", "select", _select,
                     {"src": d["general_src"], "tgt": d["general_tgt"], "seed": d["seed"]},
                     {**cfg["moore_lewis"], "method": "moore-lewis", **common}))
            lm_of[system] = f"@{lm_step('moore-lewis', '@select.moore-lewis:tgt')}:binary"
            continue
        data = "sel" if f["select"] else "all"
        if f["select"]:
            add(Step("select.embedding", "select", _select,
                     {"src": d["general_src"], "tgt": d["general_tgt"], "seed": d["seed"]},
                     {**cfg["select"], **common}))
            src, tgt = "@select.embedding:src", "@select.embedding:tgt"
        else:
            src, tgt = d["general_src"], d["general_tgt"]
        split = add(Step(f"split.{data}", "spm", _split_dev, {"src": src, "tgt": tgt},
                         {"dev_pairs": cfg["nmt"]["dev_pairs"]}))
        bitext = {"src": f"@{split}:train_src", "tgt": f"@{split}:train_tgt",
                  "dev_src": f"@{split}:dev_src", "dev_tgt": f"@{split}:dev_tgt"}
        spm = add(Step(f"spm.{data}", "spm", _spm, {"src": bitext["src"], "tgt": bitext["tgt"]},
                       {"vocab_size": cfg["nmt"]["vocab_size"], **common}))
        model = add(Step(f"nmt.{data}", "nmt", _nmt, {**bitext, "spm": f"@{spm}:model"}, nmt_params))
        chain = data
        model_ref = f"@{model}:model"
        if f["selftrain"]:
            chain += "+st"
            st = add(Step(f"self-train.{data}", "self-train", _self_train,
                          {**bitext, "model": model_ref, "source": d["source"]},
                          {**cfg["self_train"], **common, "threads": run["threads"]}))
            model_ref = f"@{st}:model"
        tr = add(Step(f"translate.{chain}", "translate", _translate,
                      {"model": model_ref, "source": d["source"], "ref": d.get("source_ref")},
                      {**cfg["translate"], "threads": run["threads"]}))
        text = f"@{tr}:top1"
        if f["rescore"]:
            chain += "+rs"
            rs = add(Step(f"rescore.{chain}", "rescore", _rescore,
                          {"nbest": f"@{tr}:nbest", "lm": "@seed_lm:binary", "ref": d.get("source_ref"),
                           "model": model_ref, "dev_src": bitext["dev_src"], "dev_tgt": bitext["dev_tgt"]},
                          {**cfg["rescore"], **cfg["translate"], "threads": run["threads"]}))
            text = f"@{rs}:top1"
        if f["winnow"]:
            chain += "+wn"
            wn = add(Step(f"winnow.{chain}", "winnow", _winnow,
                          {"text": text, "lm": "@seed_lm:binary", "dev": d["dev"]}, dict(cfg["winnow"])))
            text = f"@{wn}:kept"
        lm_of[system] = f"@{lm_step(chain, text)}:binary"
    ordered = sorted(steps.values(), key=lambda s: STAGES.index(s.stage))
    ev = Step("eval", "eval", _eval,
              {"test": d["test"], "seed_text": d["seed"], "general_tgt": d["general_tgt"],
               **{f"lm:{s}": lm_of[s] for s in systems}},
              {**cfg["eval"], "systems": list(systems), **common})
    return ordered + [ev], lm_of


# --------------------------------------------------------------------------------------
# Running and reporting
# --------------------------------------------------------------------------------------
@dataclass
class RunResult:
    run_dir: Path
    manifest: Path
    report: Path | None
    table: str
    systems: list[str]
    final_lm: Path | None


def run(config: str | Path, ablation: bool = False, systems: list[str] | None = None,
        from_stage: str | None = None, until: str | None = None, overrides: dict | None = None) -> RunResult:
    """Run the pipeline described by ``config``; see the module doc."""
    for s in (from_stage, until):
        if s is not None and s not in STAGES:
            raise LmbootError(f"unknown stage {s!r}; stages: {', '.join(STAGES)}")
    cfg = load_config(config, overrides)
    if systems is None:
        systems = list(ABLATION) if ablation else ["seed", "pipeline"]
    for s in systems:
        if s not in ABLATION and s != "pipeline":
            raise LmbootError(f"unknown system {s!r}; systems: pipeline, {', '.join(ABLATION)}")
    run_dir = Path(cfg["run"]["dir"])
    run_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(run_dir / "config.json") as f:
        json.dump(cfg, f, indent=2)
    manifest = Manifest(run_dir / "manifest.json")
    steps, lm_of = plan(cfg, systems)
    results = _run_steps(steps, run_dir, manifest, from_stage, until)
    report = table = None
    final = None
    if "eval" in results:
        from lmboot import report as report_mod

        report, table = report_mod.write(run_dir, manifest.data, systems, cfg)
        last = systems[-1]
        final_ref = lm_of[last]
        final = Path(_resolve(final_ref, results))
        with atomic_path(run_dir / "final.bin") as tmp:
            shutil.copyfile(final, tmp)
    return RunResult(run_dir=run_dir, manifest=manifest.path, report=report, table=table or "",
                     systems=systems, final_lm=run_dir / "final.bin" if final else None)
