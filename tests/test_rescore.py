"""N-best rescoring with the seed LM: choice, lambda = 0, tuning, normalisation, OOVs, errors."""
from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import pytest

from conftest import ROOT
from lmboot import lm
from lmboot.errors import LmbootError
from lmboot.io.nbest import read_nbest
from lmboot.lm.score import LMScorer
from lmboot.metrics import Metric
from lmboot.rescore import Weights, rescore, rescore_file, tune
from lmboot.text.normalize import Normalizer

pytestmark = pytest.mark.usefixtures("kenlm_ready")

# A Hindi voice-assistant domain: how users phrase requests (in-domain) versus how a
# general-domain translator tends to render them (formal, literal).
SLOTS = {
    "time": ["छह", "सात", "आठ", "नौ", "दस", "पाँच", "चार", "ग्यारह"],
    "person": ["माँ", "पापा", "राहुल", "प्रिया", "दीदी", "भैया", "अमित", "नेहा"],
    "city": ["दिल्ली", "मुंबई", "पुणे", "जयपुर", "लखनऊ", "पटना", "भोपाल", "इंदौर"],
    "minutes": ["दो", "तीन", "पाँच", "दस", "पंद्रह", "बीस", "तीस", "चालीस"],
}
TEMPLATES = [  # (slot, in-domain phrasing, general-domain phrasing)
    ("time", "कल सुबह {} बजे का अलार्म लगाओ", "कल प्रातः {} बजे के लिए घंटी निर्धारित करें"),
    ("person", "{} को फ़ोन लगाओ", "{} को दूरभाष पर संपर्क करें"),
    ("city", "आज {} में मौसम कैसा है", "आज {} में जलवायु की स्थिति क्या है"),
    ("minutes", "{} मिनट का टाइमर लगाओ", "{} मिनट के लिए समय मापक स्थापित करें"),
]


def pairs():
    for slot, indomain, general in TEMPLATES:
        for v in SLOTS[slot]:
            yield indomain.format(v), general.format(v)


def split_pairs():
    """Half of the slot values train the seed LM, the other half make n-best lists."""
    train, held = [], []
    for i, p in enumerate(pairs()):
        (train if i % 2 == 0 else held).append(p)
    return train, held


def nbest_entries(held, ref_side=0, seed=0):
    """Translator ranks the general-domain phrasing first, the in-domain one second."""
    rng = random.Random(seed)
    out = []
    for i, (indomain, general) in enumerate(held):
        words = general.split()
        rng.shuffle(words)
        top = -3.0 - rng.random()
        out.append({
            "id": f"s{i}", "source": f"src {i}", "ref": (indomain, general)[ref_side] + "।",
            "hyps": [{"text": general + "।", "score": top, "tokens": len(general.split()) + 2},
                     {"text": indomain.capitalize() + "।", "score": top - 0.4 - 0.2 * rng.random(),
                      "tokens": len(indomain.split()) + 2},
                     {"text": " ".join(words), "score": top - 2.5, "tokens": len(words) + 1}],
        })
    return out


@pytest.fixture(scope="module")
def seed_lm(tmp_path_factory):
    d = tmp_path_factory.mktemp("seedlm")
    train, _ = split_pairs()
    text = d / "seed.hi"
    extra = ["अलार्म बंद करो", "टाइमर रोको", "गाना बजाओ", "मौसम बताओ", "फ़ोन काटो"]
    text.write_text("".join(f"{s}\n" for s, _ in train for _ in range(3)) + "".join(f"{s}\n" for s in extra),
                    encoding="utf-8")
    res = lm.train(text, d / "seed.arpa", order=3, binary=d / "seed bin.bin", memory="50M")
    return res


@pytest.fixture(scope="module")
def scorer(seed_lm):
    return LMScorer(seed_lm.binary)


def write_jsonl(path, entries):
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# Choice
# --------------------------------------------------------------------------------------
def test_in_domain_hypothesis_ranked_second_is_chosen(scorer):
    _, held = split_pairs()
    entries = nbest_entries(held)
    out = list(rescore(entries, scorer, Weights(lm_weight=1.0)))
    assert [e["best"] for e in out] == [1] * len(entries)
    assert [e["best_text"] for e in out] == [e["hyps"][1]["text"] for e in entries]
    # The combination is the documented formula, with the LM in natural log.
    h = out[0]["hyps"][1]
    assert h["total"] == pytest.approx(h["score"] + h["lm_logprob"])
    assert h["lm_words"] == len(held[0][0].split())


