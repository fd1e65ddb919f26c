"""Real decoding: WER of LMs as the language model of a speech recogniser (pocketsphinx).

Recognisers are chosen by name from :data:`DECODERS` (``--decoder``); adding one is a
:class:`Decoder` subclass in its own file and one ``DECODERS.register`` line below.

>>> from lmboot.evaluate import wer_from_audio, format_table
>>> res = wer_from_audio("audio/manifest.tsv", ["bundled", "final.arpa"])   # doctest: +SKIP
>>> print(format_table(res))                                                # doctest: +SKIP

Audio sets accepted (:func:`read_audio_set`), all 16 kHz, 16-bit, mono WAV:

* a TSV manifest ``wav<TAB>transcript`` (paths relative to the manifest), as
  ``lmboot eval synth`` writes;
* a directory of ``X.wav`` files each with a ``X.txt`` transcript beside it;
* a directory (or file) with a CMU Sphinx ``transcription`` file, lines
  ``<s> words </s> (utt-id)``, the audio being ``utt-id.wav`` in the same directory.

LMs are ARPA files (pocketsphinx cannot read KenLM binaries: for ``final.bin`` the
``final.arpa`` beside it is used, :func:`lmboot.io.arpa.arpa_of`); ``"bundled"`` names
pocketsphinx's own US-English LM. The pronunciation dictionary is the acoustic model's
(``cmudict-en-us.dict`` for the bundled English model, or ``dict=``). LM words without a
pronunciation are counted and listed; with ``oov="skip"`` they are left out of the
recogniser's vocabulary (pocketsphinx ignores LM words missing from its dictionary, so they
can never be output); with ``oov="g2p"`` they get pronunciations from espeak-ng, mapped
to the CMU (ARPAbet) phone set (:class:`EspeakArpabetG2P`) — for dictionaries in that phone
set only.
"""
from __future__ import annotations

import abc
import logging
import re
import tempfile
import time
import wave
from pathlib import Path
from typing import Iterable, Sequence

from lmboot.errors import LmbootError
from lmboot.evaluate.results import WerResult, WerResults
from lmboot.io.arpa import arpa_of, unigrams
from lmboot.io.corpus import check_file, iter_raw_lines, naming_errors
from lmboot.io.temps import temp_prefix
from lmboot.metrics import utterance_errors, word_errors
from lmboot.registry import Registry
from lmboot.text.normalize import Normalizer

log = logging.getLogger("lmboot")
DICT_TMP = temp_prefix("lmboot-dict-")  # registered: a killed run's leftovers are cleaned

BUNDLED = "bundled"
OOV_MODES = ("skip", "g2p")


# --------------------------------------------------------------------------------------
# Audio sets
# --------------------------------------------------------------------------------------
def read_audio_set(path: str | Path) -> list[tuple[str, Path, str]]:
    """``(utt_id, wav_path, reference)`` of every utterance of an audio set (see module doc)."""
    p = Path(path)
    if not p.exists():
        raise LmbootError("audio set not found", path=p)
    if p.is_file() and not p.name.endswith("transcription"):
        return _read_tsv(p)
    d = p if p.is_dir() else p.parent
    wavs = sorted(d.glob("*.wav"))
    pairs = [(w.stem, w, w.with_suffix(".txt")) for w in wavs if w.with_suffix(".txt").is_file()]
    if pairs:
        return [(u, w, " ".join(t.read_text(encoding="utf-8").split())) for u, w, t in pairs]
    trans = [p] if p.is_file() else sorted(d.glob("*transcription"))
    if not trans:
        raise LmbootError("no audio found: expected a wav<TAB>text manifest, X.wav + X.txt pairs, "
                          "or a Sphinx 'transcription' file", path=p)
    return _read_sphinx(trans[0])


def _read_tsv(path: Path) -> list[tuple[str, Path, str]]:
    out = []
    for lineno, line in iter_raw_lines(path, "audio manifest"):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 2:
            raise LmbootError(f"expected 'wav<TAB>transcript', found {len(cols)} column(s)", path=path, line=lineno)
        wav = (path.parent / cols[0]).resolve() if not Path(cols[0]).is_absolute() else Path(cols[0])
        if not wav.is_file():
            raise LmbootError(f"audio file {wav} not found", path=path, line=lineno)
        out.append((Path(cols[0]).stem, wav, cols[1].strip()))
    if not out:
        raise LmbootError("no utterance in the manifest", path=path)
    return out


_SPHINX = re.compile(r"^\s*(?:<s>)?(.*?)(?:</s>)?\s*\(([^()\s]+)\)\s*$")


