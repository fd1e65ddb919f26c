"""lmboot lm build: per-source LMs interpolated linearly (static ARPA mixture) or log-linearly."""
from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lmboot.io.arpa import ArpaReader
from lmboot.lm.builder import build, parse_source
from lmboot.lm.mixture import em_weights, mix_arpa
from lmboot.errors import LmbootError

ROOT = Path(__file__).resolve().parent.parent

# ---- synthetic two-domain data: voice-assistant requests vs. news-like sentences ----------
NAMES = ["ravi", "meera", "arjun", "sita", "kabir", "anita", "vikram", "pooja", "rahul", "neha",
         "amit", "kiran", "suresh", "lata", "mohan", "gita", "deepak", "asha", "nikhil", "ritu"]
CITIES = ["delhi", "mumbai", "pune", "jaipur", "patna", "bhopal", "indore", "kochi", "agra", "surat"]
NUMS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
SONGS = ["tum hi ho", "kal ho na ho", "chaiyya chaiyya", "kun faya kun", "lag ja gale"]
IN_DOMAIN = [
    "set an alarm for {n} in the morning", "wake me up at {n} tomorrow", "call {p} on mobile",
    "send a message to {p} that i am late", "what is the weather in {c} today",
    "play {s} please", "remind me to call {p} at {n}", "set a timer for {n} minutes",
    "turn the volume up", "how hot will it be in {c} tomorrow", "message {p} i will reach {c} by {n}",
]
GENERAL = [
    "the minister of {c} met {p} on monday", "police in {c} arrested {n} people",
    "{p} won the election in {c}", "the river in {c} flooded after {n} days of rain",
    "prices of onions rose in {c} markets", "{p} wrote a book about the history of {c}",
    "the train from {c} to {c} was late by {n} hours", "schools in {c} will stay closed",
    "{p} said the weather in {c} was pleasant", "{n} teams will play the final in {c}",
]


def _fill(rng, template):
    return template.format(n=rng.choice(NUMS), p=rng.choice(NAMES), c=rng.choice(CITIES), s=rng.choice(SONGS))


