"""LM training (lmplz, discount fallback, pruning, binary) and perplexity evaluation."""
from __future__ import annotations

import math

import pytest

from lmboot import lm
from lmboot.errors import LmbootError

pytestmark = pytest.mark.usefixtures("kenlm_ready")

IN_DOMAIN = ["set an alarm for six", "set an alarm for seven", "set a timer for ten minutes",
             "play some music", "play music by the band", "call mom", "call my brother",
             "what is the weather today", "what is the weather in delhi", "remind me to buy milk"] * 3
GENERAL = ["the committee approved the budget", "rain is expected in the north",
           "the file could not be saved", "open the settings page", "the train leaves at noon",
           "prices rose sharply last year", "she reads a book every week", "the river flooded the town"] * 3


def test_tiny_corpus_triggers_discount_fallback(make_text, tmp_path, caplog):
    text = make_text("tiny.txt", ["a b c", "a b d"])
    with caplog.at_level("INFO", logger="lmboot"):
        res = lm.train(text, tmp_path / "tiny.arpa", order=3)
    assert res.discount_fallback
    assert "discount_fallback" in caplog.text
    model = lm.load(res.arpa)
    assert model.order == 3
    assert "a" in model and "zzz" not in model


def test_train_normalises_and_writes_binary(make_text, tmp_path):
    text = make_text("seed.txt", [s.upper() + "!" for s in IN_DOMAIN])
    res = lm.train(text, tmp_path / "seed.arpa", order=3, binary=tmp_path / "seed.bin")
    assert res.sentences == len(IN_DOMAIN)
    arpa, binary = lm.load(res.arpa), lm.load(res.binary)
    assert "alarm" in arpa and "ALARM" not in arpa and "six!" not in arpa
    s = "set an alarm for seven"
    assert math.isclose(arpa.score(s), binary.score(s), abs_tol=1e-4)


def test_prune_removes_singletons(make_text, tmp_path):
    text = make_text("t.txt", IN_DOMAIN + ["one unique sentence here"])
    full = lm.train(text, tmp_path / "full.arpa", order=3)
    pruned = lm.train(text, tmp_path / "pruned.arpa", order=3, prune=[0, 1, 1])

    def bigrams(p):
        for line in open(p, encoding="utf-8"):
            if line.startswith("ngram 2="):
                return int(line.split("=")[1])

    assert bigrams(pruned.arpa) < bigrams(full.arpa)


def test_bad_inputs(tmp_path, make_text):
    with pytest.raises(LmbootError, match="not found"):
        lm.train(tmp_path / "missing.txt", tmp_path / "x.arpa")
    punct = make_text("punct.txt", ["!!!", "...", "।"])
    with pytest.raises(LmbootError, match="no text left"):
        lm.train(punct, tmp_path / "x.arpa")
    assert not (tmp_path / "x.arpa").exists()
    notlm = make_text("notlm.arpa", ["hello world"])
    with pytest.raises(LmbootError, match="not a readable"):
        lm.load(notlm)


def test_eval_common_vocabulary_does_not_flatter_small_lm(make_text, tmp_path):
    """A small LM that lacks most test words must not win through its cheap <unk>."""
    small = lm.train(make_text("small.txt", ["call mom", "call dad"] * 3), tmp_path / "small.arpa", order=2)
    big = lm.train(make_text("big.txt", IN_DOMAIN), tmp_path / "big.arpa", order=2)
    test = make_text("test.txt", ["set an alarm for ten", "play the weather music", "call mom"])
    res = lm.evaluate([small.arpa, big.arpa], test, names=["small", "big"])
    s, b = res.models
    assert s.oov_rate > 0.5 and b.oov_rate < 0.2
    # KenLM's raw view excluding OOVs flatters the small model ...
    assert s.ppl_no_oov < b.ppl_no_oov
    # ... the common-vocabulary view does not.
    assert s.ppl_common > b.ppl_common
    assert s.common_penalised > 0 and b.common_penalised == 0
    assert "vocab:union" in res.signature and "oov:-7" in res.signature
    js = res.to_json(per_sentence=False)
    assert js["models"][0]["model"] == "small" and "ppl_common" in js["models"][0]


def test_eval_in_domain_lm_has_lower_perplexity(make_text, tmp_path):
    ind = lm.train(make_text("in.txt", IN_DOMAIN), tmp_path / "in.arpa", order=3)
    gen = lm.train(make_text("gen.txt", GENERAL), tmp_path / "gen.arpa", order=3)
    test = make_text("test.txt", ["set an alarm for ten", "what is the weather in mumbai"])
    res = lm.evaluate([ind.arpa, gen.arpa], test, keep_sentences=True)
    assert res.models[0].ppl_common < res.models[1].ppl_common
    per = res.to_json(per_sentence=True)["sentences"]
    assert len(per) == 2 and per[0][str(ind.arpa)]["tokens"] == 5
