"""Which steps build which systems (LMs), deduplicated and in the order data flows.

==============  ==========================================================================
seed            seed LM only
general         seed + all general target text, interpolated
moore-lewis     seed + Moore-Lewis-selected general target text
mt              seed + best baseline's general text + translations (NMT on all general bitext,
                the pairs nearest the domain repeated: ``[oversample]``)
mt+select       ... the translator fine-tuned on the embedding-selected bitext
mt+selftrain    ... the translator fine-tuned on its own in-domain translations
mt+rescore      ... n-best translations rescored with the seed LM
mt+winnow       ... translations winnowed by seed-LM perplexity
mt+order        ... the translations' component order (3, 2 or 1) chosen on dev
mt+steer        ... + general text selected with seed + translations as the in-domain side
full            all six techniques together
pipeline        the techniques the config's ``[stages]`` switch on
==============  ==========================================================================

Every MT system's LM interpolates three components with weights tuned on dev: the seed
text, the general target text of the best baseline without translation (``baseline``: all
or Moore-Lewis-selected, whichever is better on dev) and the translations. Translation then
adds to the best a user could do without it, instead of competing with it.

With ``[text] spoken_form`` a first step (``spoken``) writes spoken-form copies of every data
file and every later step reads those, so seed, dev, test, general text and source all share
one text form; the LM text of the translations and the test scoring are put in it too.
"""
from __future__ import annotations

from lmboot.pipeline import stages as S
from lmboot.pipeline.runner import STAGES, Step

ABLATION = ("seed", "general", "moore-lewis", "mt", "mt+select", "mt+selftrain", "mt+rescore", "mt+winnow",
            "mt+order", "mt+steer", "full")
DEFAULT_SYSTEMS = ("seed", "general", "moore-lewis", "pipeline")
BASELINES = ("seed", "general", "moore-lewis")
TECHNIQUES = ("select", "selftrain", "rescore", "winnow", "order", "steer")


def flags(system: str, cfg: dict) -> dict:
    """The techniques an MT system uses. 'pipeline' takes the config's switches."""
    if system == "pipeline":
        st = cfg["stages"]
        return {"select": st["select"], "selftrain": st["self_train"], "rescore": st["rescore"],
                "winnow": st["winnow"], "order": st["order"], "steer": st["steer"]}
    on = set(TECHNIQUES) if system == "full" else set(system.split("+")[1:])
    return {t: t in on for t in TECHNIQUES}


def _spoken(cfg: dict) -> dict:
    """Step parameters that put text in spoken form (target language), or none when it is off."""
    return {"spoken_lang": cfg["run"]["tgt_lang"]} if cfg["text"]["spoken_form"] else {}


def data(cfg: dict, add) -> dict:
    """The data files every step reads: the config's, or their spoken-form copies."""
    d = dict(cfg["data"])
    if not cfg["text"]["spoken_form"]:
        return d
    from lmboot.text.spoken import VERSION

    add(Step("spoken", "text", S.spoken, {k: v for k, v in d.items() if v},
             {"src_lang": cfg["run"]["src_lang"], "tgt_lang": cfg["run"]["tgt_lang"], "grammar": VERSION}))
    return {k: f"@spoken:{k}" if v else None for k, v in d.items()}


def plan(cfg: dict, systems: list[str]) -> tuple[list[Step], dict[str, str]]:
    """The steps that build ``systems`` and each system's LM (an ``@step:output`` reference)."""
    run = cfg["run"]
    common = {"seed": run["seed"]}
    steps: dict[str, Step] = {}

    def add(step: Step) -> str:
        steps.setdefault(step.name, step)
        return step.name

    d = data(cfg, add)

    def lm_step(name: str, texts: dict[str, str], stage: str = "lm", orders: str | None = None) -> str:
        return add(Step(f"lm.{name}", stage, S.lm_build, {**{f"text:{k}": v for k, v in texts.items()},
                                                        "dev": d["dev"], "orders": orders}, dict(cfg["lm"])))

    add(Step("seed_lm", "seed-lm", S.seed_lm, {"text": d["seed"]}, dict(cfg["seed_lm"])))
    lm_of: dict[str, str] = {"seed": "@seed_lm:binary"}
    mt_systems = [s for s in systems if s not in BASELINES]
    if "general" in systems or mt_systems:
        lm_of["general"] = f"@{lm_step('general', {'seed': d['seed'], 'general': d['general_tgt']}, 'baseline')}:binary"
    if "moore-lewis" in systems or mt_systems:
        add(Step("select.moore-lewis", "baseline", S.select,
                 {"src": d["general_src"], "tgt": d["general_tgt"], "seed": d["seed"]},
                 {**cfg["moore_lewis"], "method": "moore-lewis", **common}))
        ml = lm_step("moore-lewis", {"seed": d["seed"], "moore-lewis": "@select.moore-lewis:tgt"}, "baseline")
        lm_of["moore-lewis"] = f"@{ml}:binary"
    if mt_systems:
        add(Step("baseline", "baseline", S.baseline,
                 {"dev": d["dev"], "lm:general": "@lm.general:binary", "lm:moore-lewis": "@lm.moore-lewis:binary",
                  "part:general": "@lm.general:part:general", "part:moore-lewis": "@lm.moore-lewis:part:moore-lewis",
                  "text:general": d["general_tgt"], "text:moore-lewis": "@select.moore-lewis:tgt"},
                 {**cfg["baseline"], "oov_penalty": cfg["eval"]["oov_penalty"]}))
        _plan_mt(cfg, d, mt_systems, add, lm_step, lm_of)
    ordered = sorted(steps.values(), key=lambda s: STAGES.index(s.stage))
    ev = Step("eval", "eval", S.evaluate,
              {"test": d["test"], "seed_text": d["seed"], "general_tgt": d["general_tgt"],
               "baseline": "@baseline:choice" if mt_systems else None,
               **{f"lm:{s}": lm_of[s] for s in systems}},
              {**cfg["eval"], "systems": list(systems), **common, **_spoken(cfg)})
    return ordered + [ev], lm_of


