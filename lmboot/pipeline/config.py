"""The run config: one TOML file, the single source of defaults, checked whole before any step.

Every key has a default here (``DEFAULTS``) and a rule (``RULES``: type, range or choices).
:func:`load_config` merges the user's file over the defaults, rejects unknown sections and
keys, checks every value and every input file, and only then does a run start, so a typo in
the last section never costs the hours the first sections take. Errors name the file and
the key: ``conf.toml: [winnow] percentile must be a number in (0, 100], not 500``.
"""
from __future__ import annotations

import copy
import math
import os
import tomllib
from pathlib import Path
from typing import Any, Callable

from lmboot.io.corpus import check_file
from lmboot.defaults import DEFAULT_KEEP_FRACTION, DEFAULT_OOV_PENALTY
from lmboot.errors import LmbootError

DEFAULTS: dict[str, Any] = {
    "run": {"dir": "runs/default", "seed": 1, "src_lang": "src", "tgt_lang": "tgt", "threads": None},
    "data": {"seed": None, "dev": None, "test": None, "source": None, "source_ref": None,
             "general_src": None, "general_tgt": None},
    # spoken_form: numbers, times, dates, currencies and symbols written out as words in every
    # text (source side in [run] src_lang, the rest in tgt_lang) before anything reads it.
    "text": {"spoken_form": False},
    "stages": {"select": True, "self_train": True, "rescore": True, "winnow": True, "order": True, "steer": True},
    "seed_lm": {"order": 3},
    # The general target text of the best baseline without translation: "best" of "all" and
    # "moore-lewis" by dev perplexity, or one of them.
    "baseline": {"general": "best"},
    "moore_lewis": {"keep_fraction": DEFAULT_KEEP_FRACTION},
    # Embedding selection adapts the translator: it is fine-tuned on the selected pairs.
    "select": {"method": "centroid", "keep_fraction": DEFAULT_KEEP_FRACTION, "k": 5, "dim": 128, "steps": 300, "max_time": None},
    # The translator's training data weighted toward the domain: the keep_fraction of general
    # pairs nearest it (bilingual Moore-Lewis against the seed and the in-domain source text)
    # are repeated `repeat` times (1: off).
    "oversample": {"keep_fraction": 0.2, "repeat": 3},
    "nmt": {"preset": "tiny", "vocab_size": 1000, "max_steps": 400, "max_time": None, "valid_every": 200,
            "dev_pairs": 100, "patience": None, "normalize": True, "lr": None, "batch_tokens": None,
            # bf16 autocast where the CPU has it; deterministic kernels; the mean of the last
            # `average` validated checkpoints replaces the best one if its dev chrF is better.
            "precision": "auto", "deterministic": True, "average": 4},
    "self_train": {"rounds": 1, "max_sentences": 500, "steps": 150, "mix_ratio": 1.0, "trust": 0.5,
                   "max_time": None},
    # Held-out in-domain source sentences on which adapted translators are judged.
    "check": {"sentences": 1000},
    "translate": {"beam": 5, "nbest": 5, "no_repeat_ngram_size": 4, "engine": "fairseq2"},
    "rescore": {"tune": True, "lm_weight": 0.3, "length_penalty": 0.0, "norm_exponent": 0.0},
    "lmtext": {"tune": True, "nbest": [1, 2, 3, 5], "trust": [1.0, 0.8, 0.6]},
    "winnow": {"tune": True, "percentile": 95.0, "percentiles": [50.0, 75.0, 90.0, 95.0, 99.0]},
    # How the final LM uses the translations (each choice by the dev objective): the n-gram
    # order of their component, and the fraction of general text selected with seed +
    # translations as the in-domain side (Moore-Lewis) as one more component.
    "compose": {"orders": [3, 2, 1], "fractions": [0.05, 0.1, 0.2]},
    # max_size: prune every final LM (relative entropy) until its KenLM binary fits, e.g. "5MB".
    "lm": {"order": 3, "method": "linear", "min_weight": 0.01, "max_size": None},
    "eval": {"simulate": True, "target_wer": 0.25, "nbest": 10, "oov_penalty": DEFAULT_OOV_PENALTY},
}

