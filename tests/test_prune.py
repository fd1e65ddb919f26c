"""`lmboot lm prune`: relative-entropy pruning (Stolcke 1998) to a threshold or a size budget."""
from __future__ import annotations

import copy
import math
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TOY
from lmboot import lm
from lmboot.errors import LmbootError
from lmboot.io.arpa import ArpaReader, unigrams
from lmboot.lm.pruning import _Model, parse_size

pytestmark = pytest.mark.usefixtures("kenlm_ready")


@pytest.fixture(scope="module")
def toy_lm(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("prune")
    return lm.train(TOY / "general.hi", d / "general.arpa", order=3).arpa


def entries(path: Path) -> dict[tuple[str, ...], tuple[float, float]]:
    return {w: (p, b or 0.0) for _, w, p, b in ArpaReader(path)}


class Backoff:
    """A plain dict-based backoff model: the reference the array code is checked against."""

    def __init__(self, ngrams: dict):
        self.ng = ngrams
        self.vocab = [w[0] for w in ngrams if len(w) == 1 and w[0] != "<s>"]

    def logp(self, w: str, h: tuple[str, ...]) -> float:
        if h + (w,) in self.ng:
            return self.ng[h + (w,)][0]
        bow = self.ng[h][1] if h in self.ng else 0.0
        return bow + self.logp(w, h[1:]) if h else self.ng[(w,)][0]

    def dist(self, h: tuple[str, ...]) -> dict[str, float]:
        return {w: 10 ** self.logp(w, h) for w in self.vocab}


def test_pruned_model_is_valid_smaller_and_normalised(toy_lm, tmp_path):
    import kenlm

    res = lm.prune(toy_lm, tmp_path / "p.arpa", threshold=1e-5)
    before, after = entries(toy_lm), entries(res.arpa)  # our reader checks the header counts
    assert res.ngrams_before == ArpaReader(toy_lm).counts and res.ngrams_after == ArpaReader(res.arpa).counts
    assert res.ngrams_after[0] == res.ngrams_before[0]  # 1-grams are never pruned
    assert res.ngrams_after[1] < res.ngrams_before[1] and res.ngrams_after[2] < res.ngrams_before[2] / 2
    assert set(after) < set(before)
    assert all(after[k][0] == before[k][0] for k in after)  # kept probabilities unchanged
    # Contexts whose n-grams were pruned get new back-off weights; each p(.|h) sums to one.
    changed = [k for k in after if len(k) < 3 and after[k][1] != before[k][1]]
    assert len(changed) >= 10 and res.recomputed_backoffs >= len(changed)
    model, words = kenlm.Model(str(res.arpa)), unigrams(res.arpa) + ["</s>", "<unk>"]
    for h in [()] + changed[:6] + [k for k in changed if len(k) == 2][:6]:
        state = kenlm.State()
        model.NullContextWrite(state)
        for w in h:
            nxt = kenlm.State()
            model.BaseScore(state, w, nxt) if w != "<s>" else model.BeginSentenceWrite(nxt)
            state = nxt
        total = sum(10 ** model.BaseScore(state, w, kenlm.State()) for w in words)
        assert total == pytest.approx(1.0, abs=2e-4), h
    # Closed under prefixes and suffixes (the reader insists), and a fixed point at threshold 0.
    again = lm.prune(res.arpa, tmp_path / "again.arpa", threshold=0)
    assert again.arpa.read_bytes() == res.arpa.read_bytes()


def test_threshold_zero_prunes_nothing(toy_lm, tmp_path):
    res = lm.prune(toy_lm, tmp_path / "same.arpa", threshold=0.0)
    assert res.ngrams_after == res.ngrams_before
    assert res.arpa.read_bytes() == toy_lm.read_bytes()  # same probabilities, same back-off weights


def test_larger_threshold_prunes_more(toy_lm, tmp_path):
    kept = []
    for i, t in enumerate([1e-9, 1e-8, 1e-7, 1e-6, 1e-5]):
        kept.append(set(entries(lm.prune(toy_lm, tmp_path / f"{i}.arpa", threshold=t).arpa)))
    assert all(b <= a for a, b in zip(kept, kept[1:]))  # nested: a larger threshold only removes more
    assert len(kept[-1]) < len(kept[0]) / 2


def test_max_size_fits_the_budget(toy_lm, tmp_path):
    full = lm.build_binary(toy_lm, tmp_path / "full.bin").stat().st_size
    budget = int(full * 0.6)
    res = lm.prune(toy_lm, tmp_path / "fit.arpa", max_size=budget, binary=tmp_path / "fit.bin")
    size = (tmp_path / "fit.bin").stat().st_size
    assert size == res.binary_bytes == res.predicted_bytes and size <= budget
    assert size > 0.9 * budget  # the smallest threshold that fits, not any
    assert lm.load(tmp_path / "fit.bin").order == 3 and (tmp_path / "fit.bin.sha256").exists()
    # The next smaller threshold would not fit.
    looser = lm.prune(toy_lm, tmp_path / "looser.arpa", threshold=res.threshold * (1 - 1e-6))
    assert looser.predicted_bytes > budget
    roomy = lm.prune(toy_lm, tmp_path / "roomy.arpa", max_size=f"{full / 1e6 * 2}MB")
    assert roomy.ngrams_after == roomy.ngrams_before and roomy.threshold == 0


def test_entropy_formula_against_brute_force(tmp_path, make_text):
    """D of single n-grams against the relative entropy summed over the whole vocabulary, with the
    context's back-off weight renormalised by brute force."""
    text = make_text("t.txt", ["a b c a b", "b c a", "a b a b c c", "c a b c", "a c b a", "b b c a"] * 2)
    arpa = lm.train(text, tmp_path / "tiny.arpa", order=3, discount_fallback=True).arpa
    ng = entries(arpa)
    ref, model = Backoff(ng), _Model(arpa)
    pc = model.deltas()
    checked = 0
    for gram in [g for g in ng if len(g) > 1]:
        h, w = gram[:-1], gram[-1]
        p = ref.dist(h)
        # P(h): chain rule; a history starting with <s> uses p(</s>) for p(<s>), as SRILM
        logp_h = sum(ref.logp("</s>" if (j == 0 and x == "<s>") else x, h[:j]) for j, x in enumerate(h))
        pruned = dict(ng)
        del pruned[gram]
        listed = [v for v in ref.vocab if h + (v,) in pruned]
        lower = Backoff(pruned)
        mass = 1 - sum(p[v] for v in listed)
        bo_mass = sum(10 ** lower.logp(v, h[1:]) for v in ref.vocab if v not in listed)
        pruned[h] = (ng[h][0], math.log10(mass / bo_mass))
        q = Backoff(pruned).dist(h)
        assert sum(q.values()) == pytest.approx(1.0, abs=1e-5)
        d_brute = 10 ** logp_h * sum(p[v] * math.log10(p[v] / q[v]) for v in ref.vocab)
        d_ours = math.log10(1 + float(pc[len(gram)][model.lookup(list(gram))]))
        assert d_ours == pytest.approx(d_brute, rel=2e-3, abs=1e-9), gram
        checked += 1
    assert checked > 20


def test_history_probabilities_are_text_frequencies(tmp_path, make_text):
    """--history-text: P(h) is the share of the text's positions (words and </s>) that h precedes."""
    from lmboot.lm.history import history_logprobs

    one = ["a b c a b", "b c a", "a b a b c c"]
    two = ["c c a", "b b"]
    t1, t2 = make_text("one.txt", one), make_text("two.txt", two)
    arpa = lm.train(make_text("all.txt", one + two), tmp_path / "h.arpa", order=3, discount_fallback=True).arpa
    model = _Model(arpa)

    def freq(lines, h):
        seqs = [["<s>"] + x.split() for x in lines]
        hits = sum(s[i:i + len(h)] == list(h) for s in seqs for i in range(len(s)))
        return hits / sum(len(s) for s in seqs)

    pooled = history_logprobs(model, [(t1, None), (t2, None)])
    weighted = history_logprobs(model, [(t1, 1.0), (t2, 3.0)])
    for h in [("a",), ("<s>",), ("c",), ("a", "b"), ("<s>", "a"), ("b", "c"), ("c", "c")]:
        i = model.lookup(list(h))
        assert i >= 0
        assert 10 ** pooled[len(h)][i] == pytest.approx(freq(one + two, h))
        expect = 0.25 * freq(one, h) + 0.75 * freq(two, h)
        assert 10 ** weighted[len(h)][i] == pytest.approx(expect or 0.5 / 27)  # unseen: half a count
    res = lm.prune(arpa, tmp_path / "hp.arpa", threshold=0.05, history=[(t1, 1.0), (t2, 3.0)])
    assert res.history == [str(t1), str(t2)] and sum(res.ngrams_after) < sum(res.ngrams_before)
    with pytest.raises(LmbootError, match="weight for every history text or for none"):
        history_logprobs(model, [(t1, 1.0), (t2, None)])


def test_words_with_unicode_spaces(tmp_path, make_text):
    """lmplz splits words at ASCII spaces only: a no-break space stays inside a word."""
    text = make_text("nbsp.txt", ["um 7\u00a0Uhr bitte", "um 8 Uhr bitte", "bitte um 7\u00a0Uhr"] * 3)
    arpa = lm.train(text, tmp_path / "nbsp.arpa", order=3, normalize_text=False, discount_fallback=True).arpa
    res = lm.prune(arpa, tmp_path / "nbsp.p.arpa", threshold=1e-3, binary=tmp_path / "nbsp.bin")
    assert "7\u00a0Uhr" in unigrams(res.arpa) and lm.load(res.binary).order == 3


def test_docstring_examples_hold():
    import doctest
    import importlib

    for name in ("lmboot.lm.size", "lmboot.io.arpa"):
        res = doctest.testmod(importlib.import_module(name))
        assert res.attempted > 0 and res.failed == 0, name


def test_parse_size():
    assert parse_size("5MB") == 5_000_000 and parse_size("500KB") == 500_000
    assert parse_size("1.5GB") == 1_500_000_000 and parse_size("64MiB") == 64 * 2**20 and parse_size(123) == 123
    for bad in ("5 parsecs", "-1MB", "0", "", True, 1.5, None):
        with pytest.raises(LmbootError):
            parse_size(bad)


def test_config_max_size_is_checked():
    from lmboot.pipeline.config import DEFAULTS, validate

    cfg = copy.deepcopy(DEFAULTS)
    assert cfg["lm"]["max_size"] is None
    for ok in ("5MB", 5_000_000):
        cfg["lm"]["max_size"] = ok
        validate(cfg)
    cfg["lm"]["max_size"] = "5 parsecs"
    with pytest.raises(LmbootError, match=r"\[lm\] max_size must be a size"):
        validate(cfg)


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lmboot", "lm", "prune", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT)


def test_cli_prunes_and_bad_input_is_one_line(toy_lm, tmp_path):
    p = _cli(toy_lm, "--out", tmp_path / "ok.arpa", "--max-size", "300KB", "--binary", tmp_path / "ok.bin",
             "--json", tmp_path / "ok.json")
    assert p.returncode == 0, p.stderr
    assert "kept" in p.stdout and (tmp_path / "ok.bin").stat().st_size <= 300_000
    p = _cli(toy_lm, "--out", tmp_path / "hist.arpa", "--threshold", "1e-6", "--history-text", TOY / "general.hi")
    assert p.returncode == 0 and "P(h) from" in p.stdout, p.stderr
    lm.build_binary(toy_lm, tmp_path / "model.bin")
    (tmp_path / "notarpa.txt").write_text("hello world\n", encoding="utf-8")
    cases = [
        ((tmp_path / "notarpa.txt", "--threshold", "1e-8"), "notarpa.txt: not an ARPA file"),
        ((tmp_path / "model.bin", "--threshold", "1e-8"), "model.bin: is a KenLM binary"),
        ((toy_lm, "--max-size", "1KB"), "cannot be met: the"),
        ((toy_lm, "--max-size", "5 parsecs"), "--max-size: a size must be"),
        ((toy_lm, "--threshold", "-1"), "--threshold must be"),
        ((toy_lm,), "give one of --max-size and --threshold"),
        ((toy_lm, "--threshold", "1e-8", "--max-size", "1MB"), "give one of --max-size and --threshold"),
        ((toy_lm, "--threshold", "1e-8", "--history-text", TOY / "general.hi", "--history-weight", "1",
          "--history-weight", "2"), "2 --history-weight for 1 --history-text"),
        ((toy_lm, "--threshold", "1e-8", "--history-text", tmp_path / "missing.txt"), "missing.txt"),
    ]
    for args, needle in cases:
        out = tmp_path / "bad.arpa"
        p = _cli(*args, "--out", out, "--binary", tmp_path / "bad.bin")
        errors = [x for x in p.stderr.splitlines() if not x.startswith("[lmboot]")]
        assert p.returncode == 2 and len(errors) == 1 and needle in errors[0], (args, p.stderr)
        assert "Traceback" not in p.stderr
        assert not out.exists() and not (tmp_path / "bad.bin").exists()
        assert not [f for f in tmp_path.iterdir() if f.name.startswith(".bad")]  # no temporary left


def test_pipeline_prunes_each_final_lm_to_the_budget(tmp_path):
    import json

    from lmboot import pipeline

    budget = 200_000
    cfg = tmp_path / "run.toml"
    cfg.write_text(f"""
[run]
dir = "{tmp_path / 'run'}"
[data]
seed = "{TOY}/seed.hi"
dev = "{TOY}/dev.hi"
test = "{TOY}/test.hi"
source = "{TOY}/source.en"
general_src = "{TOY}/general.en"
general_tgt = "{TOY}/general.hi"
[lm]
max_size = "{budget // 1000}KB"
[eval]
simulate = false
""", encoding="utf-8")
    res = pipeline.run(cfg, systems=["seed", "general"])
    step = json.loads(res.manifest.read_text())["steps"]["lm.general"]
    pr = step["metrics"]["pruned"]
    assert pr["max_size"] == budget and pr["binary_bytes"] <= budget
    assert sum(pr["ngrams_after"]) < sum(pr["ngrams_before"])
    assert pr["dev_ppl_common"] >= step["metrics"]["dev_ppl_common"]  # pruning costs some dev perplexity
    binary = Path(step["outputs"]["binary"]["path"])
    assert binary.stat().st_size == pr["binary_bytes"]
    assert ArpaReader(step["outputs"]["arpa"]["path"]).counts == pr["ngrams_after"]
