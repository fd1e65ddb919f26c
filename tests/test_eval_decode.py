"""Real decoding with pocketsphinx, synthetic audio with espeak-ng, audio-set readers, G2P."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pocketsphinx  # noqa: F401  (required: missing, the module fails to collect)
import pytest

from conftest import require_program
from lmboot.errors import LmbootError
from lmboot.evaluate import read_audio_set, synth, wer_from_audio
from lmboot.evaluate.decode import DECODERS, Decoder, EspeakArpabetG2P, PocketsphinxDecoder, arpa_vocab


@pytest.fixture
def espeak_sox():
    """espeak-ng and sox are required (scripts/setup.sh installs them): a test fails without them."""
    return require_program("espeak-ng"), require_program("sox")


needs_espeak = pytest.mark.usefixtures("espeak_sox")
UTT = "sense_and_sensibility_01_austen_64kb-0930"


@pytest.fixture(scope="module")
def recording(shared):
    wav = shared / "data" / "speech" / "librivox" / f"{UTT}.wav"
    if not wav.is_file():
        pytest.skip("../shared/data/speech/librivox not present")
    return wav


def _tiny_arpa(path, words):
    """A unigram ARPA over ``words`` (uniform), written by hand: no KenLM needed."""
    p = -len(words).bit_length() * 0.3
    lines = ["\\data\\", f"ngram 1={len(words) + 3}", "", "\\1-grams:", "-99\t<s>", f"{p:.3f}\t</s>",
             f"{p:.3f}\t<unk>"] + [f"{p:.3f}\t{w}" for w in words] + ["", "\\end\\", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.mark.slow  # ~5-10 s on a shared CPU
def test_pocketsphinx_decodes_a_real_recording_with_the_bundled_lm(recording, tmp_path):
    manifest = tmp_path / "m.tsv"
    manifest.write_text(f"{recording}\the might even have been made amiable himself\n", encoding="utf-8")
    wrong = _tiny_arpa(tmp_path / "wrong.arpa", "set an alarm for seven play music weather".split())
    bundled, other = wer_from_audio(manifest, ["bundled", wrong])
    assert bundled.counts.ref_words == 8
    assert bundled.wer < 0.5, bundled.details
    # the LM under test is really the one used: an LM of unrelated words ruins the result
    assert other.wer > bundled.wer + 0.3
    assert set(other.details[0]["hyp"].split()) <= set("set an alarm for seven play music weather".split())


def test_audio_set_formats(recording, tmp_path):
    utts = read_audio_set(recording.parent)  # X.wav + X.txt pairs
    assert len(utts) == 5 and any(u == UTT and "amiable himself" in r for u, _, r in utts)
    d = tmp_path / "sphinx dir"
    d.mkdir()
    shutil.copy(recording, d / "a1.wav")
    (d / "test.transcription").write_text("<s> he might even have been made amiable himself </s> (a1)\n")
    [(u, w, r)] = read_audio_set(d)
    assert (u, w.name, r) == ("a1", "a1.wav", "he might even have been made amiable himself")
    (d / "test.transcription").write_text("no id here\n")
    with pytest.raises(LmbootError, match=r"test.transcription:1: expected"):
        read_audio_set(d)


def test_lm_words_without_pronunciation_are_listed_or_given_by_g2p(tmp_path):
    arpa = _tiny_arpa(tmp_path / "x.arpa", ["alarm", "zorblax", "set"])
    assert arpa_vocab(arpa) == ["alarm", "zorblax", "set"]
    dec = PocketsphinxDecoder(arpa, oov="skip")
    assert dec.missing == ["zorblax"] and dec.g2p_words == []
    require_program("espeak-ng")  # G2P speaks through it
    dec = PocketsphinxDecoder(arpa, oov="g2p")
    assert dec.missing == [] and dec.g2p_words == ["zorblax"]
    assert dec.decoder.lookup_word("zorblax")


@needs_espeak
def test_espeak_to_arpabet_matches_cmudict():
    g = EspeakArpabetG2P().pronounce(["alarm", "music", "weather", "tomorrow", "vision"])
    assert g == {"alarm": "AH L AA R M", "music": "M Y UW Z IH K", "weather": "W EH DH ER",
                 "tomorrow": "T AH M AA R OW", "vision": "V IH ZH AH N"}


def test_bad_audio_and_binary_lm_are_one_line_errors(tmp_path):
    wav = tmp_path / "a.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050), w.writeframes(b"\0\0" * 2205)
    (tmp_path / "m.tsv").write_text("a.wav\thello\n")
    with pytest.raises(LmbootError, match=r"a.wav: expected 16 kHz 16-bit mono audio, found 22050 Hz"):
        wer_from_audio(tmp_path / "m.tsv", ["bundled"])
    (tmp_path / "m2.tsv").write_text("missing.wav\thello\n")
    with pytest.raises(LmbootError, match=r"m2.tsv:1: audio file .*missing.wav not found"):
        read_audio_set(tmp_path / "m2.tsv")
    binlm = tmp_path / "x.bin"
    binlm.write_bytes(b"mmap lm http://kheafield.com/code format version 5\n\0\0")
    with pytest.raises(LmbootError, match=r"x.bin: pocketsphinx needs the ARPA text of this KenLM binary and "
                                          r"none is beside it \(x.arpa\)"):
        arpa_vocab(binlm)


@needs_espeak
def test_synth_then_decode_with_an_in_domain_lm(make_text, tmp_path):
    text = make_text("t.en", ["Set an alarm for seven.", "Play some music", "What is the weather today"])
    res = synth(text, tmp_path / "audio dir")
    assert res.utterances == 3 and res.spoken == 3
    with wave.open(str(tmp_path / "audio dir" / "utt-000001.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
    first = (tmp_path / "audio dir" / "utt-000001.wav").read_bytes()
    again = synth(text, tmp_path / "audio dir")  # resume: nothing re-spoken
    assert again.reused == 3 and again.spoken == 0
    assert (tmp_path / "audio dir" / "utt-000001.wav").read_bytes() == first
    arpa = _tiny_arpa(tmp_path / "dom.arpa", sorted(set("set an alarm for seven play some music what is the "
                                                           "weather today".split())))
    [r] = wer_from_audio(res.manifest, [arpa])
    assert r.wer < 0.5, r.details


def _silence(path, seconds=0.5):
    """A 16 kHz 16-bit mono WAV of silence."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000), w.writeframes(b"\0\0" * int(16000 * seconds))
    return path