PATHS = ("seed", "dev", "test", "source", "source_ref", "general_src", "general_tgt")
REQUIRED = ("seed", "dev", "test", "source", "general_src", "general_tgt")


# --------------------------------------------------------------------------------------
# Rules: each returns None when the value is fine, else what it must be
# --------------------------------------------------------------------------------------
def _int(lo: int | None = None, hi: int | None = None, none: bool = False) -> Callable[[Any], str | None]:
    def check(v):
        if v is None and none:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = f" >= {lo}" if hi is None else f" in [{lo}, {hi}]"
            return f"an integer{rng if lo is not None else ''}" + (" (or left out)" if none else "")
        return None
    return check


def _num(lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False,
         none: bool = False) -> Callable[[Any], str | None]:
    def check(v):
        if v is None and none:
            return None
        from lmboot.safety import describe_range, in_range

        if in_range(v, lo, hi, lo_open, hi_open):
            return None
        return f"a finite number{describe_range(lo, hi, lo_open, hi_open)}"
    return check


def _bool(v):
    return None if isinstance(v, bool) else "true or false"


def _choice(*options: str) -> Callable[[Any], str | None]:
    def check(v):
        return None if v in options else "one of " + ", ".join(repr(o) for o in options)
    return check


def _str(none: bool = False) -> Callable[[Any], str | None]:
    def check(v):
        if (v is None and none) or (isinstance(v, str) and v.strip()):
            return None
        return "a non-empty string" + (" (or left out)" if none else "")
    return check


def _duration(v):
    from lmboot.nmt.training import parse_duration

    if v is None:
        return None
    if isinstance(v, bool):
        return "a duration such as 90, \"90s\", \"25m\", \"1.5h\""
    try:
        s = parse_duration(v)
    except LmbootError:
        s = None
    return None if s is not None and math.isfinite(s) and s > 0 else "a duration such as 90, \"90s\", \"25m\", \"1.5h\""


def _size(v):
    from lmboot.lm.size import parse_size

    if v is None:
        return None
    try:
        parse_size(v)
    except LmbootError:
        return "a size such as \"5MB\", \"500KB\", \"1.5GB\" or a number of bytes (or left out)"
    return None


