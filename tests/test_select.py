"""Tests of lmboot.select: bitext selection toward an in-domain seed set (issue 3).

The corpus is constructed: Devanagari sentences drawn from a health vocabulary (the domain of
the seed) or from three other topics (software UI, weather, music), sharing function words.
The general bitext hides IN_DOMAIN health pairs among off-domain ones; every method must rank
them first.
"""
from __future__ import annotations

import filecmp
import json
import random
from pathlib import Path

import numpy as np
import pytest

from lmboot.errors import LmbootError
from lmboot.select import (SentenceTransformerEmbedder, TfidfLsaConfig, TfidfLsaEmbedder, load_embedder,
                           select)

HEALTH = ["वायरस", "संक्रमण", "मास्क", "टीका", "बुखार", "खांसी", "अस्पताल", "डॉक्टर", "लक्षण", "दवा",
          "जांच", "रोगी", "महामारी", "सांस", "इलाज", "स्वास्थ्य", "टीकाकरण", "क्वारंटाइन"]
OTHER = {
    "ui": ["फ़ाइल", "खोलें", "सहेजें", "विंडो", "मेनू", "बटन", "सेटिंग", "फ़ोल्डर", "प्रोग्राम", "डेस्कटॉप",
           "प्रिंटर", "पासवर्ड"],
    "weather": ["मौसम", "बारिश", "तापमान", "हवा", "बादल", "धूप", "ठंड", "गर्मी", "तूफ़ान", "बर्फ़", "नमी"],
    "music": ["गाना", "संगीत", "एल्बम", "कलाकार", "बजाओ", "आवाज़", "गीत", "सूची", "धुन", "गायक", "रेडियो"],
}
FUNCTION = ["का", "की", "में", "है", "और", "से", "को", "पर", "लिए", "यह", "एक", "भी", "नहीं", "कि"]
N_GENERAL, IN_DOMAIN = 600, 120


