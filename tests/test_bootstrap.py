"""What makes translations pay (issue #14): the dev objective, multi-hypothesis LM text,
degenerate-hypothesis filtering, tuning by the final LM's dev perplexity, the mixture's
treatment of a useless component, and the run config's checks."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lmboot import lmtext, winnow
from lmboot.lm.builder import LinearInterpolator
from lmboot.lm.builder import build as lm_build
from lmboot.errors import LmbootError
from lmboot.nmt.quality import degenerate, most_confident
from lmboot.lm.objective import DevObjective, choose

pytestmark = pytest.mark.usefixtures("kenlm_ready")

SEED = ["set an alarm for six", "wake me up at seven", "play some music", "what is the weather today",
        "set a timer for ten minutes", "call my mother", "turn the lights off", "play the radio"] * 3
GENERAL = ["the cat sat on the mat", "he went to the market", "she likes to read books", "the weather is nice",
           "we played music at the party", "my mother called me today", "the train was late",
           "they set the table for dinner"] * 5
DEV = ["set an alarm for eight", "wake me up at six", "play some jazz music", "what is the weather in berlin",
       "turn the kitchen lights off", "set a timer for five minutes"]


@pytest.fixture
def lms(tmp_path, make_text):
    from lmboot import lm

    seed = lm.train(make_text("seed.txt", SEED), tmp_path / "seed.arpa", binary=tmp_path / "seed.bin")
    gen = lm.train(make_text("gen.txt", GENERAL), tmp_path / "gen.arpa", binary=tmp_path / "gen.bin")
    return seed.binary, gen.binary, make_text("dev.txt", DEV)


# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,why", [
    ("das ist der während der während der", "repeated phrase"),
    ("e mail mail mail mail", "repeated word"),
    ("erstennnnnnnnn staaten", "repeated character"),
    ("ja ja nein ja ja ja ja", "repeated word"),
    ("", "empty"),
    ("wecker wecker auf wecker sieben wecker", "one word dominates"),
])
def test_degenerate_names_what_is_wrong(text, why):
    assert degenerate(text) == why


@pytest.mark.parametrize("text", ["stell einen wecker für sieben uhr", "schifffahrt", "1000000 euro",
                                  "bye bye", "कल सुबह छह बजे का अलार्म लगाओ", "wie wie bitte"])
def test_sound_text_is_not_degenerate(text):
    assert degenerate(text) is None


def test_length_ratio_needs_a_source():
    assert degenerate("ja", "set an alarm for six in the morning please") == "length ratio"
    assert degenerate("ja", "yes") is None


def test_most_confident_keeps_the_top_share_with_stable_ties():
    assert most_confident([-1.0, -0.5, -2.0, -0.5], 0.5) == [False, True, False, True]
    assert most_confident([-1.0, -1.0, -1.0], 0.34) == [True, False, False]


# --------------------------------------------------------------------------------------
def test_objective_rewards_in_domain_text_and_is_cached(lms):
    seed, gen, dev = lms
    obj = DevObjective([seed, gen], dev)
    without = obj.without()
    good = obj(["set an alarm for eight", "play some jazz music", "what is the weather in berlin",
                "turn the kitchen lights off"] * 3)
    bad = obj(["the quarterly report was filed", "shareholders approved the merger"] * 6)
    assert good < without * 0.8, (good, without)
    assert bad > good
    calls = obj.calls
    assert obj(["set an alarm for eight", "play some jazz music", "what is the weather in berlin",
                "turn the kitchen lights off"] * 3) == good and obj.calls == calls
    assert obj([]) == without


def test_objective_counts_every_dev_token():
    """Words no component knows are charged the OOV penalty, so texts are compared on the same tokens."""
    from lmboot.lm.objective import DevTokens, mixture_ppl

    a = DevTokens(np.array([0.5, 0.0, 0.25]), np.array([True, False, True]))
    ppl, w = mixture_ppl([a], -7.0)
    assert w == [1.0]
    assert math.isclose(ppl, 10 ** (-(math.log10(0.5) + math.log10(0.25) - 7.0) / 3))


def test_choose_breaks_near_ties_towards_the_least_change():
    grid = [{"objective": 100.0, "k": 1}, {"objective": 99.95, "k": 3}, {"objective": 99.0, "k": 5}]
    assert choose(grid, lambda g: g["k"])["k"] == 5
    grid[2]["objective"] = 99.99
    assert choose(grid, lambda g: g["k"])["k"] == 1


# --------------------------------------------------------------------------------------
ENTRIES = [
    {"id": "1", "source": "set an alarm", "hyps": [{"text": "stell einen wecker", "score": -1.0, "tokens": 4},
                                                   {"text": "stelle einen wecker", "score": -1.5, "tokens": 4},
                                                   {"text": "wecker wecker wecker", "score": -2.0, "tokens": 4}]},
    {"id": "2", "source": "play music", "hyps": [{"text": "spiel musik", "score": -3.0, "tokens": 3},
                                                 {"text": "musik musik musik musik", "score": -3.5, "tokens": 5}]},
    {"id": "3", "source": "call mom", "hyps": [{"text": "ruf mama an", "score": -0.3, "tokens": 4}]},
]


def test_lm_text_takes_sound_hypotheses_of_the_most_confident_sentences():
    assert lmtext.texts(ENTRIES, nbest=1) == ["stell einen wecker", "spiel musik", "ruf mama an"]
    # Two per sentence, loops skipped (entry 2 has only one sound hypothesis).
    assert lmtext.texts(ENTRIES, nbest=2) == ["stell einen wecker", "stelle einen wecker", "spiel musik",
                                              "ruf mama an"]
    # The most confident two thirds: -0.3/4 and -1.0/4 per token beat -3.0/3.
    assert lmtext.texts(ENTRIES, nbest=1, trust=0.67) == ["stell einen wecker", "ruf mama an"]
    # A rescored list is ranked by its total.
    rescored = json.loads(json.dumps(ENTRIES))
    for e in rescored:
        for j, h in enumerate(e["hyps"]):
            h["total"] = float(j)  # reverses the order
    assert lmtext.texts(rescored, nbest=1)[0] == "stelle einen wecker"


def test_lm_text_tuning_takes_more_hypotheses_when_the_objective_says_so(tmp_path):
    more_is_better = lambda lines: 100.0 / (1 + len(list(lines)))  # noqa: E731
    res = lmtext.tune(ENTRIES, more_is_better, nbests=(1, 2, 3), trusts=(1.0, 0.5))
    assert (res.nbest, res.trust) == (2, 1.0)  # nbest 3 gives no more sound lines than 2: a tie, the smaller wins
    top1_is_best = lambda lines: float(len(list(lines)))  # noqa: E731
    res = lmtext.tune(ENTRIES, top1_is_best, nbests=(1, 2, 3), trusts=(1.0, 0.5))
    assert (res.nbest, res.trust) == (1, 0.5)
    out = lmtext.write(ENTRIES, tmp_path / "t.txt", 2, 1.0)
    assert out.lines == 4 and (tmp_path / "t.txt").read_text().count("\n") == 4


def test_rescoring_tuned_by_the_lm_objective(lms, tmp_path):
    from lmboot.lm.score import LMScorer
    from lmboot.rescore import tune_lm

    seed, _, _ = lms
    entries = [{"id": "1", "source": "x", "hyps": [{"text": "das wetter in berlin", "score": -1.0, "tokens": 4},
                                                   {"text": "what is the weather today", "score": -1.2, "tokens": 5}]}]
    wants_english = lambda lines: 10.0 - sum("weather" in x for x in lines)  # noqa: E731
    res = tune_lm(entries, LMScorer(seed), wants_english, lm_weights=(0.0, 1.0), length_penalties=(0.0,))
    assert res.weights.lm_weight == 1.0 and res.after < res.before and res.changed == 1
    indifferent = lambda lines: 5.0  # noqa: E731
    res = tune_lm(entries, LMScorer(seed), indifferent, lm_weights=(0.0, 1.0), length_penalties=(0.0,))
    assert res.weights.lm_weight == 0.0 and res.changed == 0  # a tie keeps the translator's own choice


def test_winnowing_switches_itself_off_when_it_does_not_help(lms, make_text):
    seed, _, dev = lms
    text = make_text("mt.txt", SEED[:8] + ["the shareholders approved the merger"])
    keep_all = lambda lines: 10.0 - len(list(lines)) * 0.1  # noqa: E731
    res = winnow.tune(text, seed, dev, keep_all, percentiles=(50, 90))
    assert res.percentile is None and res.threshold is None
    fewer = lambda lines: float(len(list(lines)))  # noqa: E731
    res = winnow.tune(text, seed, dev, fewer, percentiles=(50, 90))
    # p50 and p90 both drop only the off-domain line: a tie, the larger percentile wins.
    assert res.percentile == 90.0 and res.grid[0]["percentile"] is None
    assert [g["kept"] for g in res.grid] == [9, 8, 8]


# --------------------------------------------------------------------------------------
def test_a_useless_component_does_not_put_words_at_minus_99(tmp_path, make_text):
    """EM gives a component weight 0: it is left out of the static mixture, so its words are
    scored as the mixture without it scores them (<unk>), never at log10 -99."""
    import kenlm

    seed = make_text("seed.txt", SEED)
    useless = make_text("mt.txt", ["zzq wortsalat nicht wenn während"] * 20)
    dev = make_text("dev.txt", DEV)
    with_c = lm_build([("seed", seed), ("mt", useless)], dev, tmp_path / "with.arpa", work_dir=tmp_path / "p")
    assert with_c.weights["mt"] == 0.0 and with_c.tuning["dropped"] == ["mt"]
    alone = lm_build([("seed", seed)], dev, tmp_path / "alone.arpa", work_dir=tmp_path / "p")
    assert (tmp_path / "with.arpa").read_bytes() == (tmp_path / "alone.arpa").read_bytes()
    m = kenlm.Model(str(tmp_path / "with.arpa"))
    for w in ("nicht", "wenn", "während"):
        lp = list(m.full_scores(f"set {w} alarm", bos=True, eos=False))[1][0]
        assert lp > -10, (w, lp)
    assert "-99" not in (tmp_path / "with.arpa").read_text().split("\\1-grams:")[1].replace("-99\t<s>", "")


def test_mixture_never_scores_below_leaving_a_component_out(tmp_path, make_text):
    """With the component kept (weight above the floor), a word only it knows never scores below
    what leaving the component out costs in lmboot's evaluation (the fixed OOV penalty, since
    another model knows the word); with the floor raised above its weight, it is left out."""
    import kenlm

    from lmboot.lm import DEFAULT_OOV_PENALTY

    seed, gen = make_text("seed.txt", SEED), make_text("gen.txt", GENERAL)
    dev = make_text("dev.txt", DEV + ["the weather is nice today", "my mother went to the market",
                                      "we played music at the party"])
    test = make_text("test.txt", DEV + ["the cat read books at the party", "she went to the market"])
    both = lm_build([("seed", seed), ("gen", gen)], dev, tmp_path / "both.arpa", work_dir=tmp_path / "p")
    assert both.weights["gen"] > 0.01
    only = lm_build([("seed", seed)], dev, tmp_path / "only.arpa", work_dir=tmp_path / "p")
    a, b = kenlm.Model(str(tmp_path / "both.arpa")), kenlm.Model(str(tmp_path / "only.arpa"))
    checked = 0
    for line in test.read_text().splitlines():
        for (la, _, oa), (lb, _, ob) in zip(a.full_scores(line), b.full_scores(line)):
            if ob and not oa:
                assert la >= DEFAULT_OOV_PENALTY, (line, la)
                checked += 1
    assert checked >= 5
    floor = lm_build([("seed", seed), ("gen", gen)], dev, tmp_path / "floor.arpa", work_dir=tmp_path / "p",
                      method=LinearInterpolator(min_weight=0.99))
    assert floor.weights["gen"] == 0.0 and floor.tuning["dropped"] == ["gen"]


# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("section,key,value,msg", [
    ("winnow", "percentile", 500, "[winnow] percentile must be a finite number in (0, 100]"),
    ("select", "keep_fraction", "half", "[select] keep_fraction must be a finite number in (0, 1]"),
    ("lm", "order", "three", "[lm] order must be an integer in [1, 6]"),
    ("stages", "select", "no", "[stages] select must be true or false"),
    ("translate", "engine", "marian", "[translate] engine must be one of 'fairseq2', 'ct2'"),
    ("nmt", "preset", "huge", "[nmt] preset must be one of"),
    ("lmtext", "nbest", [1, 0], "[lmtext] nbest must be a non-empty list of integer"),
    ("eval", "oov_penalty", 3.0, "[eval] oov_penalty must be a finite number < 0"),
    ("run", "seed", -1, "[run] seed must be an integer >= 0"),
    ("nmt", "max_time", "soon", "[nmt] max_time must be a duration"),
])
def test_config_values_are_checked_before_any_step(tmp_path, section, key, value, msg):
    from lmboot.pipeline.config import load_config

    def toml(v):
        return json.dumps(v) if not isinstance(v, bool) else str(v).lower()

    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[{section}]\n{key} = {toml(value)}\n", encoding="utf-8")
    with pytest.raises(LmbootError) as e:
        load_config(cfg)
    assert msg in str(e.value) and str(cfg) in str(e.value)