def _list(item: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    def check(v):
        if not isinstance(v, list) or not v:
            return "a non-empty list"
        for x in v:
            why = item(x)
            if why:
                return f"a non-empty list of {why.removeprefix('a ').removeprefix('an ')}s"
        return None
    return check


def _presets():
    from lmboot.nmt.model import PRESETS

    return _choice(*PRESETS)


RULES: dict[str, dict[str, Callable[[Any], str | None]]] = {
    "run": {"dir": _str(), "seed": _int(0), "src_lang": _str(), "tgt_lang": _str(), "threads": _int(1, none=True)},
    "data": {k: _str(none=True) for k in PATHS},
    "text": {"spoken_form": _bool},
    "stages": {k: _bool for k in DEFAULTS["stages"]},
    "seed_lm": {"order": _int(1, 6)},
    "baseline": {"general": _choice("best", "all", "moore-lewis")},
    "moore_lewis": {"keep_fraction": _num(0, 1, lo_open=True)},
    "select": {"method": _choice("centroid", "knn", "moore-lewis"), "keep_fraction": _num(0, 1, lo_open=True),
               "k": _int(1), "dim": _int(2), "steps": _int(1), "max_time": _duration},
    "oversample": {"keep_fraction": _num(0, 1, lo_open=True), "repeat": _int(1, 100)},
    "nmt": {"preset": None, "vocab_size": _int(16), "max_steps": _int(1), "max_time": _duration,
            "valid_every": _int(1), "dev_pairs": _int(1), "patience": _int(1, none=True), "normalize": _bool,
            "lr": _num(0, 1, lo_open=True, none=True), "batch_tokens": _int(16, none=True),
            "precision": _choice("auto", "fp32", "bf16", "fp16"), "deterministic": _bool, "average": _int(0, 64)},
    "self_train": {"rounds": _int(1), "max_sentences": _int(1), "steps": _int(1), "mix_ratio": _num(0),
                   "trust": _num(0, 1, lo_open=True), "max_time": _duration},
    "check": {"sentences": _int(1)},
    "translate": {"beam": _int(1, 64), "nbest": _int(1, 64), "no_repeat_ngram_size": _int(0, 16),
                  "engine": _choice("fairseq2", "ct2")},
    "rescore": {"tune": _bool, "lm_weight": _num(), "length_penalty": _num(), "norm_exponent": _num(0)},
    "lmtext": {"tune": _bool, "nbest": _list(_int(1, 64)), "trust": _list(_num(0, 1, lo_open=True))},
    "winnow": {"tune": _bool, "percentile": _num(0, 100, lo_open=True),
               "percentiles": _list(_num(0, 100, lo_open=True))},
    "compose": {"orders": _list(_int(1, 6)), "fractions": _list(_num(0, 1, lo_open=True))},
    "lm": {"order": _int(1, 6), "method": _choice("linear", "loglinear"), "min_weight": _num(0, 1, hi_open=True),
           "max_size": _size},
    "eval": {"simulate": _bool, "target_wer": _num(0, 1, lo_open=True, hi_open=True), "nbest": _int(1, 1000),
             "oov_penalty": _num(hi=0, hi_open=True)},
}


def _merge(base: dict, over: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    if not isinstance(over, dict):
        raise LmbootError(f"[{where}] must be a table of keys")
    for k, v in over.items():
        if k not in base:
            raise LmbootError(f"unknown config key [{where}] {k}" if where else f"unknown config section [{k}]")
        if isinstance(base[k], dict):
            if not isinstance(v, dict):
                raise LmbootError(f"[{k}] must be a table of keys, not {v!r}")
            out[k] = _merge(base[k], v, k)
        else:
            out[k] = v
    return out


def validate(cfg: dict) -> None:
    """Check every value against ``RULES`` (types, ranges, choices) and cross-key constraints."""
    rules = {**RULES, "nmt": {**RULES["nmt"], "preset": _presets()}}
    for section, keys in rules.items():
        for key, rule in keys.items():
            why = rule(cfg[section][key])
            if why:
                raise LmbootError(f"[{section}] {key} must be {why}, not {cfg[section][key]!r}")
    if cfg["nmt"]["average"] == 1:
        raise LmbootError("[nmt] average must be 0 (off) or at least 2 checkpoints, not 1")
    if cfg["text"]["spoken_form"]:
        from lmboot.text.spoken import resolve_lang

        for key in ("src_lang", "tgt_lang"):
            try:
                resolve_lang(cfg["run"][key])
            except LmbootError as e:
                raise LmbootError(f"[run] {key}: {e} ([text] spoken_form needs the language)") from None
    if cfg["translate"]["nbest"] > cfg["translate"]["beam"]:
        raise LmbootError(f"[translate] nbest ({cfg['translate']['nbest']}) must not exceed beam "
                          f"({cfg['translate']['beam']})")


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
        validate(cfg)
    except LmbootError as e:
        raise LmbootError(e.message, path=p) from None
    base = p.parent
    for k, v in cfg["data"].items():
        if v is not None:
            cfg["data"][k] = str((base / v).resolve()) if not os.path.isabs(v) else v
    cfg["run"]["dir"] = str((base / cfg["run"]["dir"]).resolve())
    for k in REQUIRED:
        if not cfg["data"][k]:
            raise LmbootError(f"[data] {k} is required", path=p)
    for k in PATHS:
        if cfg["data"][k]:
            check_file(cfg["data"][k], f"[data] {k}")
    return cfg


__all__ = ["DEFAULTS", "RULES", "load_config", "validate"]