def _read_sphinx(path: Path) -> list[tuple[str, Path, str]]:
    out = []
    for lineno, line in iter_raw_lines(path, "Sphinx transcription"):
        if not line.strip():
            continue
        m = _SPHINX.match(line)
        if not m:
            raise LmbootError("expected '<s> words </s> (utt-id)'", path=path, line=lineno)
        text, utt = " ".join(m.group(1).split()), m.group(2)
        wav = path.parent / f"{utt}.wav"
        if not wav.is_file():
            raise LmbootError(f"audio file {wav.name} for utterance {utt!r} not found", path=path, line=lineno)
        out.append((utt, wav, text))
    if not out:
        raise LmbootError("no utterance in the transcription", path=path)
    return out


def read_pcm(wav_path: str | Path) -> bytes:
    """The PCM frames of a 16 kHz, 16-bit, mono WAV; anything else is an LmbootError."""
    p = check_file(wav_path, "WAV file")
    try:
        with wave.open(str(p), "rb") as w:
            fmt = (w.getframerate(), w.getsampwidth(), w.getnchannels())
            if fmt != (16000, 2, 1):
                raise LmbootError(f"expected 16 kHz 16-bit mono audio, found {fmt[0]} Hz {8 * fmt[1]}-bit "
                                  f"{fmt[2]} channel(s) (convert: sox in.wav -r 16000 -c 1 -b 16 out.wav)", path=p)
            return w.readframes(w.getnframes())
    except (wave.Error, EOFError) as e:
        raise LmbootError(f"not a readable WAV file ({e})", path=p) from None


# --------------------------------------------------------------------------------------
# Dictionaries and grapheme-to-phoneme
# --------------------------------------------------------------------------------------
def read_dict(path: str | Path) -> dict[str, list[str]]:
    """Sphinx pronunciation dictionary: ``word PH1 PH2 ...``; ``word(2)`` alternates merge."""
    out: dict[str, list[str]] = {}
    for lineno, line in iter_raw_lines(path, "pronunciation dictionary"):
        cols = line.split()
        if not cols:
            continue
        if len(cols) < 2:
            raise LmbootError("expected 'word PHONE PHONE ...'", path=path, line=lineno)
        word = re.sub(r"\(\d+\)$", "", cols[0])
        out.setdefault(word, []).append(" ".join(cols[1:]))
    return out


def arpa_vocab(path: str | Path) -> list[str]:
    """The words of an ARPA LM (its 1-grams, without ``<s>``, ``</s>``, ``<unk>``); for a KenLM
    binary, of the ARPA file beside it."""
    return unigrams(arpa_of(path, "pocketsphinx"), "ARPA model")


class G2P(abc.ABC):
    """Extension point: pronunciations for words missing from the dictionary."""

    @abc.abstractmethod
    def pronounce(self, words: Sequence[str]) -> dict[str, str]:
        """``word -> "PH1 PH2 ..."`` for the words it can pronounce."""


class EspeakArpabetG2P(G2P):
    """espeak-ng's English phonemes (``-x``) mapped to the CMU dictionary's ARPAbet phones."""

    MAP = {
        "aI@": "AY ER", "aI3": "AY ER", "aU@": "AW ER", "i@3": "IH R", "A@": "AA R", "O@": "AO R",
        "o@": "AO R", "e@": "EH R", "i@": "IH R", "U@": "UH R", "3:": "ER", "A:": "AA", "O:": "AO",
        "i:": "IY", "u:": "UW", "aI": "AY", "aU": "AW", "eI": "EY", "OI": "OY", "oU": "OW", "@L": "AH L",
        "a#": "AH", "aa": "AE", "@2": "AH", "@5": "AH", "I2": "IH", "I#": "IH", "tS": "CH", "dZ": "JH",
        "t#": "T", "d#": "D", "n-": "N", "l-": "L", "r-": "R", "a": "AE", "A": "AA", "0": "AA", "V": "AH",
        "@": "AH", "3": "ER", "e": "EH", "E": "EH", "I": "IH", "i": "IY", "O": "AO", "U": "UH", "u": "UW",
        "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "f": "F", "v": "V", "T": "TH",
        "D": "DH", "s": "S", "z": "Z", "S": "SH", "Z": "ZH", "h": "HH", "m": "M", "n": "N", "N": "NG",
        "l": "L", "r": "R", "j": "Y", "w": "W", "?": "T", "x": "K",
    }

    def __init__(self, voice: str = "en-us"):
        self.voice = voice
        self.symbols = sorted(self.MAP, key=len, reverse=True)

    def to_arpabet(self, phonemes: str) -> str:
        s = re.sub(r"[',%=_:|]", lambda m: ":" if m.group(0) == ":" else "", phonemes)
        out, i = [], 0
        while i < len(s):
            for sym in self.symbols:
                if s.startswith(sym, i):
                    out.append(self.MAP[sym])
                    i += len(sym)
                    break
            else:
                i += 1  # a length mark or symbol without an ARPAbet counterpart
        return " ".join(out)

    def pronounce(self, words: Sequence[str]) -> dict[str, str]:
        from lmboot.evaluate.simulation import PhonemeSimilarity

        raw = PhonemeSimilarity(self.voice)._phonemes(list(words))
        out = {}
        for w, ph in zip(words, raw):
            arpa = self.to_arpabet(ph)
            if arpa:
                out[w] = arpa
        return out


