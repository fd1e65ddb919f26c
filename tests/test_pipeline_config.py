"""The pipeline's config checks and its cheap steps (no KenLM, no NMT): fast."""
from __future__ import annotations

import copy

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
