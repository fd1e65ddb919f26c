"""WER/CER with jiwer against hand-computed values, and the n-best readers (JSONL, Kaldi)."""
from __future__ import annotations

import json

import pytest

from lmboot.errors import LmbootError
from lmboot.evaluate import format_table
from lmboot.evaluate.results import WerResult
from lmboot.io.nbest import KaldiNbest, open_nbest
from lmboot.metrics import ErrorCounts, utterance_errors, word_errors


def test_wer_hand_computed_english():
    # ref 5 words: "set an alarm for six" / hyp "set the alarm for" -> 1 sub (an->the), 1 del (six)
    # ref 3 words: "play some music" / hyp "play some some music" -> 1 ins
    s = word_errors(["Set an alarm for six.", "play some music"], ["set the alarm for", "play some some music"])
    assert (s.substitutions, s.deletions, s.insertions, s.hits) == (1, 1, 1, 6)
    assert s.ref_words == 8
    assert s.wer == pytest.approx(3 / 8)


def test_wer_hand_computed_devanagari():
    # "कल सुबह छह बजे का अलार्म लगाओ" (7 words) vs "कल सुबह सात बजे अलार्म लगा दो":
    # छह->सात (sub), का deleted, लगाओ->लगा (sub), दो inserted: S=2 D=1 I=1 -> 4/7
    ref = "कल सुबह छह बजे का अलार्म लगाओ।"
    hyp = "कल सुबह सात बजे अलार्म लगा दो"
    s = word_errors([ref], [hyp])
    assert s.errors == 4 and s.ref_words == 7
    assert s.wer == pytest.approx(4 / 7)
    # CER over code points: "लगाओ" -> "लगा" deletes one vowel sign (ओ), a matra is one character.
    c = word_errors(["लगाओ"], ["लगा"])
    assert c.ref_chars == 4 and c.char_errors == 1 and c.cer == pytest.approx(0.25)
    # NFC: a decomposed nukta letter equals the precomposed one.
    assert word_errors(["ज़रूर"], ["\u091c\u093c\u0930\u0942\u0930"]).errors == 0


def test_wer_normalises_case_and_punctuation_and_keeps_raw_when_asked():
    assert word_errors(["Hello, World!"], ["hello world"]).wer == 0
    assert word_errors(["Hello, World!"], ["hello world"], normalizer=None).wer == 1.0
    assert utterance_errors("a b c", "a x c d") == {"ref_words": 3, "sub": 1, "del": 0, "ins": 1, "errors": 2}
    with pytest.raises(LmbootError, match="2 references but 1 hypotheses"):
        word_errors(["a", "b"], ["a"])


def _write(path, lines):
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return path


def test_kaldi_nbest_reader(tmp_path):
    text = _write(tmp_path / "nbest.txt", ["utt-a-1 set an alarm", "utt-a-2 set a alarm", "utt-b-1 play music",
                                           "utt-a-3 sat an alarm"])
    ac = _write(tmp_path / "ac.cost", ["utt-a-1 10.0", "utt-a-2 9.0", "utt-a-3 12", "utt-b-1 5"])
    lmc = _write(tmp_path / "lm.cost", ["utt-a-1 1.0", "utt-a-2 3.0", "utt-a-3 0", "utt-b-1 1"])
    refs = _write(tmp_path / "text", ["utt-a set an alarm", "utt-b play the music"])
    entries = list(KaldiNbest(text, [ac, lmc], refs).read())
    assert [e["id"] for e in entries] == ["utt-a", "utt-b"]
    a = entries[0]
    assert a["ref"] == "set an alarm"
    # costs summed and negated: a-1 -11, a-2 -12, a-3 -12 -> ordered best first, ties keep rank
    assert [h["text"] for h in a["hyps"]] == ["set an alarm", "set a alarm", "sat an alarm"]
    assert [h["score"] for h in a["hyps"]] == [-11.0, -12.0, -12.0]
    # as log-scores instead of costs the order flips
    b = list(KaldiNbest(text, [ac], refs, costs=False).read())[0]
    assert b["hyps"][0]["text"] == "sat an alarm"


def test_kaldi_nbest_errors_name_file_and_line(tmp_path):
    text = _write(tmp_path / "nbest.txt", ["utt-a-1 set an alarm", "utt-a-2 set a alarm"])
    refs = _write(tmp_path / "text", ["utt-a set an alarm"])
    scores = _write(tmp_path / "s", ["utt-a-1 1.0"])
    with pytest.raises(LmbootError, match=r"nbest.txt:2: no score for 'utt-a-2'"):
        list(KaldiNbest(text, scores, refs).read())
    bad = _write(tmp_path / "bad", ["utt-a-1 x", "utt-a-2 1"])
    with pytest.raises(LmbootError, match=r"bad:1: score 'x' is not a number"):
        list(KaldiNbest(text, bad, refs).read())
    nokey = _write(tmp_path / "nokey.txt", ["utt-a set an alarm"])
    with pytest.raises(LmbootError, match=r"nokey.txt:1: expected '<utt-id>-<N>'"):
        list(KaldiNbest(nokey, scores, refs).read())
    with pytest.raises(LmbootError, match="needs a reference file"):
        open_nbest(text, scores=[scores])


def test_jsonl_reader_requires_refs(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text(json.dumps({"id": 1, "hyps": [{"text": "a", "score": -1}]}) + "\n", encoding="utf-8")
    with pytest.raises(LmbootError, match=r"x.jsonl:1: .*no 'ref'"):
        list(open_nbest(p).read())


def test_table_relative_change_and_simulated_label():
    def res(name, errors):
        return WerResult(lm=name, method="rescore", counts=ErrorCounts(utterances=2, ref_words=100,
                                                                        substitutions=errors),
                         first_pass=ErrorCounts(ref_words=100, substitutions=25), oracle=ErrorCounts(ref_words=100),
                         simulated=True, oov_penalty=-7.0, weights={"lm_weight": 0.5, "length_penalty": 0.0})
    t = format_table([res("a.bin", 20), res("b.bin", 15)])
    assert t.startswith("SIMULATED WER")
    assert "fixed penalty -7 log10" in t
    line_b = next(x for x in t.splitlines() if x.startswith("b.bin"))
    assert "15.00" in line_b and "-25.0%" in line_b
