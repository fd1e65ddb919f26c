"""Rescoring WER: an in-domain LM beats an out-of-domain one; unknown words never flatter an LM; CLI."""
from __future__ import annotations

import json
import random

import pytest

from lmboot.errors import LmbootError
from lmboot.evaluate import simulate, wer_from_nbest

NUM = "तीन चार पांच छह सात आठ नौ दस ग्यारह बारह".split()
ARTIST = "अरिजीत लता किशोर श्रेया सोनू".split()
CITY = "दिल्ली मुंबई पुणे जयपुर लखनऊ पटना".split()
WHEN = "आज कल परसों".split()
SYMPTOM = "बुखार खांसी सिरदर्द थकान जुकाम".split()


def domain_a(n: int, seed: int) -> list[str]:
    """Voice-assistant requests (the test domain)."""
    rng = random.Random(seed)
    t = [lambda: f"{rng.choice(NUM)} बजे का अलार्म लगाओ",
         lambda: f"{rng.choice(ARTIST)} के गाने बजाओ",
         lambda: f"{rng.choice(CITY)} में {rng.choice(WHEN)} मौसम कैसा है",
         lambda: f"{rng.choice(NUM)} मिनट का टाइमर लगाओ",
         lambda: f"{rng.choice(WHEN)} {rng.choice(CITY)} में बारिश होगी क्या"]
    return [rng.choice(t)() for _ in range(n)]


def domain_b(n: int, seed: int) -> list[str]:
    """Health sentences (another domain, other words)."""
    rng = random.Random(seed)
    t = [lambda: f"डॉक्टर ने {rng.choice(SYMPTOM)} के लिए दवा दी",
         lambda: f"{rng.choice(SYMPTOM)} होने पर अस्पताल जाएं",
         lambda: f"मरीज़ को {rng.choice(SYMPTOM)} और {rng.choice(SYMPTOM)} है"]
    return [rng.choice(t)() for _ in range(n)]


def bags(n: int, seed: int) -> list[str]:
    """Domain-A words in random order: an LM that knows the words but not the domain."""
    rng = random.Random(seed)
    vocab = sorted({w for s in domain_a(500, 99) for w in s.split()})
    return [" ".join(rng.choice(vocab) for _ in range(rng.randint(3, 8))) for _ in range(n)]


def _write(path, lines):
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory, kenlm_ready):
    from lmboot import lm

    d = tmp_path_factory.mktemp("evalres")
    ind = _write(d / "in.txt", domain_a(300, 1))
    ood = _write(d / "ood.txt", domain_b(300, 2) + bags(300, 3))
    small = _write(d / "small.txt", domain_b(60, 4))
    test = _write(d / "test.txt", domain_a(150, 5))
    dev = _write(d / "dev.txt", domain_a(100, 6))
    for name, text in (("in", ind), ("ood", ood), ("small", small)):
        lm.train(text, d / f"{name}.arpa", order=3, binary=d / f"{name}.bin")
    vocab = [ind, ood, small]
    simulate(test, d / "test.jsonl", vocab_from=vocab, target_wer=0.3, nbest=10, seed=1)
    simulate(dev, d / "dev.jsonl", vocab_from=vocab, target_wer=0.3, nbest=10, seed=2)
    return d


def test_in_domain_lm_lowers_simulated_wer(setup):
    d = setup
    res = wer_from_nbest(d / "test.jsonl", [d / "ood.bin", d / "in.bin"], tune_on=d / "dev.jsonl")
    ood, ind = res
    assert ood.simulated and ind.simulated
    assert ood.first_pass.wer == pytest.approx(0.3, abs=0.03)
    assert ind.wer < ood.wer - 0.03, (ind.wer, ood.wer)
    assert ind.wer < ind.first_pass.wer - 0.05  # rescoring with an in-domain LM helps
    assert ind.wer >= ind.oracle.wer  # cannot beat the best hypothesis in the lists
    assert ind.tuned_on and ind.weights["lm_weight"] > 0
    assert len(ind.details) == 150 and {"ref", "hyp", "first_pass", "oracle", "errors"} <= set(ind.details[0])


@pytest.mark.parametrize("oov", ["penalty", "exclude"])
def test_words_unknown_to_a_small_lm_make_its_wer_worse(setup, oov):
    d = setup
    small, ind = wer_from_nbest(d / "test.jsonl", [d / "small.bin", d / "in.bin"], tune_on=d / "dev.jsonl", oov=oov)
    # the small LM knows (almost) none of the test words: it cannot output them, so it must lose
    assert small.chosen_oov_words > 0
    assert small.wer > ind.wer + 0.2
    assert small.wer > small.first_pass.wer  # worse than no LM at all, never better
    assert all("<unk>" not in x["ref"] for x in small.details)
    assert any("<unk>" in x["hyp"] for x in small.details)


def test_naive_unk_scoring_would_flatter_the_small_lm(setup):
    """The reason for the rule above: with KenLM's own <unk> and unknown words not counted as
    errors, the small LM's choices look far better than the honest figure."""
    from lmboot.io.nbest import read_nbest
    from lmboot.lm.score import LMScorer
    from lmboot.metrics import word_errors
    from lmboot.rescore import Weights, rescore

    d = setup
    entries = list(read_nbest(d / "test.jsonl"))
    naive = [e["best_text"] for e in rescore(entries, LMScorer(d / "small.bin"), Weights(lm_weight=1.0))]
    naive_wer = word_errors([e["ref"] for e in entries], naive).wer
    honest = wer_from_nbest(d / "test.jsonl", [d / "small.bin"], weights=Weights(lm_weight=1.0))[0]
    assert honest.wer > naive_wer + 0.2


def test_cli_compares_lms_and_writes_details(setup, tmp_path):
    from typer.testing import CliRunner

    from lmboot.cli import app

    d = setup
    r = CliRunner().invoke(app, ["eval", "wer", "--nbest", str(d / "test.jsonl"), "--lm", str(d / "ood.bin"),
                                 "--lm", str(d / "in.bin"), "--tune-on", str(d / "dev.jsonl"),
                                 "--details", str(tmp_path / "det.jsonl"), "--json", str(tmp_path / "r.json")])
    assert r.exit_code == 0, r.output
    assert "SIMULATED WER" in r.output and "rel.vs.1st" in r.output
    rows = [json.loads(x) for x in (tmp_path / "det.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 300 and {x["lm"] for x in rows} == {str(d / "ood.bin"), str(d / "in.bin")}
    rep = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert rep["results"][1]["wer"] < rep["results"][0]["wer"] and rep["results"][0]["simulated"] is True


def test_cli_bad_input_exits_2_with_one_line(setup, tmp_path, capsys):
    from conftest import one_error_line
    from lmboot.cli import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "ref": "a", "hyps": [{"text": "a"}]}\n', encoding="utf-8")
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["eval", "wer", "--nbest", str(bad), "--lm", str(setup / "in.bin")])
    assert e.value.code == 2
    one_error_line(capsys.readouterr().err, f"{bad}:1: ")
    with pytest.raises(LmbootError, match="oov must be"):
        wer_from_nbest(setup / "test.jsonl", [setup / "in.bin"], oov="unk")