def test_lambda_zero_reproduces_producer_ranking_exactly(scorer):
    _, held = split_pairs()
    entries = nbest_entries(held)
    # Ties go to the producer's order.
    entries.append({"id": "tie", "hyps": [{"text": "अ ब", "score": -2.0}, {"text": "मौसम बताओ", "score": -2.0}]})
    out = list(rescore(entries, scorer, Weights(lm_weight=0.0)))
    assert all(e["best"] == 0 for e in out)
    for e in out:  # the whole ranking, not only the top
        order = sorted(range(len(e["hyps"])), key=lambda i: -e["hyps"][i]["total"])
        assert order == list(range(len(e["hyps"])))
    # A producer that ranked by score / tokens**alpha is reproduced with that alpha.
    alpha = 1.0
    norm_ranked = [{"id": "n", "hyps": sorted(
        [{"text": "क ख ग घ ङ च", "score": -4.8, "tokens": 6}, {"text": "क ख", "score": -3.0, "tokens": 2},
         {"text": "क ख ग", "score": -2.5, "tokens": 3}], key=lambda h: -h["score"] / h["tokens"] ** alpha)}]
    assert next(rescore(norm_ranked, scorer, Weights(0.0, 0.0, alpha)))["best"] == 0
    assert next(rescore(norm_ranked, scorer, Weights(0.0, 0.0, 0.0)))["best"] != 0


def test_length_penalty_counts_words_the_lm_sees(scorer):
    e = {"id": 1, "hyps": [{"text": "अलार्म", "score": 0.0}, {"text": "अलार्म बंद करो ।", "score": 0.0}]}
    short = next(rescore([e], scorer, Weights(lm_weight=0.0, length_penalty=-1.0)))
    long_ = next(rescore([e], scorer, Weights(lm_weight=0.0, length_penalty=1.0)))
    assert (short["best"], long_["best"]) == (0, 1)
    assert long_["hyps"][1]["total"] == pytest.approx(3.0)  # three words: the danda is not one


def test_inputs_are_not_modified(scorer):
    _, held = split_pairs()
    entries = nbest_entries(held)
    before = json.dumps(entries)
    list(rescore(entries, scorer, Weights()))
    assert json.dumps(entries) == before


# --------------------------------------------------------------------------------------
# LM scores: units, normalisation agreement, OOV penalty
# --------------------------------------------------------------------------------------
def test_scores_are_natural_log_of_kenlm_on_normalised_text(seed_lm, scorer):
    model = lm.load(seed_lm.arpa)
    raw = ["कल सुबह छह बजे का अलार्म लगाओ।", "  Call MOM, please!! ", "मौसम\u00a0बताओ?"]
    normed = [Normalizer()(t) for t in raw]
    assert normed[1] == "call mom please"
    got = scorer.score(raw)
    want = [model.score(s, bos=True, eos=True) * math.log(10) for s in normed]
    assert got == pytest.approx(want, abs=1e-4)  # ARPA vs binary: same model
    # Whatever the NMT's detokenised form: case, punctuation, spacing, Unicode composition.
    nfd = "फ़ोन काटो".replace("फ़", "फ\u093c")
    variants = ["फ़ोन काटो", "फ़ोन   काटो।", nfd, "फ़ोन, काटो!"]
    assert len(set(scorer.score(variants))) == 1


def test_scorer_uses_the_normalizer_of_the_seed_lm(tmp_path):
    text = tmp_path / "seed.txt"
    text.write_text("wake me at 7 am\nwake me at 8 am\nwake me up\n" * 3, encoding="utf-8")
    res = lm.train(text, tmp_path / "d.arpa", order=2, normalizer=Normalizer(digits="drop"), memory="50M")
    s_drop = LMScorer(res.arpa, normalizer=Normalizer(digits="drop"))
    s_keep = LMScorer(res.arpa)
    assert s_drop.oov_count("Wake me at 7 AM") == 0
    assert s_keep.oov_count("Wake me at 7 AM") == 1


