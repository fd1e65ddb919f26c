"""Synthetic test audio: speak test sentences with espeak-ng into 16 kHz mono WAV files.

>>> from lmboot.evaluate import synth
>>> res = synth("test.en", "audio/", voice="en-us", limit=200)     # doctest: +SKIP
>>> res.manifest                                                    # doctest: +SKIP
PosixPath('audio/manifest.tsv')

Each non-empty line ``i`` of the text (normalised as for the LM: lower-case, no
punctuation) becomes ``utt-<i>.wav`` (espeak-ng at 22.05 kHz, resampled by sox to 16 kHz,
16-bit, mono, no dither: deterministic), and ``manifest.tsv`` lists ``wav<TAB>text``, the
manifest ``lmboot eval wer --audio`` reads. Re-running resumes: a WAV whose manifest text is
unchanged is kept. Sentences with digits are spoken as espeak-ng reads them ("630" -> "six
hundred and thirty") while the reference keeps the digits; their count is reported.
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lmboot.errors import LmbootError
from lmboot.io.corpus import atomic_path, atomic_write, iter_raw_lines, read_lines
from lmboot.io.temps import temp_prefix
from lmboot.results import Result
from lmboot.text.normalize import Normalizer

log = logging.getLogger("lmboot")
SPEAK_TMP = temp_prefix(".lmboot-synth-")  # registered: a killed run's leftovers are cleaned

MANIFEST = "manifest.tsv"


@dataclass
class SynthResult(Result):
    out_dir: Path
    manifest: Path
    utterances: int
    spoken: int  # newly synthesised this run
    reused: int  # kept from an earlier run (resume)
    with_digits: int
    voice: str
    seconds: float

    def summary(self) -> str:
        return (f"{self.utterances} utterances ({self.spoken} spoken, {self.reused} reused) -> {self.manifest}"
                + (f"; {self.with_digits} with digits" if self.with_digits else ""))


def _exe(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise LmbootError(f"{name} not found: apt install {'espeak-ng' if name == 'espeak-ng' else 'sox'}")
    return path


def _run(cmd: list[str], what: str, text: str | None = None) -> None:
    proc = subprocess.run(cmd, input=None if text is None else text.encode("utf-8"), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        err = [x for x in proc.stderr.decode("utf-8", "replace").splitlines() if x.strip()]
        raise LmbootError(f"{what} failed: {err[-1].strip() if err else f'exit status {proc.returncode}'}")


def speak(text: str, wav: str | Path, voice: str = "en-us", speed: int = 150) -> Path:
    """Speak ``text`` into ``wav`` (16 kHz, 16-bit, mono), atomically."""
    espeak, sox = _exe("espeak-ng"), _exe("sox")
    wav = Path(wav)
    wav.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=SPEAK_TMP, dir=wav.parent) as tmpdir:
        raw = Path(tmpdir) / "22k.wav"
        _run([espeak, "-v", voice, "-s", str(speed), "-w", str(raw), "--stdin"], f"espeak-ng -v {voice}", text)
        with atomic_path(wav) as tmp:
            _run([sox, "-D", "-t", "wav", str(raw), "-t", "wav", "-r", "16000", "-c", "1", "-b", "16", str(tmp)],
                 "sox resampling")
    return wav


def _old_manifest(path: Path) -> dict[str, str]:
    if not path.is_file() or path.stat().st_size == 0:
        return {}
    out = {}
    for _, line in iter_raw_lines(path, "manifest"):
        wav, _, text = line.partition("\t")
        out[wav] = text
    return out


def synth(text_path: str | Path, out_dir: str | Path, voice: str = "en-us", speed: int = 150,
          limit: int | None = None, normalizer: Normalizer | None = None, progress: bool = False) -> SynthResult:
    """Speak the first ``limit`` sentences of ``text_path`` into ``out_dir`` (see module doc)."""
    if limit is not None and limit < 1:
        raise LmbootError(f"limit must be at least 1, not {limit}")
    if not 80 <= speed <= 450:
        raise LmbootError(f"speed must be 80..450 words per minute, not {speed}")
    norm = normalizer or Normalizer()
    sents = []
    for lineno, line in read_lines(text_path, "test text", with_lineno=True):
        s = norm(line)
        if s:
            sents.append((lineno, s))
        if limit is not None and len(sents) >= limit:
            break
    if not sents:
        raise LmbootError("no sentence to speak after normalisation", path=text_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    old = _old_manifest(out / MANIFEST)
    t0 = time.perf_counter()
    spoken = reused = 0
    rows = []
    it = sents
    if progress:
        from tqdm import tqdm

        it = tqdm(sents, desc="synth", unit=" sent")
    for lineno, s in it:
        name = f"utt-{lineno:06d}.wav"
        if old.get(name) == s and (out / name).is_file():
            reused += 1
        else:
            speak(s, out / name, voice=voice, speed=speed)
            spoken += 1
        rows.append((name, s))
    with atomic_write(out / MANIFEST) as f:
        for name, s in rows:
            f.write(f"{name}\t{s}\n")
    digits = sum(any(c.isdigit() for c in s) for _, s in rows)
    if digits:
        log.warning("%d sentence(s) contain digits: espeak-ng speaks them as words, the reference keeps digits",
                    digits)
    return SynthResult(out_dir=out, manifest=out / MANIFEST, utterances=len(rows), spoken=spoken, reused=reused,
                       with_digits=digits, voice=voice, seconds=time.perf_counter() - t0)
