"""The pipeline's config checks and its cheap steps (no KenLM, no NMT): fast."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from lmboot.errors import LmbootError
from lmboot.pipeline import stages
from lmboot.pipeline.config import DEFAULTS, validate


def _cfg(**sections) -> dict:
    cfg = copy.deepcopy(DEFAULTS)
    for section, values in sections.items():
        cfg[section].update(values)
    return cfg


def test_dev_pairs_zero_is_a_config_error_not_a_division_by_zero():
    with pytest.raises(LmbootError, match=r"\[nmt\] dev_pairs must be"):
        validate(_cfg(nmt={"dev_pairs": 0}))


@pytest.mark.parametrize("dev_pairs,pairs", [(1, 2), (1, 5), (100, 7), (3, 1000)])
def test_split_dev_holds_out_at_least_one_pair_whatever_the_sizes(tmp_path, dev_pairs, pairs):
    src, tgt = tmp_path / "g.en", tmp_path / "g.hi"
    src.write_text("".join(f"s{j}\n" for j in range(pairs)))
    tgt.write_text("".join(f"t{j}\n" for j in range(pairs)))
    _, m = stages.split_dev(tmp_path / "out", {"src": src, "tgt": tgt}, {"dev_pairs": dev_pairs, "normalize": False})
    assert m["dev"] == max(1, min(dev_pairs, pairs // 10)) and m["train"] + m["dev"] == pairs


def test_unknown_nmt_preset_is_a_config_error():
    with pytest.raises(LmbootError, match=r"\[nmt\] preset must be"):
        validate(_cfg(nmt={"preset": "huge"}))


def test_shared_defaults_have_one_home():
    from lmboot import defaults
    from lmboot.lm.score import DEFAULT_OOV_PENALTY
    from lmboot.select.selection import DEFAULT_KEEP_FRACTION

    assert DEFAULTS["eval"]["oov_penalty"] == DEFAULT_OOV_PENALTY == defaults.DEFAULT_OOV_PENALTY
    assert (DEFAULTS["select"]["keep_fraction"] == DEFAULTS["moore_lewis"]["keep_fraction"]
            == DEFAULT_KEEP_FRACTION == defaults.DEFAULT_KEEP_FRACTION)


BUNDLED = sorted((Path(__file__).resolve().parent.parent / "scripts" / "conf").glob("*.toml"))


@pytest.mark.parametrize("conf", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_configs_load_with_their_values(conf, tmp_path):
    """Every scripts/conf/*.toml passes the config checks and means what it says. Data files
    that live in ../shared and are absent here are replaced by placeholders (only the existence
    check is relaxed); the toy config's data is in the checkout and is loaded as is."""
    import tomllib

    from lmboot.pipeline.config import load_config

    text = conf.read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    data = {k: (conf.parent / v).resolve() for k, v in raw["data"].items()}
    missing = {k: p for k, p in data.items() if not p.is_file()}
    assert all("shared" in p.parts for p in missing.values()), f"bundled data missing: {missing}"
    if missing:
        for k, p in missing.items():
            stand_in = tmp_path / p.name
            stand_in.write_text("ein satz\n", encoding="utf-8")
            text = text.replace(f'"{raw["data"][k]}"', f'"{stand_in}"')
        conf = tmp_path / conf.name
        conf.write_text(text, encoding="utf-8")
    cfg = load_config(conf)
    for k, p in data.items():
        assert Path(cfg["data"][k]) == (tmp_path / p.name if k in missing else p)
    for section, values in raw.items():
        for key, value in values.items():
            if section != "data" and (section, key) != ("run", "dir"):
                assert cfg[section][key] == value, (section, key)
    if not missing:
        assert Path(cfg["run"]["dir"]) == (conf.parent / raw["run"]["dir"]).resolve()