def _corpus(seed, n, templates, mix_in=None, mix_rate=0.0):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = rng.choice(mix_in if mix_in and rng.random() < mix_rate else templates)
        out.append(_fill(rng, t))
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("mixdata")
    (d / "in domain.txt").write_text("\n".join(_corpus(1, 150, IN_DOMAIN)) + "\n", encoding="utf-8")
    (d / "general.txt").write_text("\n".join(_corpus(2, 700, GENERAL, IN_DOMAIN, 0.1)) + "\n", encoding="utf-8")
    (d / "dev.txt").write_text("\n".join(_corpus(3, 80, IN_DOMAIN)) + "\n", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def built(data, kenlm_ready):
    """Both methods built once over the same two sources (shares the component LMs)."""
    out = {}
    for method in ("linear", "loglinear"):
        out[method] = build([("seed", data / "in domain.txt"), ("general", data / "general.txt")],
                                data / "dev.txt", data / f"final {method}.arpa", order=3, method=method,
                                work_dir=data / "parts")
    return out


def _state(model, ctx):
    import kenlm

    a, b = kenlm.State(), kenlm.State()
    if ctx and ctx[0] == "<s>":
        model.BeginSentenceWrite(a)
        ctx = ctx[1:]
    else:
        model.NullContextWrite(a)
    for w in ctx:
        model.BaseScore(a, w, b)
        a, b = b, a
    return a


def _p(model, ctx, w):
    import kenlm

    return 10 ** model.BaseScore(_state(model, list(ctx)), w, kenlm.State())


# ---- acceptance: weights and perplexity -----------------------------------------------------
@pytest.mark.parametrize("method", ["linear", "loglinear"])
def test_weights_favour_in_domain_source_and_mix_is_no_worse(built, method):
    res = built[method]
    assert res.weights["seed"] > res.weights["general"], res.weights
    best = min(c.dev_ppl_common for c in res.components)
    assert res.mix_ppl_common <= best * 1.01, (res.mix_ppl_common, best)
    # and it really combines: the mix beats the in-domain LM alone (general adds names/cities)
    assert res.mix_ppl_common < 0.97 * res.components[0].dev_ppl_common
    assert res.arpa.exists() and res.method == method


def test_linear_weights_sum_to_one_and_em_matches_static_mixture(built):
    res = built["linear"]
    assert math.isclose(sum(res.weights.values()), 1.0, abs_tol=1e-9)
    em = res.tuning["em"]
    assert em["converged"]
    # the EM objective (dynamic mixture) and the static ARPA's perplexity nearly agree
    assert abs(em["ppl"] - res.mix_ppl_common) / res.mix_ppl_common < 0.05


# ---- the static mixture is a proper, exact linear mixture ------------------------------------
def test_mixed_arpa_loads_and_equals_weighted_sum_of_components(built, data):
    from lmboot import lm

    res = built["linear"]
    m = lm.load(res.arpa)
    comps = [lm.load(c.arpa) for c in res.components]
    lam = [c.weight for c in res.components]
    grams = [ws for _n, ws, _lp, _lb in ArpaReader(res.arpa)]
    rng = random.Random(0)
    checked = 0
    for ws in rng.sample(grams, 400):
        ctx, w = ws[:-1], ws[-1]
        if w == "<s>":
            continue
        expect = sum(l * (_p(c, ctx, w) if (w in c or w == "<unk>") else 0.0) for l, c in zip(lam, comps))
        assert _p(m, ctx, w) == pytest.approx(expect, rel=1e-5), ws
        checked += 1
    assert checked > 300


def test_mixed_arpa_distributions_normalise(built):
    from lmboot import lm

    res = built["linear"]
    m = lm.load(res.arpa)
    entries = list(ArpaReader(res.arpa))
    vocab = [ws[0] for n, ws, _, _ in entries if n == 1 and ws[0] != "<s>"]
    contexts = [(), ("<s>",), ("<s>", "call"), ("call",), ("in", "the"), ("the", "weather"),
                ("zzz",), ("ravi", "qqq")]
    rng = random.Random(1)
    contexts += [ws[:-1] for n, ws, _, _ in rng.sample([e for e in entries if e[0] == 3], 20)]
    contexts += [ws[:-1] for n, ws, _, _ in rng.sample([e for e in entries if e[0] == 2], 20)]
    for ctx in contexts:
        st = _state(m, list(ctx))
        import kenlm

        total = sum(10 ** m.BaseScore(st, w, kenlm.State()) for w in vocab)
        assert total == pytest.approx(1.0, abs=1e-4), ctx


def _write_arpa(path, sections):
    counts = [len(s) for s in sections]
    lines = ["\\data\\"] + [f"ngram {i}={c}" for i, c in enumerate(counts, 1)] + [""]
    for n, sec in enumerate(sections, 1):
        lines.append(f"\\{n}-grams:")
        for words, p, b in sec:
            lines.append(f"{math.log10(p):.9f}\t{words}" + (f"\t{math.log10(b):.9f}" if b else ""))
        lines.append("")
    lines.append("\\end\\")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_mixture_handles_a_suffix_missing_from_every_component(tmp_path, kenlm_ready):
    """Trigram 'a b c' listed, bigram 'b c' in neither model: the denominator backs off."""
    from lmboot import lm

    a = _write_arpa(tmp_path / "a.arpa", [
        [("<unk>", .2, None), ("<s>", 1e-99, 1.0), ("</s>", .2, None), ("a", .2, .625), ("b", .2, .75), ("c", .2, None)],
        [("a b", .5, 0.4 / 0.85), ("b a", .4, None)],
        [("a b c", .6, None)],
    ])
    b = _write_arpa(tmp_path / "b.arpa", [
        [("<unk>", .1, None), ("<s>", 1e-99, 1.0), ("</s>", .2, None), ("a", .1, None), ("b", .3, None),
         ("c", .3, .5 / .9)],
        [("c a", .5, None)],
    ])
    from lmboot.lm import tools

    def trie(arpa):  # KenLM's probing table is too small for missing suffixes in a 10-line model
        tools.run_tool("build_binary", ["trie", arpa, arpa.with_suffix(".bin")])
        return lm.load(arpa.with_suffix(".bin"))

    stats = mix_arpa([a, b], [0.7, 0.3], tmp_path / "m.arpa", models=[trie(a), trie(b)])
    assert stats.suffix_fallbacks >= 1 and stats.ngrams == [6, 3, 1]
    m = trie(tmp_path / "m.arpa")
    assert _p(m, ("a", "b"), "c") == pytest.approx(0.7 * 0.6 + 0.3 * 0.3, rel=1e-5)
    import kenlm

    for ctx in [(), ("a",), ("b",), ("c",), ("a", "b"), ("b", "a"), ("<s>",)]:
        st = _state(m, list(ctx))
        total = sum(10 ** m.BaseScore(st, w, kenlm.State()) for w in ["<unk>", "</s>", "a", "b", "c"])
        assert total == pytest.approx(1.0, abs=1e-5), ctx


def test_em_weights():
    # model 0 always twice as likely: all weight goes to it
    res = em_weights(np.array([[0.2, 0.1]] * 10))
    assert res.weights == [1.0, 0.0] and res.converged
    # complementary models: half the tokens each -> 0.5/0.5 is the optimum
    res = em_weights(np.array([[0.5, 0.0]] * 5 + [[0.0, 0.5]] * 5))
    assert res.weights == pytest.approx([0.5, 0.5], abs=1e-6)
    with pytest.raises(LmbootError):
        em_weights(np.zeros((0, 2)))


# ---- reuse, determinism, one source -----------------------------------------------------------
def test_components_reused_and_output_deterministic(built, data):
    again = build([("seed", data / "in domain.txt"), ("general", data / "general.txt")],
                      data / "dev.txt", data / "again.arpa", order=3, method="linear", work_dir=data / "parts")
    assert all(c.reused for c in again.components)
    assert again.weights == built["linear"].weights
    assert (data / "again.arpa").read_bytes() == built["linear"].arpa.read_bytes()


def test_one_source_is_that_lm_with_weight_one(data, tmp_path, kenlm_ready):
    res = build({"seed": data / "in domain.txt"}, data / "dev.txt", tmp_path / "one.arpa")
    assert res.weights == {"seed": 1.0}
    assert res.mix_ppl_common == pytest.approx(res.components[0].dev_ppl_common)
    assert (tmp_path / "one.arpa").read_bytes() == Path(res.components[0].arpa).read_bytes()
    assert res.work_dir == tmp_path / "one.arpa.parts"


def test_count_pruning_per_component(data, tmp_path, kenlm_ready):
    """prune={name: thresholds}: lmplz count pruning of some components only (a small seed kept whole)."""
    from lmboot.io.arpa import ArpaReader

    srcs = [("seed", data / "in domain.txt"), ("general", data / "general.txt")]
    whole = build(srcs, data / "dev.txt", tmp_path / "whole.arpa")
    some = build(srcs, data / "dev.txt", tmp_path / "some.arpa", prune={"general": [0, 1, 1]})
    counts = {r: {c.name: ArpaReader(c.arpa).counts for c in res.components} for r, res in
              (("whole", whole), ("some", some))}
    assert counts["some"]["seed"] == counts["whole"]["seed"]
    assert sum(counts["some"]["general"][1:]) < sum(counts["whole"]["general"][1:])


# ---- bad input ---------------------------------------------------------------------------------
def test_bad_inputs_are_one_line_errors(data, tmp_path, kenlm_ready):
    good = [("seed", data / "in domain.txt"), ("general", data / "general.txt")]
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "punct.txt").write_text("!!!\n...\n", encoding="utf-8")
    cases = [
        (lambda: build([("seed", tmp_path / "nope.hi")] + good[1:], data / "dev.txt", tmp_path / "o.arpa"),
         "nope.hi: text of source 'seed' not found"),
        (lambda: build(good, tmp_path / "empty.txt", tmp_path / "o.arpa"), "empty.txt: dev text is empty"),
        (lambda: build(good, tmp_path / "punct.txt", tmp_path / "o.arpa"), "no sentence left"),
        (lambda: build([], data / "dev.txt", tmp_path / "o.arpa"), "no text source"),
        (lambda: build([("x", good[0][1]), ("x", good[1][1])], data / "dev.txt", tmp_path / "o.arpa"),
         "two sources are named 'x'"),
        (lambda: build(good, data / "dev.txt", tmp_path / "o.arpa", method="cubic"),
         "unknown interpolation method"),
        (lambda: mix_arpa([tmp_path / "punct.txt"], [1.0], tmp_path / "o.arpa"), "no \\data\\ header"),
    ]
    for fn, msg in cases:
        with pytest.raises(LmbootError) as e:
            fn()
        assert msg in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "o.arpa").exists() and not (tmp_path / "o.arpa.parts").exists()


