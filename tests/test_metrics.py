"""lmboot.metrics: BLEU/chrF through sacrebleu (its private statistics calls isolated there), WER."""
from __future__ import annotations

import re
import tomllib

import pytest

from conftest import ROOT
from lmboot.metrics import Metric, mt_scores
from lmboot.text.normalize import Normalizer

PRIVATE = ("_extract_corpus_statistics", "_compute_score_from_stats")


def test_metric_statistics_match_sacrebleu_and_jiwer():
    import jiwer
    import sacrebleu

    hyps = ["कल सुबह छह बजे का अलार्म लगाओ", "Set an alarm, for six!", "", "call mom"]
    refs = ["कल सुबह सात बजे का अलार्म लगाओ।", "set an alarm for six", "play music", "call mom"]
    assert Metric("chrf").corpus(hyps, refs) == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score)
    assert Metric("bleu").corpus(hyps, refs) == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    n = Normalizer()
    nh, nr = [n(h) for h in hyps], [n(r) for r in refs]
    keep = [i for i in range(4) if nh[i]]  # jiwer refuses empty strings; ours counts deletions
    manual = (jiwer.process_words([nr[i] for i in keep], [nh[i] for i in keep]))
    errors = manual.substitutions + manual.deletions + manual.insertions + len(nr[2].split())
    assert Metric("wer").corpus(hyps, refs) == pytest.approx(100 * errors / sum(len(r.split()) for r in nr))


def test_mt_scores_are_sacrebleu_corpus_scores():
    import sacrebleu

    hyps = ["set an alarm for six", "call mom now"]
    refs = ["set the alarm for six", "call mom"]
    m = mt_scores(hyps, refs)
    assert m["bleu"] == round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2)
    assert m["chrf"] == round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2)
    assert m["bleu_signature"].startswith("nrefs:1") and "chrF" not in m["bleu_signature"]


def test_metric_sums_sentence_statistics_like_corpus_score():
    """Tuning sums per-sentence rows: the sum over any split must equal the corpus score."""
    import sacrebleu

    hyps = ["a b c d", "e f g", "h i", "a b c"]
    refs = ["a b c e", "e f g h", "h i j", "a b"]
    for name, corpus in (("chrf", sacrebleu.corpus_chrf), ("bleu", sacrebleu.corpus_bleu)):
        m = Metric(name)
        rows = m.stats(hyps, refs)
        assert rows.shape[0] == len(hyps)
        assert m.from_stats(rows.sum(axis=0)) == pytest.approx(corpus(hyps, [refs]).score)


def test_sacrebleu_private_api_is_used_only_in_metrics_and_version_bounded():
    users = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "lmboot").rglob("*.py")
                   if any(name in p.read_text(encoding="utf-8") for name in PRIVATE))
    assert users == ["lmboot/metrics.py"]
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    spec = next(d for d in deps if re.match(r"sacrebleu\b", d))
    assert "<" in spec, f"sacrebleu needs an upper version bound (its private API is used): {spec}"
    import sacrebleu

    major = int(sacrebleu.__version__.split(".")[0])
    bound = int(re.search(r"<\s*(\d+)", spec).group(1))
    assert major < bound