def sentence(rng: random.Random, topic: list[str]) -> str:
    words = [rng.choice(topic) for _ in range(rng.randint(3, 5))] + \
        [rng.choice(FUNCTION) for _ in range(rng.randint(2, 4))]
    rng.shuffle(words)
    return " ".join(words) + "।"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """seed.hi (60 health sentences), general.{en,hi} (600 pairs, 120 health) and general.tsv."""
    d = tmp_path_factory.mktemp("select corpus")  # a space in the path on purpose
    rng = random.Random(7)
    seed = [sentence(rng, HEALTH) for _ in range(60)]
    labels = [True] * IN_DOMAIN + [False] * (N_GENERAL - IN_DOMAIN)
    rng.shuffle(labels)
    topics = list(OTHER.values())
    tgt = [sentence(rng, HEALTH if lab else topics[i % 3]) for i, lab in enumerate(labels)]
    src = [f"pair {i} source sentence" for i in range(N_GENERAL)]
    (d / "seed.hi").write_text("".join(s + "\n" for s in seed), encoding="utf-8")
    (d / "general.en").write_text("".join(s + "\n" for s in src), encoding="utf-8")
    (d / "general.hi").write_text("".join(t + "\n" for t in tgt), encoding="utf-8")
    (d / "general.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in zip(src, tgt)), encoding="utf-8")
    return {"dir": d, "src": src, "tgt": tgt, "labels": labels, "pair": dict(zip(src, tgt))}


def read(path) -> list[str]:
    return Path(path).read_text(encoding="utf-8").splitlines()


def scores_of(res) -> list[tuple[int, float, str]]:
    rows = [r.split("\t") for r in read(res.scores_path)[1:]]
    return [(int(a), float(b), c) for a, b, c in rows]


def run(corpus, out, **kw):
    d = corpus["dir"]
    kw.setdefault("dim", 32)
    return select(d / "general.en", d / "general.hi", d / "seed.hi", out, **kw)


def precision_of_kept(corpus, res) -> float:
    kept = read(res.selected_src)
    idx = [int(s.split()[1]) for s in kept]
    return sum(corpus["labels"][i] for i in idx) / len(idx)


@pytest.mark.parametrize("method", ["centroid", "knn", "moore-lewis"])
def test_methods_rank_in_domain_pairs_first(corpus, tmp_path, method, request):
    if method == "moore-lewis":
        request.getfixturevalue("kenlm_ready")
    res = run(corpus, tmp_path / "out", method=method, top_k=IN_DOMAIN, plot=False)
    assert res.kept == IN_DOMAIN
    assert precision_of_kept(corpus, res) >= 0.9
    # Ranking quality over the whole list: mean score of in-domain pairs is well below the rest.
    sc = np.array([s for _, s, _ in scores_of(res)])
    lab = np.array(corpus["labels"])
    assert sc[lab].max() < np.median(sc[~lab])


def test_keep_rules(corpus, tmp_path):
    res = run(corpus, tmp_path / "frac", keep_fraction=0.3, plot=False)
    assert res.kept == 180 and res.rule == "keep_fraction=0.3"
    rows = scores_of(res)
    kept_scores = [s for _, s, d in rows if d == "keep"]
    dropped_scores = [s for _, s, d in rows if d == "drop"]
    assert len(kept_scores) == 180 and max(kept_scores) <= min(dropped_scores)
    assert res.threshold == pytest.approx(max(kept_scores), abs=1e-5)

    res_k = run(corpus, tmp_path / "topk", top_k=17, plot=False)
    assert res_k.kept == 17 and len(read(res_k.selected_tgt)) == 17

    t = float(np.median([s for _, s, _ in rows]))
    res_d = run(corpus, tmp_path / "dist", max_distance=t, plot=False)
    rows_d = scores_of(res_d)
    assert res_d.kept == sum(s <= t for _, s, _ in rows_d) and 290 <= res_d.kept <= 310
    assert all((d == "keep") == (s <= t) for _, s, d in rows_d)

    summary = json.loads((tmp_path / "dist" / "summary.json").read_text())
    assert summary["kept"] == res_d.kept and summary["threshold"] == pytest.approx(t)
    assert summary["quantiles"]["p0"] <= summary["quantiles"]["p50"] <= summary["quantiles"]["p100"]

    with pytest.raises(LmbootError, match="at most one"):
        run(corpus, tmp_path / "two", top_k=3, keep_fraction=0.1)
    with pytest.raises(LmbootError, match="keep-fraction"):
        run(corpus, tmp_path / "bad", keep_fraction=1.5)


def test_ties_broken_by_line_order(tmp_path):
    seed = tmp_path / "seed.hi"
    seed.write_text("बुखार और खांसी\nबुखार की दवा\n", encoding="utf-8")
    # Lines 2, 4 and 6 have the same target: equal scores, the earlier ones must win.
    tgt = ["गाना बजाओ", "बुखार और खांसी की दवा", "मौसम कैसा है", "बुखार और खांसी की दवा", "फ़ाइल खोलें",
           "बुखार और खांसी की दवा"]
    (tmp_path / "g.en").write_text("".join(f"s{i}\n" for i in range(6)), encoding="utf-8")
    (tmp_path / "g.hi").write_text("".join(t + "\n" for t in tgt), encoding="utf-8")
    res = select(tmp_path / "g.en", tmp_path / "g.hi", seed, tmp_path / "out", top_k=2, dim=4, plot=False)
    assert read(res.selected_src) == ["s1", "s3"]


def test_outputs_line_aligned_two_files_and_tsv(corpus, tmp_path):
    res = run(corpus, tmp_path / "two", keep_fraction=0.25, method="knn", k=3)
    src, tgt = read(res.selected_src), read(res.selected_tgt)
    assert Path(res.selected_src).name == "selected.en" and Path(res.selected_tgt).name == "selected.hi"
    assert len(src) == len(tgt) == 150
    assert all(corpus["pair"][s] == t for s, t in zip(src, tgt))
    # Kept pairs stay in input order.
    assert [int(s.split()[1]) for s in src] == sorted(int(s.split()[1]) for s in src)
    assert (tmp_path / "two" / "histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    d = corpus["dir"]
    res_tsv = select(d / "general.tsv", None, d / "seed.hi", tmp_path / "tsv", keep_fraction=0.25, method="knn",
                     k=3, dim=32, plot=False)
    assert res_tsv.selected_tgt is None and Path(res_tsv.selected_src).name == "selected.tsv"
    rows = [r.split("\t") for r in read(res_tsv.selected_src)]
    assert rows == [[s, t] for s, t in zip(src, tgt)]  # same selection whatever the input format


def test_same_seed_gives_identical_bytes(corpus, tmp_path):
    a = run(corpus, tmp_path / "a", keep_fraction=0.2, random_seed=3, fit_sample=300)
    run(corpus, tmp_path / "b", keep_fraction=0.2, random_seed=3, fit_sample=300)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert {"selected.en", "selected.hi", "scores.tsv", "summary.json", "histogram.png",
            "embedder/components.npy"} <= {f.as_posix() for f in files}
    for f in files:
        assert filecmp.cmp(tmp_path / "a" / f, tmp_path / "b" / f, shallow=False), f
    assert not list((tmp_path / "a").glob(".select-work-*"))
    assert a.kept == 120


def test_saved_embedder_reproduces_the_space(corpus, tmp_path):
    res = run(corpus, tmp_path / "first", top_k=30, plot=False)
    emb = load_embedder(tmp_path / "first" / "embedder")
    assert isinstance(emb, TfidfLsaEmbedder) and not emb.needs_fit
    again = run(corpus, tmp_path / "again", top_k=30, plot=False, embedder=str(tmp_path / "first" / "embedder"))
    assert read(res.scores_path) == read(again.scores_path)
    v = emb.embed(["बुखार की दवा", "गाना बजाओ", ""])
    assert v.dtype == np.float32 and v.shape == (3, emb.dim)
    assert np.allclose(np.linalg.norm(v[:2], axis=1), 1.0, atol=1e-5) and not v[2].any()


def test_tfidf_embedder_works_for_other_scripts():
    texts = ["the cough and fever of the patient", "open the file menu", "a fever and a cough",
             "save the file", "发烧 咳嗽 病人", "打开 文件 菜单", "حمى وسعال المريض", "افتح قائمة الملف"]
    emb = TfidfLsaEmbedder(TfidfLsaConfig(dim=6, min_df=1)).fit(texts)
    v = emb.embed(["fever and cough", "file menu", "发烧 病人", "文件 菜单"])
    assert v[0] @ emb.embed(["a fever and a cough"])[0] > v[0] @ emb.embed(["save the file"])[0]
    assert v[2] @ emb.embed(["发烧 咳嗽 病人"])[0] > v[2] @ emb.embed(["打开 文件 菜单"])[0]


def test_unscorable_targets_are_never_kept(tmp_path):
    (tmp_path / "seed.hi").write_text("बुखार और खांसी\nबुखार की दवा\n", encoding="utf-8")
    (tmp_path / "g.en").write_text("a\nb\nc\n", encoding="utf-8")
    (tmp_path / "g.hi").write_text("!!! ???\nबुखार की दवा\n...\n", encoding="utf-8")
    res = select(tmp_path / "g.en", tmp_path / "g.hi", tmp_path / "seed.hi", tmp_path / "o", keep_fraction=1.0,
                 dim=2, plot=False)
    assert res.kept == 1 and res.unscorable == 2
    assert [r.split("\t")[2] for r in read(res.scores_path)[1:]] == ["empty", "keep", "empty"]


# -- bad input: one-line errors, nothing written --------------------------------------------
def test_empty_seed(corpus, tmp_path, make_text):
    d = corpus["dir"]
    for name, lines in (("empty.hi", []), ("blank.hi", ["", "  ", "।।"])):
        seed = make_text(name, lines)
        with pytest.raises(LmbootError, match="seed set") as e:
            select(d / "general.en", d / "general.hi", seed, tmp_path / "out")
        assert name in str(e.value) and "\n" not in str(e.value)
        assert not (tmp_path / "out").exists()


def test_seed_smaller_than_k(corpus, tmp_path, make_text):
    seed = make_text("tiny.hi", ["बुखार और खांसी", "दवा"])
    with pytest.raises(LmbootError, match=r"fewer than k=5"):
        select(corpus["dir"] / "general.en", corpus["dir"] / "general.hi", seed, tmp_path / "out", method="knn")
    assert not (tmp_path / "out").exists()
    res = select(corpus["dir"] / "general.en", corpus["dir"] / "general.hi", seed, tmp_path / "out", method="knn",
                 k=2, top_k=10, dim=8, plot=False)
    assert res.kept == 10 and res.scorer["k"] == 2


def test_mismatched_sides(corpus, tmp_path, make_text):
    tgt = make_text("short.hi", corpus["tgt"][:150])
    with pytest.raises(LmbootError, match="600 lines.*150") as e:
        select(corpus["dir"] / "general.en", tgt, corpus["dir"] / "seed.hi", tmp_path / "out")
    assert "general.en" in str(e.value) and "short.hi" in str(e.value)
    assert not (tmp_path / "out").exists()


def test_nothing_kept_suggests_a_threshold(corpus, tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(LmbootError, match="keeps nothing") as e:
        run(corpus, tmp_path / "out", max_distance=-0.5)
    msg = str(e.value)
    assert "1 %" in msg and "\n" not in msg
    assert list((tmp_path / "out").iterdir()) == []  # nothing half-written
    suggested = float(msg.split("--max-distance ")[1].split()[0])
    res = run(corpus, tmp_path / "out", max_distance=suggested, plot=False)
    assert 3 <= res.kept <= 9  # about 1 % of 600


def test_unreadable_embedder_paths(corpus, tmp_path):
    with pytest.raises(LmbootError, match="model directory not found") as e:
        run(corpus, tmp_path / "out", embedder=f"st:{tmp_path / 'no such model'}")
    assert "no such model" in str(e.value)
    with pytest.raises(LmbootError, match="unknown embedder"):
        run(corpus, tmp_path / "out", embedder="word2vec")
    with pytest.raises(LmbootError, match="not a saved embedder"):
        load_embedder(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "embedder.json").write_text('{"type": "tfidf-lsa", "config": {}}', encoding="utf-8")
    with pytest.raises(LmbootError, match="unreadable TF-IDF embedder"):
        run(corpus, tmp_path / "out", embedder=str(broken))
    assert not (tmp_path / "out").exists()


def test_st_embedder_without_the_package(tmp_path):
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        with pytest.raises(LmbootError, match="pip install"):
            SentenceTransformerEmbedder(tmp_path)
    else:
        with pytest.raises(LmbootError, match="not a loadable"):
            SentenceTransformerEmbedder(tmp_path)  # an empty directory is no model


# -- CLI ----------------------------------------------------------------------------------
def test_cli_select_and_errors(corpus, tmp_path, capsys):
    from lmboot.cli import main

    d = corpus["dir"]
    with pytest.raises(SystemExit) as e:
        main(["select", str(d / "general.en"), str(d / "general.hi"), "--seed", str(d / "seed.hi"),
              "--out", str(tmp_path / "cli"), "--top-k", "120", "--dim", "32", "--no-plot"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "kept 120 of 600" in out
    assert len(read(tmp_path / "cli" / "selected.hi")) == 120

    with pytest.raises(SystemExit) as e:
        main(["select", str(d / "general.en"), str(d / "general.hi"), "--seed", str(d / "seed.hi"),
              "--out", str(tmp_path / "cli2"), "--max-distance", "-1"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lmboot: error:") and "keeps nothing" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "cli2").exists()


@pytest.fixture(scope="module")
def source_corpus(tmp_path_factory) -> dict:
    """A bitext whose target sides all look alike (same vocabulary, no domain signal) while the
    source side of IN_DOMAIN pairs uses the vocabulary of an in-domain source text."""
    d = tmp_path_factory.mktemp("source side corpus")
    rng = random.Random(11)
    en_health = ["fever", "cough", "vaccine", "mask", "doctor", "hospital", "virus", "symptom", "medicine"]
    en_other = ["file", "window", "menu", "button", "printer", "folder", "desktop", "password", "song"]
    en_function = ["the", "a", "of", "with", "and", "is", "my", "for"]

    def en(topic):
        words = [rng.choice(topic) for _ in range(3)] + [rng.choice(en_function) for _ in range(3)]
        rng.shuffle(words)
        return " ".join(words)

    labels = [True] * IN_DOMAIN + [False] * (N_GENERAL - IN_DOMAIN)
    rng.shuffle(labels)
    everything = HEALTH + OTHER["ui"]
    src = [en(en_health if lab else en_other) for lab in labels]
    tgt = [sentence(rng, everything) for _ in labels]
    (d / "general.en").write_text("".join(s + "\n" for s in src), encoding="utf-8")
    (d / "general.hi").write_text("".join(t + "\n" for t in tgt), encoding="utf-8")
    (d / "seed.hi").write_text("".join(sentence(rng, everything) + "\n" for _ in range(60)), encoding="utf-8")
    (d / "domain.en").write_text("".join(en(en_health) + "\n" for _ in range(300)), encoding="utf-8")
    return {"dir": d, "src": src, "tgt": tgt, "labels": labels}


def test_source_side_scoring_finds_pairs_the_target_side_cannot(source_corpus, tmp_path, kenlm_ready):
    """Bilingual Moore-Lewis: with in-domain source text, pairs are ranked by their source side too."""
    d, labels = source_corpus["dir"], source_corpus["labels"]

    def precision(res):
        idx = {s: i for i, s in enumerate(source_corpus["src"])}
        kept = read(res.selected_src)
        return sum(labels[idx[s]] for s in kept) / len(kept)

    target_only = select(d / "general.en", d / "general.hi", d / "seed.hi", tmp_path / "t", method="moore-lewis",
                         top_k=IN_DOMAIN, plot=False)
    both = select(d / "general.en", d / "general.hi", d / "seed.hi", tmp_path / "b", method="moore-lewis",
                  top_k=IN_DOMAIN, source_domain=d / "domain.en", plot=False)
    assert precision(target_only) < 0.5  # the target side says nothing about the domain
    assert precision(both) >= 0.9
    assert "source side" in both.score_label and (tmp_path / "b" / "source" / "lm" / "in_domain.arpa").is_file()
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["scorer"]["inputs"]["source_domain"].endswith("domain.en")

    with pytest.raises(LmbootError, match="moore-lewis"):
        select(d / "general.en", d / "general.hi", d / "seed.hi", tmp_path / "c", method="centroid",
               source_domain=d / "domain.en")


def test_repeat_writes_every_pair_and_the_kept_ones_again(source_corpus, tmp_path, kenlm_ready):
    d = source_corpus["dir"]
    res = select(d / "general.en", d / "general.hi", d / "seed.hi", tmp_path / "o", method="moore-lewis",
                 keep_fraction=0.2, source_domain=d / "domain.en", repeat=3, plot=False)
    assert Path(res.selected_src).name == "oversampled.en" and Path(res.selected_tgt).name == "oversampled.hi"
    src, tgt = read(res.selected_src), read(res.selected_tgt)
    kept = [source_corpus["src"][int(line) - 1] for line, _, dec in scores_of(res) if dec == "keep"]
    assert res.kept == len(kept) == 120 and res.written == len(src) == len(tgt) == 600 + 2 * 120
    assert src[:600] == source_corpus["src"] and tgt[:600] == source_corpus["tgt"]  # the whole bitext first
    assert src[600:] == kept + kept  # then the kept pairs twice more, in corpus order
    pair = dict(zip(source_corpus["src"], source_corpus["tgt"]))
    assert all(pair[s] == t for s, t in zip(src, tgt))
    assert "kept ones 3 times (840 pairs)" in res.summary()
    with pytest.raises(LmbootError, match="repeat"):
        select(d / "general.en", d / "general.hi", d / "seed.hi", tmp_path / "z", method="moore-lewis", repeat=0)


def test_cli_select_source_domain_and_repeat(source_corpus, tmp_path, capsys, kenlm_ready):
    from lmboot.cli import main

    d = source_corpus["dir"]
    args = ["select", str(d / "general.en"), str(d / "general.hi"), "--seed", str(d / "seed.hi"), "--method",
            "moore-lewis", "--source-domain", str(d / "domain.en"), "--no-plot"]
    with pytest.raises(SystemExit) as e:
        main(args + ["--out", str(tmp_path / "cli"), "--repeat", "2", "--keep-fraction", "0.2"])
    assert e.value.code == 0
    assert "kept ones 2 times" in capsys.readouterr().out
    assert len(read(tmp_path / "cli" / "oversampled.hi")) == 600 + 120
    with pytest.raises(SystemExit) as e:
        main(args + ["--out", str(tmp_path / "cli2"), "--repeat", "0"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "--repeat" in err and len(err.splitlines()) == 1 and not (tmp_path / "cli2").exists()


@pytest.mark.parametrize("method", ["centroid", "moore-lewis"])
def test_the_2048_pair_streaming_boundary_changes_nothing(tmp_path, method, kenlm_ready):
    """Pairs are scored in batches of --batch-size (2,048 by default): 2,101 pairs, with an empty
    target and a target that normalises to nothing at the boundary, select exactly as in one batch."""
    rng = random.Random(3)
    topics = [HEALTH, *OTHER.values()]
    tgt = [sentence(rng, topics[i % 4]) for i in range(2101)]
    tgt[2046], tgt[2047] = "", "।।।"
    (tmp_path / "g.en").write_text("".join(f"pair {i}\n" for i in range(2101)), encoding="utf-8")
    (tmp_path / "g.hi").write_text("".join(t + "\n" for t in tgt), encoding="utf-8")
    (tmp_path / "seed.hi").write_text("".join(sentence(rng, HEALTH) + "\n" for _ in range(60)), encoding="utf-8")
    out = {}
    for b in (2048, 5000):
        res = select(tmp_path / "g.en", tmp_path / "g.hi", tmp_path / "seed.hi", tmp_path / f"b{b}", method=method,
                     batch_size=b, keep_fraction=0.25, dim=16, plot=False)
        out[b] = (res.kept, read(res.scores_path), read(res.selected_src), read(res.selected_tgt))
    assert out[2048] == out[5000]
    rows = out[2048][1]
    assert len(rows) == 1 + 2100 and rows[2047] == "2048\tinf\tempty"  # line 2047 (empty) skipped, 2048 unscorable