def test_a_registered_decoder_is_listed_and_chosen_by_name(tmp_path):
    """Adding a recogniser is a Decoder subclass and one registration line; messages list it."""

    class Parrot(Decoder):
        """Hears what it was told to hear, with whichever LM."""

        def __init__(self, lm=None, hmm=None, dict=None, oov="skip"):
            self.lm, self.missing, self.g2p_words = lm, [], []

        def decode(self, pcm):
            return "set an alarm"

    _silence(tmp_path / "a.wav")
    (tmp_path / "m.tsv").write_text("a.wav\tset an alarm\nb.wav\tplay music\n")
    _silence(tmp_path / "b.wav")
    DECODERS.register("parrot", Parrot)
    try:
        assert DECODERS.names() == ("pocketsphinx", "parrot")
        [r] = wer_from_audio(tmp_path / "m.tsv", ["bundled"], decoder="parrot")
        assert r.method == "parrot" and r.counts.ref_words == 5 and r.counts.errors == 3  # 0 + (2 sub, 1 ins)
        with pytest.raises(LmbootError, match="unknown decoder 'kaldi'; choose one of pocketsphinx, parrot"):
            wer_from_audio(tmp_path / "m.tsv", ["bundled"], decoder="kaldi")
    finally:
        DECODERS.unregister("parrot")
    assert "parrot" not in DECODERS


def test_eval_wer_audio_takes_a_kenlm_binary_with_its_arpa_beside_it(tmp_path):
    """`eval wer --audio --lm final.bin` decodes with final.arpa (the words pocketsphinx cannot
    pronounce are those of that ARPA); a binary with no ARPA beside it is one line naming both."""
    from lmboot import lm

    root = Path(__file__).resolve().parent.parent
    _silence(tmp_path / "a.wav")
    (tmp_path / "m.tsv").write_text("a.wav\tset an alarm\n")
    (tmp_path / "t.txt").write_text("set an alarm\nset the alarm zorblax\nan alarm\n" * 3)
    lm.train(tmp_path / "t.txt", tmp_path / "final.arpa", order=2, binary=tmp_path / "final.bin")
    shutil.copy(tmp_path / "final.bin", tmp_path / "alone.bin")

    def cli(lm):
        return subprocess.run([sys.executable, "-m", "lmboot", "eval", "wer", "--audio", "m.tsv", "--decoder",
                               "pocketsphinx", "--lm", lm], capture_output=True, text=True, cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": str(root)}, timeout=120)

    p = cli("final.bin")
    assert p.returncode == 0, p.stderr
    assert "final.bin: 1 LM word(s) without pronunciation: zorblax" in p.stderr
    assert "final.bin" in p.stdout and "100.00" in p.stdout  # silence: every reference word deleted
    p = cli("alone.bin")
    lines = [x for x in p.stderr.splitlines() if x.strip() and not x.startswith("[lmboot]")]
    assert p.returncode == 2 and len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    assert lines[0].endswith("alone.bin: pocketsphinx needs the ARPA text of this KenLM binary and none is beside "
                             "it (alone.arpa); KenLM cannot convert a binary back: pass the .arpa file it was "
                             "built from"), lines[0]
