"""How the final LM uses imperfect translations: component order and MT-steered selection."""
from __future__ import annotations

import random

import kenlm
import pytest

from conftest import write
from lmboot import lm
from lmboot.lm.compose import choose_order, steer
from lmboot.lm.objective import DevObjective

pytestmark = pytest.mark.usefixtures("kenlm_ready")

IN = ["set an alarm for {} am", "wake me up at {} tomorrow", "set a timer for {} minutes", "remind me at {} pm"]
GEN = ["the {} cat sat on the mat", "we went to the market at {}", "my brother is {} years old",
       "the train leaves at {} today", "she bought {} apples and pears"]
NUM = "one two three four five six seven eight nine ten eleven twelve".split()


def _lines(templates, n, rng):
    return [rng.choice(templates).format(rng.choice(NUM)) for _ in range(n)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = random.Random(3)
    d = tmp_path_factory.mktemp("compose")
    write(d / "seed.txt", _lines(IN[:2], 20, rng))
    write(d / "dev.txt", _lines(IN, 60, rng))
    # General text: mostly out of domain, with the in-domain requests the seed lacks mixed in.
    ood = _lines(GEN, 900, rng)
    write(d / "ood.txt", ood)
    gen = ood + _lines(IN[2:], 100, rng)
    rng.shuffle(gen)
    write(d / "general.tgt", gen)
    write(d / "general.src", [f"src {i}" for i in range(len(gen))])
    # "Translations": the right words (timer, remind) in the wrong (reversed) order.
    mt = _lines(IN, 400, rng)
    write(d / "mt.txt", [" ".join(reversed(s.split())) for s in mt])
    write(d / "mt_ordered.txt", mt)  # the same in the right order, for steering
    lm.train(d / "seed.txt", d / "seed.arpa", order=3)
    lm.train(d / "general.tgt", d / "general.arpa", order=3)
    lm.train(d / "ood.txt", d / "ood.arpa", order=3)
    return d


def test_unigram_component_loads_and_keeps_its_probabilities(corpus, tmp_path):
    r = lm.train(corpus / "mt.txt", tmp_path / "u.arpa", order=1)
    model = kenlm.Model(str(tmp_path / "u.arpa"))  # KenLM loads it (it refuses plain order-1 ARPA files)
    assert r.order == 1 and model.order == 2
    # No bigrams: a word's probability is its unigram probability whatever precedes it.
    a = list(model.full_scores("timer", bos=False, eos=False))[0][0]
    b = list(model.full_scores("alarm timer", bos=False, eos=False))[1][0]
    assert a == pytest.approx(b)


def test_order_choice_prefers_word_choice_over_scrambled_order(corpus):
    lines = (corpus / "mt.txt").read_text().splitlines()

    def objective_for(k):  # general text without the in-domain requests: the translations matter
        return DevObjective([corpus / "seed.arpa", corpus / "ood.arpa"], corpus / "dev.txt", order=k)

    oc = choose_order(objective_for, lines, [3, 2, 1])
    assert set(oc.objectives) == {1, 2, 3}
    # Reversed translations: a trigram component learns word orders dev never shows; the
    # chosen order is the one with the lowest dev objective, and it is below order 3.
    assert oc.objectives[oc.order] == min(oc.objectives.values())
    assert oc.order < 3


def test_order_choice_keeps_the_full_order_on_a_tie(corpus):
    oc = choose_order(lambda k: (lambda lines: 100.0), ["x"], [1, 2, 3])
    assert oc.order == 3


def test_steered_selection_finds_the_in_domain_general_text(corpus, tmp_path):
    mt_arpa = tmp_path / "mt.arpa"
    lm.train(corpus / "mt_ordered.txt", mt_arpa, order=1)
    obj = DevObjective([corpus / "seed.arpa", corpus / "ood.arpa", mt_arpa], corpus / "dev.txt")
    r = steer(corpus / "general.src", corpus / "general.tgt", corpus / "seed.txt", corpus / "mt_ordered.txt",
              tmp_path / "sg",
              obj, obj.without(), fractions=[0.1, 0.3])
    assert r.fraction is not None and r.objectives[f"{r.fraction:g}"] < r.objectives["off"]
    kept = r.text.read_text().splitlines()
    assert len(kept) == r.kept > 0
    # The seed knows only alarms and wake-ups; with the translations the selection finds the
    # general text's timers and reminders.
    wanted = [s for s in (corpus / "general.tgt").read_text().splitlines() if "timer" in s or "remind" in s]
    recall = sum(("timer" in s or "remind" in s) for s in kept) / len(wanted)
    assert recall > 0.9, (recall, r)
    ranked = (tmp_path / "sg" / "in-domain.txt").read_text().splitlines()
    assert len(ranked) == 20 + 400  # seed + translations were the in-domain side


def test_steered_selection_is_rejected_when_it_does_not_help(corpus, tmp_path):
    r = steer(corpus / "general.src", corpus / "general.tgt", corpus / "seed.txt", corpus / "mt.txt", tmp_path / "sg",
              lambda lines: 50.0, 50.0, fractions=[0.1])
    assert r.fraction is None and r.kept == 0 and r.text.read_text() == ""
