"""The n-best simulator: target first-pass WER, determinism, lists without the reference."""
from __future__ import annotations

import json
import random

import pytest

from conftest import require_program
from lmboot.errors import LmbootError
from lmboot.evaluate import read_vocab, simulate
from lmboot.evaluate.simulation import CharSimilarity, ConfusionTable, PhonemeSimilarity
from lmboot.metrics import word_errors

WORDS = ("अलार्म टाइमर गाना मौसम बारिश ठंड गर्मी दिल्ली मुंबई पुणे कल आज सुबह शाम रात बजे मिनट घंटे "
         "लगाओ हटाओ बजाओ बताओ रोको चलाओ का की के में से को है हो होगा क्या कितनी कैसा तेज़ धीमा "
         "पांच छह सात आठ नौ दस बीस तीस").split()


def sentences(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 12))) for _ in range(n)]


@pytest.fixture
def refs(make_text):
    return make_text("refs.hi", sentences(500))


def _lists(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_simulator_hits_target_wer_on_500_sentences(refs, tmp_path):
    for target in (0.1, 0.25, 0.4):
        out = tmp_path / f"sim{target}.jsonl"
        res = simulate(refs, out, vocab_from=refs, target_wer=target, nbest=10, seed=3)
        entries = _lists(out)
        assert len(entries) == 500
        # Measured independently with jiwer on the written lists.
        wer = word_errors([e["ref"] for e in entries], [e["hyps"][0]["text"] for e in entries]).wer
        assert abs(wer - target) <= 0.03, (target, wer)
        assert res.first_pass_wer == pytest.approx(wer)
        # the reference is in some lists but not in all; the lists are sorted by score
        in_list = sum(any(h["text"] == e["ref"] for h in e["hyps"]) for e in entries) / len(entries)
        assert 0.2 < in_list < 0.9
        assert all(e["simulated"] is True for e in entries)
        assert all([h["score"] for h in e["hyps"]] == sorted((h["score"] for h in e["hyps"]), reverse=True)
                   for e in entries)
        assert res.oracle_wer < wer


def test_same_seed_same_bytes_other_seed_other_lists(refs, tmp_path):
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    simulate(refs, a, vocab_from=refs, target_wer=0.25, seed=7)
    simulate(refs, b, vocab_from=refs, target_wer=0.25, seed=7)
    simulate(refs, c, vocab_from=refs, target_wer=0.25, seed=8)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_substitutes_are_close_vocabulary_words(make_text):
    vocab = read_vocab(make_text("v.txt", ["बजाओ बताओ चलाओ हटाओ मौसम", "zebra"]))
    table = ConfusionTable(vocab, CharSimilarity(), k=3)
    table.prepare(["बजाओ"])
    cands, _ = table.table["बजाओ"]
    assert "बजाओ" not in cands
    assert set(cands) == {"बताओ", "चलाओ", "हटाओ"}  # one letter away, not "मौसम" or "zebra"


def test_phoneme_similarity_finds_homophones(make_text):
    require_program("espeak-ng")
    vocab = read_vocab(make_text("v.txt", ["night knight nine light bright", "cat dog"]))
    table = ConfusionTable(vocab, PhonemeSimilarity("en-us"), k=1)
    table.prepare(["knight"])
    assert table.table["knight"][0] == ["night"]  # same phonemes, different spelling


def test_bad_input_is_one_line_error(refs, tmp_path, make_text):
    with pytest.raises(LmbootError, match="target WER"):
        simulate(refs, tmp_path / "x.jsonl", vocab_from=refs, target_wer=25)
    with pytest.raises(LmbootError, match="empty"):
        simulate(make_text("empty.hi", []), tmp_path / "x.jsonl", vocab_from=refs)
    assert not (tmp_path / "x.jsonl").exists()


def test_cli_simulate_and_usage_errors(make_text, tmp_path, capsys):
    from typer.testing import CliRunner

    from conftest import one_error_line

    from lmboot.cli import app, main

    refs = make_text("r.hi", sentences(60, seed=5))
    out = tmp_path / "out dir" / "s.jsonl"
    r = CliRunner().invoke(app, ["eval", "simulate", str(refs), "-o", str(out), "--vocab-from", str(refs),
                                 "--target-wer", "0.2", "--seed", "4"])
    assert r.exit_code == 0, r.output
    assert "first-pass WER" in r.output and len(out.read_text(encoding="utf-8").splitlines()) == 60
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["eval", "wer", "--lm", "x.bin"])  # neither --nbest nor --audio
    assert e.value.code == 2
    one_error_line(capsys.readouterr().err, "give exactly one of --nbest (rescoring) or --audio (decoding)")
    with pytest.raises(SystemExit) as e:
        main(["eval", "simulate", str(refs), "-o", str(out), "--vocab-from", str(refs), "--similarity", "sound"])
    assert e.value.code == 2
    one_error_line(capsys.readouterr().err, "sound")