def test_arpa_reader_names_file_and_line(tmp_path):
    p = tmp_path / "bad.arpa"
    p.write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-1.0\ta\n-1.0\n\\end\\\n", encoding="utf-8")
    with pytest.raises(LmbootError, match=r"bad.arpa:6: expected a 1-gram line"):
        list(ArpaReader(p))
    p.write_text("\\data\\\nngram 1=3\n\n\\1-grams:\n-1.0\ta\n-1.0\tb\n\n\\end\\\n", encoding="utf-8")
    with pytest.raises(LmbootError, match=r"announces 3 1-grams, the section has 2"):
        list(ArpaReader(p))


def test_parse_source():
    assert parse_source("seed=a b/seed.hi") == ("seed", "a b/seed.hi")
    assert parse_source("dir/mt.hi") == ("mt", "dir/mt.hi")


# ---- CLI ---------------------------------------------------------------------------------------
def test_cli_build_and_bad_input(built, data, tmp_path):
    exe = [sys.executable, "-m", "lmboot"]
    out = tmp_path / "cli final.arpa"
    r = subprocess.run(exe + ["lm", "build", "--text", f"seed={data / 'in domain.txt'}",
                              "--text", f"general={data / 'general.txt'}", "--dev", str(data / "dev.txt"),
                              "--out", str(out), "--work-dir", str(data / "parts"), "--json",
                              str(tmp_path / "s.json"), "--binary", str(tmp_path / "f.bin")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert summary["weights"] == built["linear"].weights and summary["method"] == "linear"
    assert out.read_bytes() == built["linear"].arpa.read_bytes() and (tmp_path / "f.bin").exists()
    assert "mix (linear)" in r.stdout
    r = subprocess.run(exe + ["lm", "build", "--text", str(tmp_path / "missing.hi"), "--dev",
                              str(data / "dev.txt"), "--out", str(tmp_path / "x.arpa")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2
    err = [l for l in r.stderr.splitlines() if l.strip()]
    assert err == [f"lmboot: error: {tmp_path / 'missing.hi'}: text of source 'missing' not found"]


# ---- real data ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_tico_mix_beats_components(tico, tmp_path, kenlm_ready):
    for method in ("linear", "loglinear"):
        res = build([("seed", tico / "seed.hi"), ("general", tico / "general.hi")], tico / "dev.hi",
                        tmp_path / f"{method}.arpa", method=method, work_dir=tmp_path / "parts")
        assert res.mix_ppl_common < min(c.dev_ppl_common for c in res.components)