def _plan_mt(cfg: dict, d: dict, systems: list[str], add, lm_step, lm_of: dict) -> None:
    run = cfg["run"]
    common = {"seed": run["seed"]}
    threads = {"threads": run["threads"]}
    tr = {**cfg["translate"], **threads}
    judged = {"dev": d["dev"], "seed_lm": "@seed_lm:binary", "general_lm": "@baseline:lm"}
    obj = {"lm_order": cfg["lm"]["order"], "oov_penalty": cfg["eval"]["oov_penalty"]}
    normalize = cfg["nmt"]["normalize"]

    add(Step("source", "spm", S.source, {"source": d["source"], "ref": d.get("source_ref")},
             {**cfg["check"], "normalize": normalize, **common}))
    add(Step("split", "spm", S.split_dev, {"src": d["general_src"], "tgt": d["general_tgt"]},
             {"dev_pairs": cfg["nmt"]["dev_pairs"], "normalize": normalize}))
    bitext = {"src": "@split:train_src", "tgt": "@split:train_tgt", "dev_src": "@split:dev_src",
              "dev_tgt": "@split:dev_tgt"}
    weighted = dict(bitext)
    if cfg["oversample"]["repeat"] > 1:
        add(Step("oversample", "spm", S.oversample,
                 {"src": bitext["src"], "tgt": bitext["tgt"], "seed": d["seed"], "source": "@source:rest"},
                 {**cfg["oversample"], **common}))
        weighted.update(src="@oversample:src", tgt="@oversample:tgt")
    add(Step("spm", "spm", S.spm, {"src": weighted["src"], "tgt": weighted["tgt"]},
             {"vocab_size": cfg["nmt"]["vocab_size"], **common}))
    nmt_params = {k: v for k, v in cfg["nmt"].items() if k not in ("vocab_size", "dev_pairs", "normalize")}
    add(Step("nmt", "nmt", S.nmt_train, {**weighted, "spm": "@spm:model"},
             {**nmt_params, **common, **threads, "src_lang": run["src_lang"], "tgt_lang": run["tgt_lang"]}))
    base_text = "@baseline:text"

    for system in systems:
        f = flags(system, cfg)
        chain = "all"
        model = "@nmt:model"
        train = dict(bitext)
        if f["select"]:
            chain = "sel"
            add(Step("select.embedding", "select", S.select,
                     {"src": bitext["src"], "tgt": bitext["tgt"], "seed": d["seed"]},
                     {k: v for k, v in {**cfg["select"], **common}.items() if k not in ("steps", "max_time")}))
            add(Step("nmt.sel", "select", S.nmt_select,
                     {"model": model, "src": "@select.embedding:src", "tgt": "@select.embedding:tgt",
                      "dev_src": bitext["dev_src"], "dev_tgt": bitext["dev_tgt"], "check": "@source:check",
                      **judged},
                     {"steps": cfg["select"]["steps"], "max_time": cfg["select"]["max_time"], **tr, **obj,
                      **common}))
            model = "@nmt.sel:model"
            train = {**bitext, "src": "@select.embedding:src", "tgt": "@select.embedding:tgt"}
        if f["selftrain"]:
            st = add(Step(f"self-train.{chain}", "self-train", S.self_train,
                          {**train, "model": model, "source": "@source:rest", "check": "@source:check", **judged},
                          {**cfg["self_train"], **tr, **obj, **common}))
            chain += "+st"
            model = f"@{st}:model"
        t = add(Step(f"translate.{chain}", "translate", S.translate,
                     {"model": model, "source": "@source:text", "ref": "@source:ref" if d.get("source_ref") else None},
                     tr))
        nbest = f"@{t}:nbest"
        if f["rescore"]:
            chain += "+rs"
            rs = add(Step(f"rescore.{chain}", "rescore", S.rescore,
                          {"nbest": nbest, "lm": "@seed_lm:binary",
                           "ref": "@source:ref" if d.get("source_ref") else None, **judged},
                          {**cfg["rescore"], **obj}))
            nbest = f"@{rs}:nbest"
        lt = add(Step(f"lmtext.{chain}", "lmtext", S.lmtext, {"nbest": nbest, **judged},
                      {**cfg["lmtext"], **obj, **_spoken(cfg)}))
        text = f"@{lt}:text"
        if f["winnow"]:
            chain += "+wn"
            wn = add(Step(f"winnow.{chain}", "winnow", S.winnow, {"text": text, "lm": "@seed_lm:binary", **judged},
                          {**cfg["winnow"], **obj}))
            text = f"@{wn}:kept"
        texts = {"seed": d["seed"], "baseline": base_text, chain: text}
        name, orders = chain, None
        if f["order"] or f["steer"]:
            name += ("+or" if f["order"] else "") + ("+sg" if f["steer"] else "")
            cp = add(Step(f"compose.{name}", "compose", S.compose,
                          {"text": text, "seed": d["seed"], "general_src": d["general_src"],
                           "general_tgt": d["general_tgt"], **judged},
                          {**cfg["compose"], "order": f["order"], "steer": f["steer"], "name": chain,
                           "lm_order": cfg["lm"]["order"], "oov_penalty": cfg["eval"]["oov_penalty"], **common}))
            orders = f"@{cp}:choice"
            if f["steer"]:
                texts["steer"] = f"@{cp}:steer"
        lm_of[system] = f"@{lm_step(name, texts, orders=orders)}:binary"