def test_oov_penalty_replaces_unk_probability(seed_lm):
    model = lm.load(seed_lm.arpa)
    plain = LMScorer(seed_lm.arpa)
    pen = LMScorer(seed_lm.arpa, oov_penalty=-7.0)
    known = "अलार्म बंद करो"
    assert pen.score([known]) == plain.score([known])
    text = "अलार्म ज़ब्त करो"  # one word the LM has never seen
    assert pen.oov_count(text) == 1 and plain.oov_count(known) == 0
    full = list(model.full_scores(text, bos=True, eos=True))
    want = sum(p for p, _, oov in full if not oov) - 7.0
    assert pen.score([text])[0] == pytest.approx(want * math.log(10))
    # A cheap <unk> never flatters: with the penalty the OOV sentence scores lower than with <unk>.
    assert pen.score([text])[0] < plain.score([text])[0]


# --------------------------------------------------------------------------------------
# Tuning
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("metric", ["chrf", "bleu"])
def test_tuning_finds_positive_lambda_and_improves(scorer, metric):
    _, held = split_pairs()
    dev = nbest_entries(held, ref_side=0)
    res = tune(dev, scorer, metric=metric)
    assert res.weights.lm_weight > 0
    assert res.before < 60 and res.after > 95 and res.after > res.before
    assert res.changed == len(dev)
    assert ("chrF2" if metric == "chrf" else "BLEU") in res.signature or "nrefs" in res.signature
    # The tuned weights really produce the reported metric.
    chosen = [e["best_text"] for e in rescore(dev, scorer, res.weights)]
    assert Metric(metric).corpus(chosen, [e["ref"] for e in dev]) == pytest.approx(res.after)


def test_tuning_never_does_worse_than_the_producer(scorer):
    _, held = split_pairs()
    dev = nbest_entries(held, ref_side=1)  # the references follow the translator this time
    res = tune(dev, scorer, metric="chrf", lm_weights=[0.5, 1.0, 2.0], length_penalties=[1.0])
    assert res.after == pytest.approx(res.before) and res.after > 95
    assert (res.weights.lm_weight, res.weights.length_penalty) == (0.0, 0.0)  # grid always holds 0, 0
    assert res.changed == 0


def test_speech_nbest_tuned_by_wer(tmp_path):
    text = tmp_path / "asr.txt"
    text.write_text("set an alarm for six\nset an alarm for seven\nset a timer for ten minutes\n"
                    "call mom\nplay some music\nwhat is the weather today\n" * 3, encoding="utf-8")
    res = lm.train(text, tmp_path / "asr.arpa", order=3, memory="50M")
    # Acoustically confusable first-pass output (docs/formats.md speech n-best: no tokens, lm_score).
    dev = [{"id": f"u{i}", "ref": ref, "hyps": [
        {"text": wrong, "score": -100.0 - i, "lm_score": -9.0},
        {"text": ref.upper(), "score": -100.7 - i, "lm_score": -9.5}]}
        for i, (wrong, ref) in enumerate([("set an alarm for sex", "set an alarm for six"),
                                          ("call mum", "call mom"),
                                          ("play sum music", "play some music"),
                                          ("what is the weather to day", "what is the weather today")])]
    path = write_jsonl(tmp_path / "dev.nbest.jsonl", dev)
    entries = list(read_nbest(path, require_ref=True))
    out = tune(entries, LMScorer(res.arpa), metric="wer")
    assert out.before > 20 and out.after == 0.0 and out.weights.lm_weight > 0
    assert "wer" in out.signature


