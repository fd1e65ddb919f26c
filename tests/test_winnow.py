"""Winnowing by seed-LM perplexity: direct and percentile thresholds, outputs, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lmboot import lm, winnow
from lmboot.errors import LmbootError

pytestmark = pytest.mark.usefixtures("kenlm_ready")

SEED = ["set an alarm for six", "set an alarm for seven", "set a timer for ten minutes",
        "play some music", "call mom", "what is the weather today", "remind me to buy milk"] * 4
GOOD = ["set an alarm for seven", "play some music", "call mom"]
BAD = ["budget committee approved sharply", "flooded river north expected prices"]


@pytest.fixture
def seed_lm(make_text, tmp_path):
    return lm.train(make_text("seed.txt", SEED), tmp_path / "seed.arpa", order=3).arpa


def test_direct_threshold_splits_good_from_bad(seed_lm, make_text, tmp_path):
    text = make_text("mt.txt", GOOD + BAD)
    model = lm.load(seed_lm)
    ppl = {s: lm.sentence_perplexity(model, s) for s in GOOD + BAD}
    cut = (max(ppl[s] for s in GOOD) + min(ppl[s] for s in BAD)) / 2
    res = winnow.winnow(text, seed_lm, tmp_path / "out", threshold=cut)
    assert (res.kept, res.dropped, res.total) == (3, 2, 5)
    assert (tmp_path / "out" / "kept.txt").read_text().splitlines() == GOOD
    dropped = (tmp_path / "out" / "dropped.tsv").read_text().splitlines()
    assert [d.split("\t")[1] for d in dropped] == BAD
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["kept"] == 3 and summary["threshold"] == pytest.approx(cut)
    assert summary["quantiles"]["p0"] <= summary["quantiles"]["p50"] <= summary["quantiles"]["p100"]


def test_percentile_threshold_from_dev(seed_lm, make_text, tmp_path):
    dev = make_text("dev.txt", ["set an alarm for six", "play some music", "call mom",
                                "what is the weather today", "remind me to buy milk"])
    model = lm.load(seed_lm)
    dev_ppl = np.array([lm.sentence_perplexity(model, s) for s in dev.read_text().splitlines()])
    res = winnow.winnow(make_text("mt.txt", GOOD + BAD), seed_lm, tmp_path / "o", percentile=80, dev=dev)
    assert res.threshold == pytest.approx(np.percentile(dev_ppl, 80), rel=1e-6)
    assert "p80" in res.threshold_from
    ppl = {s: lm.sentence_perplexity(model, s) for s in GOOD + BAD}
    kept = (tmp_path / "o" / "kept.txt").read_text().splitlines()
    assert kept == [s for s in GOOD + BAD if ppl[s] <= res.threshold]
    assert not set(kept) & set(BAD)
    # The 100th percentile keeps at least everything that looks like dev.
    res100 = winnow.winnow(dev, seed_lm, tmp_path / "o2", percentile=100, dev=dev)
    assert res100.kept == 5


def test_histogram_png(seed_lm, make_text, tmp_path):
    """The library draws the histogram (as select does), not the CLI or the pipeline."""
    res = winnow.winnow(make_text("mt.txt", GOOD + BAD), seed_lm, tmp_path / "o", threshold=50)
    assert res.histogram_path == tmp_path / "o" / "histogram.png"
    assert res.histogram_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    off = winnow.winnow(make_text("mt2.txt", GOOD + BAD), seed_lm, tmp_path / "o2", threshold=50, plot=False)
    assert off.histogram_path is None and not (tmp_path / "o2" / "histogram.png").exists()


def test_docstring_names_the_files_winnow_writes(seed_lm, make_text, tmp_path):
    winnow.winnow(make_text("mt.txt", GOOD + BAD), seed_lm, tmp_path / "o", threshold=50)
    written = {p.name for p in (tmp_path / "o").iterdir()}
    assert written == {"kept.txt", "dropped.tsv", "scores.f32", "summary.json", "histogram.png"}
    for name in written:
        assert name in winnow.winnow.__doc__
    assert "dropped.txt" not in winnow.winnow.__doc__ and "dropped.txt" not in winnow.__doc__


def test_bad_arguments(seed_lm, make_text, tmp_path):
    text = make_text("mt.txt", GOOD)
    with pytest.raises(LmbootError, match="exactly one"):
        winnow.winnow(text, seed_lm, tmp_path / "o")
    with pytest.raises(LmbootError, match="needs --dev"):
        winnow.winnow(text, seed_lm, tmp_path / "o", percentile=90)
    with pytest.raises(LmbootError, match="not found"):
        winnow.winnow(text, tmp_path / "nolm.arpa", tmp_path / "o", threshold=10)
    with pytest.raises(LmbootError, match=r"kept nothing.*lowest"):
        winnow.winnow(text, seed_lm, tmp_path / "o", threshold=1.0001)
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_allow_empty_writes_an_empty_kept_file(seed_lm, make_text, tmp_path):
    res = winnow.winnow(make_text("mt.txt", BAD), seed_lm, tmp_path / "o", threshold=1.0001, allow_empty=True)
    assert (res.kept, res.dropped) == (0, 2)
    assert (tmp_path / "o" / "kept.txt").read_text() == ""


def test_the_2048_line_streaming_boundary_changes_nothing(make_text, tmp_path):
    """winnow normalises and scores in chunks of 2,048 lines: 2,102 lines, with an empty line and
    one that normalises to nothing at the chunk boundary, give exactly the per-line reference."""
    from conftest import TOY
    from lmboot.lm.score import load, sentence_perplexity
    from lmboot.text.normalize import Normalizer

    seed_hi = lm.train(TOY / "seed.hi", tmp_path / "hi.arpa", order=3).arpa
    lines = (TOY / "general.hi").read_text(encoding="utf-8").splitlines()[:2100]
    lines.insert(2047, "!!! ...")  # the last line of the first chunk normalises to nothing
    lines.insert(2046, "")  # an empty line shifts every later line across the boundary
    text = make_text("mt.hi", lines)
    norm, model = Normalizer(), load(seed_hi)
    ref = [(x, sentence_perplexity(model, norm(x))) for x in lines if x.strip() and norm(x)]
    assert len(lines) > 2048 and len(ref) == 2100
    threshold = float(np.median([p for _, p in ref]))
    res = winnow.winnow(text, seed_hi, tmp_path / "o", threshold=threshold, plot=False)
    assert (res.total, res.kept) == (len(ref), sum(p <= threshold for _, p in ref))
    assert (tmp_path / "o" / "kept.txt").read_text(encoding="utf-8").splitlines() == \
        [x for x, p in ref if p <= threshold]
    assert np.array_equal(np.fromfile(tmp_path / "o" / "scores.f32", dtype="<f4"),
                          np.asarray([p for _, p in ref], dtype=np.float32))