# --------------------------------------------------------------------------------------
# Decoders
# --------------------------------------------------------------------------------------
DECODERS = Registry("decoder")


class Decoder(abc.ABC):
    """Extension point: a speech recogniser that decodes WAV files with a given LM.

    Constructed as ``cls(lm, hmm=, dict=, oov=)``: ``lm`` a path (None: the recogniser's own
    LM), ``hmm`` its acoustic model, ``dict`` its pronunciation dictionary, ``oov`` what to do
    with LM words it cannot pronounce (:data:`OOV_MODES`). Registered in :data:`DECODERS`.
    """

    name = "abstract"
    missing: list[str]  # LM words without pronunciation
    g2p_words: list[str]

    @abc.abstractmethod
    def __init__(self, lm: str | Path | None = None, hmm: str | Path | None = None, dict: str | Path | None = None,
                 oov: str = "skip"):
        """Load the recogniser with ``lm``."""

    @abc.abstractmethod
    def decode(self, pcm: bytes) -> str:
        """The best hypothesis for one utterance of 16 kHz 16-bit mono PCM."""


@DECODERS.register("pocketsphinx")
class PocketsphinxDecoder(Decoder):
    """pocketsphinx with an ARPA LM (``lm=None`` or ``"bundled"``: its own en-us LM; a KenLM
    binary: the ARPA file beside it).

    ``hmm``: acoustic model directory (default: the bundled US-English model); ``dict``:
    its pronunciation dictionary (default: the bundled ``cmudict-en-us.dict`` when ``hmm`` is
    the bundled model, else ``hmm/*.dict``).
    """

    name = "pocketsphinx"

    def __init__(self, lm: str | Path | None = None, hmm: str | Path | None = None, dict: str | Path | None = None,
                 oov: str = "skip", g2p: G2P | None = None, workdir: str | Path | None = None):
        import pocketsphinx

        if oov not in OOV_MODES:
            raise LmbootError(f"oov must be one of {', '.join(OOV_MODES)}, not {oov!r}")
        model_dir = Path(pocketsphinx.get_model_path())
        if hmm is None:
            hmm_path, default_dict = model_dir / "en-us" / "en-us", model_dir / "en-us" / "cmudict-en-us.dict"
        else:
            hmm_path = Path(hmm)
            if not (hmm_path / "mdef").is_file():
                raise LmbootError("not a Sphinx acoustic model directory (no 'mdef' file)", path=hmm_path)
            dicts = sorted(hmm_path.glob("*.dict"))
            default_dict = dicts[0] if dicts else None
        dict_path = Path(dict) if dict is not None else default_dict
        if dict_path is None:
            raise LmbootError("no pronunciation dictionary: pass dict= (--dict)", path=hmm_path)
        pron = read_dict(check_file(dict_path, "pronunciation dictionary"))
        self.missing, self.g2p_words = [], []
        config = {"hmm": str(hmm_path), "dict": str(dict_path), "logfn": "/dev/null"}
        if lm is not None and str(lm) != BUNDLED:
            lm = arpa_of(lm, "pocketsphinx")
            vocab = arpa_vocab(lm)
            self.missing = sorted(w for w in vocab if w not in pron)
            config["lm"] = str(lm)
            got: dict[str, str] = {}
            if self.missing and oov == "g2p":
                g2p = g2p or EspeakArpabetG2P()
                phones = {ph for prons in pron.values() for p in prons for ph in p.split()}
                got = g2p.pronounce(self.missing)
                bad = sorted({ph for p in got.values() for ph in p.split()} - phones)
                if bad:
                    raise LmbootError(f"the G2P phones {' '.join(bad)} are not in the dictionary's phone set: "
                                      "--oov g2p works with CMU (ARPAbet) dictionaries only", path=dict_path)
                self.g2p_words = sorted(got)
                self.missing = sorted(set(self.missing) - set(got))
            # The recogniser's vocabulary is the LM's: a dictionary of the LM words only (with
            # G2P entries), which also makes pocketsphinx start in well under a second instead of
            # building its search over the whole 135k-word cmudict.
            self._tmp = tempfile.TemporaryDirectory(prefix=DICT_TMP, dir=workdir)
            small = Path(self._tmp.name) / "lm-vocab.dict"
            keep = set(vocab)
            with naming_errors(small), open(small, "w", encoding="utf-8", newline="\n") as f:
                for _, line in iter_raw_lines(dict_path, "pronunciation dictionary"):
                    cols = line.split(maxsplit=1)
                    if cols and re.sub(r"\(\d+\)$", "", cols[0]) in keep:
                        f.write(line.strip() + "\n")
                for w in sorted(got):
                    f.write(f"{w} {got[w]}\n")
            if not any(w in pron or w in got for w in vocab):
                raise LmbootError("no word of the LM is in the pronunciation dictionary", path=lm)
            config["dict"] = str(small)
        else:
            config["lm"] = str(model_dir / "en-us" / "en-us.lm.bin") if hmm is None else None
            if config["lm"] is None:
                raise LmbootError("the bundled LM is US-English: give an ARPA LM for a user acoustic model")
        self.decoder = pocketsphinx.Decoder(**config)

    def decode(self, pcm: bytes) -> str:
        d = self.decoder
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        text = hyp.hypstr if hyp is not None and hyp.hypstr else ""
        # Fillers and alternates: "<sil>", "[noise]", "word(2)".
        return " ".join(re.sub(r"\(\d+\)$", "", w) for w in text.split() if not w.startswith(("<", "[", "++")))