# --------------------------------------------------------------------------------------
# Files, round trip, CLI
# --------------------------------------------------------------------------------------
def test_rescore_file_round_trip_keeps_every_key(scorer, tmp_path):
    _, held = split_pairs()
    entries = nbest_entries(held)
    for i, e in enumerate(entries):
        e["meta"] = {"domain": "assistant", "n": i}
        e["hyps"][0]["alignment"] = [[0, 1], [1, 0]]
        e["hyps"][1]["lm_score"] = -12.5
    src = write_jsonl(tmp_path / "in put.jsonl", entries)
    res = rescore_file(src, None, tmp_path / "out dir" / "o.jsonl", tmp_path / "o.txt", Weights(lm_weight=1.0),
                       metric="chrf", scorer=scorer)
    assert res.entries == len(entries) and res.hyps == 3 * len(entries) and res.changed == len(entries)
    assert res.after > res.before
    out = list(read_nbest(tmp_path / "out dir" / "o.jsonl"))  # still a valid n-best list
    for e_in, e_out in zip(entries, out):
        for k, v in e_in.items():
            if k != "hyps":
                assert e_out[k] == v
        assert len(e_out["hyps"]) == len(e_in["hyps"])
        for h_in, h_out in zip(e_in["hyps"], e_out["hyps"]):  # producer's order kept
            assert {k: h_out[k] for k in h_in} == h_in
            assert {"lm_logprob", "total", "lm_words"} <= set(h_out)
        assert e_out["best_text"] == e_out["hyps"][e_out["best"]]["text"]
    assert (tmp_path / "o.txt").read_text(encoding="utf-8").splitlines() == [e["best_text"] for e in out]
    # Deterministic: same inputs, byte-identical outputs.
    first = (tmp_path / "out dir" / "o.jsonl").read_bytes()
    rescore_file(src, None, tmp_path / "out dir" / "o.jsonl", None, Weights(lm_weight=1.0), scorer=scorer)
    assert (tmp_path / "out dir" / "o.jsonl").read_bytes() == first


@pytest.mark.parametrize("line, needle", [
    ('{"id": "a", "hyps": [{"text": "x", "score": -1}]', "malformed JSON"),
    ('{"id": "a", "hyps": []}', "empty 'hyps'"),
    ('{"id": "a", "hyps": [{"text": "x"}]}', "missing key 'score'"),
    ('{"id": "a", "hyps": [{"score": -1}]}', "missing key 'text'"),
    ('{"id": "a", "hyps": [{"text": "x", "score": NaN}]}', "finite number"),
    ('{"id": "a", "hyps": [{"text": "x", "score": -1, "tokens": -3}]}', "tokens"),
    ('{"hyps": [{"text": "x", "score": -1}]}', "missing key 'id'"),
    ('{"id": "ok", "hyps": [{"text": "x", "score": -1}]}', "duplicate id"),
    ('[1, 2]', "expected a JSON object"),
])
def test_bad_nbest_line_is_named_and_nothing_written(scorer, tmp_path, line, needle):
    good = '{"id": "ok", "hyps": [{"text": "मौसम बताओ", "score": -1.0}]}'
    src = tmp_path / "bad.jsonl"
    src.write_text(f"{good}\n\n{line}\n", encoding="utf-8")
    (tmp_path / "o.txt").write_text("old\n")
    with pytest.raises(LmbootError) as ei:
        rescore_file(src, None, tmp_path / "o.jsonl", tmp_path / "o.txt", scorer=scorer)
    assert str(ei.value).startswith(f"{src}:3: ") and needle in str(ei.value)
    assert not (tmp_path / "o.jsonl").exists()
    assert (tmp_path / "o.txt").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "o.txt"]  # no temp files left


def test_missing_or_broken_lm(tmp_path):
    with pytest.raises(LmbootError, match="language model not found"):
        LMScorer(tmp_path / "nope.bin")
    junk = tmp_path / "junk.bin"
    junk.write_text("this is not a language model\n")
    with pytest.raises(LmbootError, match="not a readable ARPA or KenLM binary"):
        LMScorer(junk)


def test_weights_json_round_trip_and_errors(tmp_path):
    w = Weights(lm_weight=0.3, length_penalty=-0.5, norm_exponent=1.0)
    w.to_json(tmp_path / "w.json", extra={"tuned": {"metric": "chrf"}})
    assert Weights.from_json(tmp_path / "w.json") == w
    (tmp_path / "bad.json").write_text('{"lm_weight": "high"}')
    with pytest.raises(LmbootError, match="bad.json: weight lm_weight must be a finite number"):
        Weights.from_json(tmp_path / "bad.json")
    (tmp_path / "bad2.json").write_text("{")
    with pytest.raises(LmbootError, match="not a JSON weights file"):
        Weights.from_json(tmp_path / "bad2.json")


def _cli(*args):
    from lmboot.cli import main

    with pytest.raises(SystemExit) as ei:
        main(list(map(str, args)))
    return ei.value.code


def test_cli_tune_save_and_reuse_weights(seed_lm, tmp_path, capsys):
    _, held = split_pairs()
    dev = write_jsonl(tmp_path / "dev.nbest.jsonl", nbest_entries(held[::2], seed=1))
    test = write_jsonl(tmp_path / "test.nbest.jsonl", nbest_entries(held[1::2], seed=2))
    assert _cli("rescore", test, "--lm", seed_lm.binary, "--out-txt", tmp_path / "a.txt", "--out-jsonl",
                tmp_path / "a.jsonl", "--tune-on", dev, "--metric", "chrf", "--save-weights",
                tmp_path / "tuned.json", "--json", tmp_path / "report.json") == 0
    out = capsys.readouterr().out
    assert "tuned on 8 entries" in out and "chrf" in out
    saved = json.loads((tmp_path / "tuned.json").read_text())
    assert saved["lm_weight"] > 0 and saved["tuned"]["after"] > saved["tuned"]["before"]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["rescore"]["after"] > report["rescore"]["before"]
    assert _cli("rescore", test, "--lm", seed_lm.binary, "--out-txt", tmp_path / "b.txt",
                "--weights-from", tmp_path / "tuned.json") == 0
    assert (tmp_path / "a.txt").read_bytes() == (tmp_path / "b.txt").read_bytes()
    expected = [e["hyps"][1]["text"] for e in nbest_entries(held[1::2], seed=2)]
    assert (tmp_path / "b.txt").read_text(encoding="utf-8").splitlines() == expected


def test_cli_errors_are_one_line_exit_2(seed_lm, tmp_path, capsys):
    from conftest import one_error_line

    good = write_jsonl(tmp_path / "n.jsonl", [{"id": 1, "hyps": [{"text": "a", "score": -1}]}])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "hyps": [{"text": "a", "score": -1}]}\n{"id": 2, "hyps": [{"text": "b"}]}\n')
    p = subprocess.run([sys.executable, str(ROOT / "cli.py"), "rescore", str(bad), "--lm", str(seed_lm.binary),
                        "--out-txt", str(tmp_path / "o.txt")], capture_output=True, text=True)
    lines = [x for x in p.stderr.splitlines() if not x.startswith("[lmboot]")]
    assert p.returncode == 2 and len(lines) == 1 and f"{bad}:2: hyps[0] is missing key 'score'" in lines[0]
    assert "Traceback" not in p.stderr and not (tmp_path / "o.txt").exists()
    for args, needle in [
        (("--lm", tmp_path / "none.bin", "--out-txt", tmp_path / "o.txt"), "none.bin: language model not found"),
        (("--lm", seed_lm.binary, "--out-txt", tmp_path / "o.txt", "--weights-from", tmp_path / "w.json",
          "--lm-weight", "1"), "--weights-from cannot be combined with --lm-weight"),
        (("--lm", seed_lm.binary, "--save-weights", tmp_path / "w.json"), "--save-weights needs --tune-on"),
        (("--lm", seed_lm.binary, "--out-txt", tmp_path / "o.txt", "--tune-on", good),
         f"{good}:1: entry 1 has no 'ref'"),
    ]:
        capsys.readouterr()
        assert _cli("rescore", good, *args) == 2
        one_error_line(capsys.readouterr().err, needle)
    assert not (tmp_path / "o.txt").exists() and not (tmp_path / "w.json").exists()


def test_the_2048_hypothesis_batch_boundary_changes_nothing(scorer):
    """rescore() scores 2,048+ hypotheses at a time (and the scorer slices by 2,048): 700 entries
    of 3 hypotheses, each batch boundary inside an entry, equal each entry rescored alone."""
    from lmboot.lm.score import SCORE_BATCH

    rng = random.Random(5)
    pairs_ = list(pairs())
    entries = [{"id": str(i), "hyps": [{"text": rng.choice(pairs_)[rng.randint(0, 1)],
                                        "score": -rng.random() * 5, "tokens": 4} for _ in range(3)]}
               for i in range(700)]
    assert 3 * len(entries) > SCORE_BATCH and SCORE_BATCH % 3  # a batch ends inside an entry
    w = Weights(lm_weight=0.7, length_penalty=0.3)
    together = list(rescore(entries, scorer, w))
    alone = [next(rescore([e], scorer, w)) for e in entries]
    assert together == alone
    assert len({e["best"] for e in together}) > 1  # the LM decides: not all the first hypothesis