def wer_from_audio(audio: str | Path, lm_paths: Sequence[str | Path], decoder: str = "pocketsphinx",
                   hmm: str | Path | None = None, dict: str | Path | None = None, oov: str = "skip",
                   normalizer: Normalizer | None = None, limit: int | None = None,
                   progress: bool = False, names: Sequence[str] | None = None, details: str | Path | None = None,
                   json_out: str | Path | None = None) -> WerResults:
    """Decode every utterance of ``audio`` with each LM and measure WER (one result per LM).

    ``decoder``: a name in :data:`DECODERS`. ``lm_paths``: ARPA files (or KenLM binaries with
    their ARPA beside them), or ``"bundled"`` for pocketsphinx's own LM. References and
    hypotheses are normalised alike (:class:`~lmboot.text.normalize.Normalizer`).
    ``details`` (per-utterance JSONL) and ``json_out`` (the report) are written when given.
    """
    make = DECODERS.get(decoder)
    if not lm_paths:
        raise LmbootError("no language model given")
    norm = normalizer or Normalizer()
    utts = read_audio_set(audio)[:limit] if limit else read_audio_set(audio)
    pcms = [read_pcm(w) for _, w, _ in utts]  # check every file before the long part
    refs = [norm(r) for _, _, r in utts]
    names = list(names) if names else [str(p) for p in lm_paths]
    results = WerResults()
    for lm, name in zip(lm_paths, names):
        t0 = time.perf_counter()
        dec = make(None if str(lm) == BUNDLED else lm, hmm=hmm, dict=dict, oov=oov)
        it: Iterable = zip(utts, pcms, refs)
        if progress:
            from tqdm import tqdm

            it = tqdm(list(it), desc=f"decode {Path(str(lm)).name}", unit=" utt")
        hyps, rows = [], []
        for (utt, wav, _), pcm, ref in it:
            hyp = norm(dec.decode(pcm))
            hyps.append(hyp)
            rows.append({"id": utt, "wav": str(wav), "ref": ref, "hyp": hyp, **utterance_errors(ref, hyp)})
        counts = word_errors(refs, hyps, normalizer=None)
        results.append(WerResult(lm=name, method=decoder, counts=counts, oov_mode=oov,
                                 lm_vocab_missing=dec.missing, g2p_words=dec.g2p_words,
                                 seconds=time.perf_counter() - t0, details=rows))
        log.info("%s: WER %.2f%% on %d utterances (%s, %.0f s)", name, 100 * counts.wer, len(utts), decoder,
                 results[-1].seconds)
    results.write(details, json_out)
    return results
