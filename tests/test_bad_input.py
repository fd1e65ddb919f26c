"""A hostile but fair user: bad output paths, out-of-range options, bad config values, corrupt
KenLM binaries and empty input, across every command (issue 12).

Every case must exit with status 2 before doing any work, print exactly one ``lmboot: error:``
line on stderr naming the path or option at fault (log lines ``[lmboot] ...`` aside), never a
traceback, leave every input byte-for-byte unchanged and create no file. The cases run as
root too: "unwritable" outputs are paths under a regular file (ENOTDIR), existing
directories given as files, files given as directories, and paths inside /proc.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TOY

PUNCT = "... !!! ,,, ???"
NBEST = [
    {"id": "u1", "ref": "मुझे गाना सुनाओ", "hyps": [{"text": "मुझे गाना सुनाओ", "score": -1.0, "tokens": 3},
                                                   {"text": "मुझे खाना सुनाओ", "score": -1.5, "tokens": 3}]},
    {"id": "u2", "ref": "कल मौसम कैसा है", "hyps": [{"text": "कल मौसम कैसा है", "score": -0.5, "tokens": 4}]},
]


@pytest.fixture(scope="module")
def base(tmp_path_factory, kenlm_ready) -> Path:
    """Tiny inputs shared by every case (copied per case, so no case can spoil another)."""
    from lmboot import lm

    d = tmp_path_factory.mktemp("bad-input-base")
    seed = (TOY / "seed.hi").read_text(encoding="utf-8").splitlines()[:40]
    src = (TOY / "source.en").read_text(encoding="utf-8").splitlines()[:20]
    (d / "in.hi").write_text("\n".join(seed[:20]) + "\n", encoding="utf-8")
    (d / "dev.hi").write_text("\n".join(seed[20:30]) + "\n", encoding="utf-8")
    (d / "seed.hi").write_text("\n".join(seed) + "\n", encoding="utf-8")
    (d / "refs.hi").write_text("\n".join(seed[30:]) + "\n", encoding="utf-8")
    (d / "in.en").write_text("\n".join(src) + "\n", encoding="utf-8")
    for name in ("kept.txt", "selected.en", "selected.hi", "scores.tsv", "dropped.tsv"):
        shutil.copyfile(d / ("in.en" if name.endswith(".en") else "in.hi"), d / name)
    (d / "punct.txt").write_text((PUNCT + "\n") * 5, encoding="utf-8")
    (d / "empty.txt").write_text("", encoding="utf-8")
    (d / "afile").write_text("a regular file\n", encoding="utf-8")
    (d / "sub").mkdir()
    (d / "nbest.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in NBEST), encoding="utf-8")
    lm.train(d / "seed.hi", d / "s.arpa", order=3, binary=d / "s.bin")
    flipped = bytearray((d / "s.bin").read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF  # one bit-flipped byte in the middle of the tables
    (d / "flip.bin").write_bytes(bytes(flipped))
    shutil.copyfile(d / "s.bin.sha256", d / "flip.bin.sha256")
    for m in ("fake", "model"):  # refusal happens before a model is read: an empty directory will do
        (d / m).mkdir()
        (d / m / "config.json").write_text("{}\n", encoding="utf-8")
    (d / "bad.model").write_text("not a SentencePiece model\n", encoding="utf-8")
    (d / "conf.toml").write_text('[run]\ndir = "rundir"\n\n[data]\nseed = "seed.hi"\ndev = "dev.hi"\ntest = "refs.hi"\n'
                                 'source = "in.en"\ngeneral_src = "in.en"\ngeneral_tgt = "in.hi"\n', encoding="utf-8")
    os.symlink("in.hi", d / "link.hi")
    os.link(d / "in.hi", d / "hard.hi")
    return d


def _snapshot(d: Path) -> dict[str, str]:
    out = {}
    for p in sorted(d.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[str(p.relative_to(d))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _run(argv: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lmboot", *argv], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=120)


def _check_refused(p: subprocess.CompletedProcess, needle: str, before: dict, after: dict) -> None:
    out = p.stdout + p.stderr
    assert "Traceback" not in out, out
    assert p.returncode == 2, f"exit {p.returncode}\n{out}"
    lines = [line for line in p.stderr.splitlines() if line.strip() and not line.startswith("[lmboot]")]
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("lmboot: error: "), lines[0]
    assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    changed = {k for k in before if after.get(k) != before[k]}
    assert not changed, f"inputs changed: {sorted(changed)}"
    created = set(after) - set(before)
    assert not created, f"files created: {sorted(created)}"


def _case(base: Path, tmp_path: Path, argv: list[str], needle: str, env: dict | None = None) -> None:
    w = tmp_path / "w"
    shutil.copytree(base, w, symlinks=True)
    (w / "hard.hi").unlink()  # copytree copies a hard link as a file: link it again
    os.link(w / "in.hi", w / "hard.hi")
    before = _snapshot(w)
    p = _run(argv, w, env)
    _check_refused(p, needle, before, _snapshot(w))


A = "--threshold", "1e9"
# ------------------------------------------------------------------------------------------
# 1. An output that is an input: refused before any work, the input unchanged.
# ------------------------------------------------------------------------------------------
OVERWRITE = [
    ("lm-train-out", ["lm", "train", "in.hi", "--out", "in.hi"], "in.hi"),
    ("lm-train-binary", ["lm", "train", "in.hi", "--out", "o.arpa", "--binary", "in.hi"], "in.hi"),
    ("lm-train-symlink", ["lm", "train", "in.hi", "--out", "link.hi"], "in.hi"),
    ("lm-train-hardlink", ["lm", "train", "in.hi", "--out", "hard.hi"], "in.hi"),
    ("lm-train-same-outputs", ["lm", "train", "in.hi", "--out", "o.arpa", "--binary", "o.arpa"], "o.arpa"),
    ("lm-eval-json-text", ["lm", "eval", "in.hi", "--lm", "s.arpa", "--json", "in.hi"], "in.hi"),
    ("lm-eval-json-lm", ["lm", "eval", "in.hi", "--lm", "s.arpa", "--json", "s.arpa"], "s.arpa"),
    ("lm-build-out-dev", ["lm", "build", "--text", "in.hi", "--dev", "dev.hi", "--out", "dev.hi"], "dev.hi"),
    ("lm-build-json-text", ["lm", "build", "--text", "a=in.hi", "--dev", "dev.hi", "--out", "o.arpa",
                            "--json", "in.hi"], "in.hi"),
    ("lm-build-binary-dev", ["lm", "build", "--text", "in.hi", "--dev", "dev.hi", "--out", "o.arpa",
                             "--binary", "dev.hi"], "dev.hi"),
    ("lm-prune-out", ["lm", "prune", "s.arpa", "--out", "s.arpa", "--threshold", "1e-8"], "s.arpa"),
    ("lm-prune-binary-history", ["lm", "prune", "s.arpa", "--out", "o.arpa", "--threshold", "1e-8",
                                 "--history-text", "seed.hi", "--binary", "seed.hi"], "seed.hi"),
    ("winnow-kept", ["winnow", "kept.txt", "--lm", "s.arpa", *A, "--out", "."], "kept.txt"),
    ("winnow-dev-dropped", ["winnow", "in.hi", "--lm", "s.arpa", "--percentile", "90", "--dev", "dropped.tsv",
                            "--out", "."], "dropped.tsv"),
    ("select-selected", ["select", "selected.en", "selected.hi", "--seed", "seed.hi", "--out", "."], "selected.en"),
    ("select-seed-scores", ["select", "in.en", "in.hi", "--seed", "scores.tsv", "--out", "."], "scores.tsv"),
    ("select-out-is-input", ["select", "in.en", "in.hi", "--seed", "seed.hi", "--out", "in.hi"], "in.hi"),
    ("select-source-domain-is-output", ["select", "in.en", "in.hi", "--seed", "seed.hi", "--method", "moore-lewis",
                                       "--source-domain", "selected.en", "--out", "."], "selected.en"),
    ("spm-out-tgt", ["nmt", "spm", "--src", "in.en", "--tgt", "in.hi", "--out", "in.hi"], "in.hi"),
    ("train-spm-in-model", ["nmt", "train", "in.en", "in.hi", "--model", "model", "--src-lang", "a",
                            "--tgt-lang", "b", "--spm", "model/config.json"],
     "model/config.json: --model model would overwrite this input (config.json is one of its outputs)"),
    ("train-model-is-input", ["nmt", "train", "in.en", "in.hi", "--model", "in.hi", "--src-lang", "a",
                              "--tgt-lang", "b"], "in.hi"),
    ("translate-out", ["nmt", "translate", "in.en", "--model", "fake", "--out", "in.en"], "in.en"),
    ("translate-txt", ["nmt", "translate", "in.en", "--model", "fake", "--out", "o.jsonl", "--txt", "in.en"], "in.en"),
    ("translate-txt-is-out", ["nmt", "translate", "in.en", "--model", "fake", "--out", "o.jsonl",
                              "--txt", "o.jsonl"], "o.jsonl"),
    ("self-train-model-in-out", ["nmt", "self-train", "--model", "model", "--source", "in.en", "--out", ".",
                                 "--train-src", "in.en", "--train-tgt", "in.hi"],
     "model: --out . would overwrite this input (model is one of its outputs)"),
    ("export-onto-model", ["nmt", "export", "fake", "--out", "fake"], "fake: --out is this input"),
    ("rescore-jsonl", ["rescore", "nbest.jsonl", "--lm", "s.arpa", "--out-jsonl", "nbest.jsonl"], "nbest.jsonl"),
    ("rescore-txt-lm", ["rescore", "nbest.jsonl", "--lm", "s.arpa", "--out-txt", "s.arpa"], "s.arpa"),
    ("rescore-save-weights", ["rescore", "nbest.jsonl", "--lm", "s.arpa", "--tune-on", "nbest.jsonl",
                              "--save-weights", "nbest.jsonl"], "nbest.jsonl"),
    ("rescore-json-is-out", ["rescore", "nbest.jsonl", "--lm", "s.arpa", "--out-jsonl", "o.jsonl",
                             "--json", "o.jsonl"], "o.jsonl"),
    ("wer-json", ["eval", "wer", "--nbest", "nbest.jsonl", "--lm", "s.arpa", "--json", "nbest.jsonl"], "nbest.jsonl"),
    ("wer-details-lm", ["eval", "wer", "--nbest", "nbest.jsonl", "--lm", "s.arpa", "--details", "s.arpa"], "s.arpa"),
    ("simulate-refs", ["eval", "simulate", "refs.hi", "-o", "refs.hi", "--vocab-from", "seed.hi"], "refs.hi"),
    ("simulate-vocab", ["eval", "simulate", "refs.hi", "-o", "seed.hi", "--vocab-from", "seed.hi"], "seed.hi"),
    ("synth-out-is-input", ["eval", "synth", "in.en", "-o", "in.en"], "in.en"),
]

# ------------------------------------------------------------------------------------------
# 2. The OS refuses an output: one line naming the path, nothing half-made.
# ------------------------------------------------------------------------------------------
UNWRITABLE = [
    ("lm-train-under-file", ["lm", "train", "in.hi", "--out", "afile/x.arpa"], "afile/x.arpa"),
    ("lm-train-binary-under-file", ["lm", "train", "in.hi", "--out", "o.arpa", "--binary", "afile/x.bin"], "afile/x.bin"),
    ("lm-train-out-dir", ["lm", "train", "in.hi", "--out", "sub"], "sub"),
    ("lm-train-proc", ["lm", "train", "in.hi", "--out", "/proc/self/lmboot.arpa"], "/proc/self/lmboot.arpa"),
    ("lm-eval-json-under-file", ["lm", "eval", "in.hi", "--lm", "s.arpa", "--json", "afile/x.json"], "afile/x.json"),
    ("lm-eval-json-dir", ["lm", "eval", "in.hi", "--lm", "s.arpa", "--json", "sub"], "sub"),
    ("lm-build-json-under-file", ["lm", "build", "--text", "in.hi", "--dev", "dev.hi", "--out", "o.arpa",
                                  "--json", "afile/x.json"], "afile/x.json"),
    ("lm-build-out-dir", ["lm", "build", "--text", "in.hi", "--dev", "dev.hi", "--out", "sub"], "sub"),
    ("lm-build-workdir-file", ["lm", "build", "--text", "in.hi", "--dev", "dev.hi", "--out", "o.arpa",
                               "--work-dir", "afile"], "afile"),
    ("winnow-out-file", ["winnow", "in.hi", "--lm", "s.arpa", *A, "--out", "afile"], "afile"),
    ("winnow-out-under-file", ["winnow", "in.hi", "--lm", "s.arpa", *A, "--out", "afile/w"], "afile/w"),
    ("select-out-file", ["select", "in.en", "in.hi", "--seed", "seed.hi", "--out", "afile"], "afile"),
    ("select-out-proc", ["select", "in.en", "in.hi", "--seed", "seed.hi", "--out", "/proc/self/sel"], "/proc/self/sel"),
    ("spm-under-file", ["nmt", "spm", "--src", "in.en", "--tgt", "in.hi", "--out", "afile/spm.model"], "afile/spm.model"),
    ("spm-out-dir", ["nmt", "spm", "--src", "in.en", "--tgt", "in.hi", "--out", "sub"], "sub"),
    ("train-model-under-file", ["nmt", "train", "in.en", "in.hi", "--model", "afile/m", "--src-lang", "a",
                                "--tgt-lang", "b"], "afile/m"),
    ("translate-under-file", ["nmt", "translate", "in.en", "--model", "fake", "--out", "afile/o.jsonl"], "afile/o.jsonl"),
    ("translate-out-dir", ["nmt", "translate", "in.en", "--model", "fake", "--out", "sub"], "sub"),
    ("export-under-file", ["nmt", "export", "fake", "--out", "afile/ct2"], "afile/ct2"),
    ("self-train-out-file", ["nmt", "self-train", "--model", "fake", "--source", "in.en", "--out", "afile",
                             "--train-src", "in.en", "--train-tgt", "in.hi"], "afile"),
    ("rescore-txt-under-file", ["rescore", "nbest.jsonl", "--lm", "s.arpa", "--out-txt", "afile/o.txt"], "afile/o.txt"),
    ("rescore-jsonl-dir", ["rescore", "nbest.jsonl", "--lm", "s.arpa", "--out-jsonl", "sub"], "sub"),
    ("wer-json-under-file", ["eval", "wer", "--nbest", "nbest.jsonl", "--lm", "s.arpa", "--json", "afile/x"], "afile/x"),
    ("simulate-dir", ["eval", "simulate", "refs.hi", "-o", "sub", "--vocab-from", "seed.hi"], "sub"),
    ("simulate-proc", ["eval", "simulate", "refs.hi", "-o", "/proc/self/sim.jsonl", "--vocab-from", "seed.hi"],
     "/proc/self/sim.jsonl"),
    ("synth-under-file", ["eval", "synth", "in.en", "-o", "afile/audio"], "afile/audio"),
    ("run-dir-under-file", ["run", "conf.toml", "--dir", "afile/run"], "afile/run"),
]

# ------------------------------------------------------------------------------------------
# 3. Numeric options out of range (NaN included), caught before any work.
# ------------------------------------------------------------------------------------------
W = ["winnow", "in.hi", "--lm", "s.arpa", "--out", "w"]
SEL = ["select", "in.en", "in.hi", "--seed", "seed.hi", "--out", "sel"]
TR = ["nmt", "train", "in.en", "in.hi", "--model", "m", "--src-lang", "a", "--tgt-lang", "b"]
TL = ["nmt", "translate", "in.en", "--model", "fake", "--out", "o.jsonl"]
ST = ["nmt", "self-train", "--model", "fake", "--source", "in.en", "--out", "st", "--train-src", "in.en",
      "--train-tgt", "in.hi"]
RS = ["rescore", "nbest.jsonl", "--lm", "s.arpa", "--out-txt", "o.txt"]
SIM = ["eval", "simulate", "refs.hi", "-o", "sim.jsonl", "--vocab-from", "seed.hi"]
SPM = ["nmt", "spm", "--src", "in.en", "--tgt", "in.hi", "--out", "x.model"]
RANGES = [
    ("lm-train-order-0", ["lm", "train", "in.hi", "--out", "o.arpa", "--order", "0"], "--order"),
    ("lm-train-order-9", ["lm", "train", "in.hi", "--out", "o.arpa", "--order", "9"], "--order"),
    ("lm-train-prune-neg", ["lm", "train", "in.hi", "--out", "o.arpa", "--prune", "-1"], "--prune"),
    ("lm-eval-oov-nan", ["lm", "eval", "in.hi", "--lm", "s.arpa", "--oov-penalty", "nan", "--json", "e.json"],
     "--oov-penalty"),
    ("lm-eval-oov-positive", ["lm", "eval", "in.hi", "--lm", "s.arpa", "--oov-penalty", "3"], "--oov-penalty"),
    ("lm-build-order-0", ["lm", "build", "--text", "in.hi", "--dev", "dev.hi", "--out", "o.arpa", "--order", "0"],
     "--order"),
    ("lm-build-method", ["lm", "build", "--text", "in.hi", "--dev", "dev.hi", "--out", "o.arpa", "--method", "cubic"],
     "--method"),
    ("winnow-threshold-nan", [*W, "--threshold", "nan"], "--threshold"),
    ("winnow-threshold-neg", [*W, "--threshold", "-5"], "--threshold"),
    ("winnow-percentile-500", [*W, "--percentile", "500", "--dev", "dev.hi"], "--percentile"),
    ("winnow-percentile-nan", [*W, "--percentile", "nan", "--dev", "dev.hi"], "--percentile"),
    ("select-random-seed", [*SEL, "--random-seed", "-1"], "--random-seed"),
    ("select-keep-fraction", [*SEL, "--keep-fraction", "1.5"], "--keep-fraction"),
    ("select-keep-fraction-nan", [*SEL, "--keep-fraction", "nan"], "--keep-fraction"),
    ("select-batch-size", [*SEL, "--batch-size", "0"], "--batch-size"),
    ("select-k", [*SEL, "--method", "knn", "--k", "0"], "--k"),
    ("select-max-distance-inf", [*SEL, "--max-distance", "inf"], "--max-distance"),
    ("select-repeat-0", [*SEL, "--repeat", "0"], "--repeat"),
    ("select-repeat-huge", [*SEL, "--repeat", "1000000000"], "--repeat must be an integer in [1, 100]"),
    ("spm-coverage", [*SPM, "--character-coverage", "2.0"], "--character-coverage"),
    ("spm-vocab", [*SPM, "--vocab-size", "0"], "--vocab-size"),
    ("train-lr-nan", [*TR, "--lr", "nan"], "--lr"),
    ("train-lr-neg", [*TR, "--lr", "-0.001"], "--lr"),
    ("train-dropout", [*TR, "--dropout", "1.5"], "--dropout"),
    ("train-label-smoothing", [*TR, "--label-smoothing", "1"], "--label-smoothing"),
    ("train-max-steps", [*TR, "--max-steps", "0"], "--max-steps"),
    ("train-batch-tokens", [*TR, "--batch-tokens", "0"], "--batch-tokens"),
    ("train-seed", [*TR, "--seed", "-1"], "--seed"),
    ("translate-beam", [*TL, "--beam", "0"], "--beam"),
    ("translate-max-lines", [*TL, "--max-lines", "-1"], "--max-lines"),
    ("translate-batch-size", [*TL, "--batch-size", "0"], "--batch-size"),
    ("translate-len-penalty-nan", [*TL, "--len-penalty", "nan"], "--len-penalty"),
    ("translate-temperature", [*TL, "--sampling-temperature", "0"], "--sampling-temperature"),
    ("self-train-trust", [*ST, "--trust", "0"], "--trust"),
    ("self-train-mix-ratio", [*ST, "--mix-ratio", "-1"], "--mix-ratio"),
    ("self-train-lr-inf", [*ST, "--lr", "inf"], "--lr"),
    ("rescore-oov-nan", [*RS, "--oov-penalty", "nan"], "--oov-penalty"),
    ("rescore-lm-weight-nan", [*RS, "--lm-weight", "nan"], "--lm-weight"),
    ("rescore-norm-exponent", [*RS, "--norm-exponent", "-1"], "--norm-exponent"),
    ("wer-oov-nan", ["eval", "wer", "--nbest", "nbest.jsonl", "--lm", "s.arpa", "--oov-penalty", "nan"],
     "--oov-penalty"),
    ("simulate-target-wer", [*SIM, "--target-wer", "1.5"], "--target-wer"),
    ("simulate-ref-prob", [*SIM, "--ref-prob", "2"], "--ref-prob"),
    ("simulate-nbest", [*SIM, "--nbest", "0"], "--nbest"),
    ("synth-speed", ["eval", "synth", "in.en", "-o", "audio", "--speed", "0"], "--speed"),
    # Spoken form (issue 19): it needs the text's language, a well-formed code, and nothing else asks for one.
    ("lm-build-spoken-no-lang", ["lm", "build", "--text", "in.hi", "--dev", "dev.hi", "--out", "o.arpa",
                                 "--spoken-form"], "--spoken-form needs --lang"),
    ("winnow-lang-malformed", ["winnow", "in.hi", "--lm", "s.arpa", *A, "--out", "w", "--spoken-form", "--lang",
                               "hin Deva"], "--lang"),
    ("rescore-lang-without-spoken", [*RS, "--lang", "hi"], "--lang only"),
    ("select-src-lang-without-spoken", ["select", "in.en", "in.hi", "--seed", "seed.hi", "--out", "sel",
                                        "--src-lang", "en"], "--src-lang"),
    ("synth-digits-spell", ["eval", "synth", "in.en", "-o", "audio", "--digits", "spell"], "--digits"),
]

# ------------------------------------------------------------------------------------------
# 4. A corrupt KenLM binary (one flipped byte, checksum sidecar present): an error, never a
#    crash or a wrong number.
# ------------------------------------------------------------------------------------------
CORRUPT = [
    ("lm-eval", ["lm", "eval", "in.hi", "--lm", "flip.bin"], "flip.bin"),
    ("lm-eval-second", ["lm", "eval", "in.hi", "--lm", "s.bin", "--lm", "flip.bin"], "flip.bin"),
    ("winnow", ["winnow", "in.hi", "--lm", "flip.bin", *A, "--out", "w"], "flip.bin"),
    ("rescore", ["rescore", "nbest.jsonl", "--lm", "flip.bin", "--out-txt", "o.txt"], "flip.bin"),
    ("wer", ["eval", "wer", "--nbest", "nbest.jsonl", "--lm", "s.bin", "--lm", "flip.bin"], "flip.bin"),
]

# ------------------------------------------------------------------------------------------
# 5. Input that is empty or normalises to nothing: an error, and no partial output.
# ------------------------------------------------------------------------------------------
EMPTY = [
    ("winnow-punct", ["winnow", "punct.txt", "--lm", "s.arpa", *A, "--out", "w"], "punct.txt"),
    ("winnow-empty", ["winnow", "empty.txt", "--lm", "s.arpa", *A, "--out", "w"], "empty.txt"),
    ("lm-train-punct", ["lm", "train", "punct.txt", "--out", "o.arpa", "--binary", "o.bin"], "punct.txt"),
    ("lm-build-punct", ["lm", "build", "--text", "punct.txt", "--dev", "dev.hi", "--out", "o.arpa"], "punct.txt"),
    ("lm-eval-empty", ["lm", "eval", "empty.txt", "--lm", "s.arpa", "--json", "e.json"], "empty.txt"),
    ("simulate-punct", ["eval", "simulate", "punct.txt", "-o", "sim.jsonl", "--vocab-from", "seed.hi"], "punct.txt"),
    ("rescore-empty", ["rescore", "empty.txt", "--lm", "s.arpa", "--out-txt", "o.txt"], "empty.txt"),
    ("select-source-domain-punct", ["select", "in.en", "in.hi", "--seed", "seed.hi", "--method", "moore-lewis",
                                    "--source-domain", "punct.txt", "--out", "sel"], "punct.txt"),
    # A failed first training leaves no model directory (no config.json, no copied garbage spm.model).
    ("train-garbage-spm", ["nmt", "train", "in.en", "in.hi", "--model", "m", "--src-lang", "a", "--tgt-lang", "b",
                           "--spm", "bad.model", "--max-steps", "1"], "spm.model"),
]

# ------------------------------------------------------------------------------------------
# 6. Bad run-config values: one validation pass before any step, naming file and key.
# ------------------------------------------------------------------------------------------
CONFIG = [
    ("stages-select-no", "[stages]\nselect = \"no\"\n", "[stages] select"),
    ("keep-fraction-half", "[select]\nkeep_fraction = \"half\"\n", "[select] keep_fraction"),
    ("keep-fraction-1.5", "[select]\nkeep_fraction = 1.5\n", "[select] keep_fraction"),
    ("seed-lm-order-three", "[seed_lm]\norder = \"three\"\n", "[seed_lm] order"),
    ("winnow-percentile-500", "[winnow]\npercentile = 500\n", "[winnow] percentile"),
    ("lm-method", "[lm]\nmethod = \"cubic\"\n", "[lm] method"),
    ("run-seed-neg", "[run]\nseed = -1\n", "[run] seed"),
    ("oov-penalty-nan", "[eval]\noov_penalty = nan\n", "[eval] oov_penalty"),
    ("translate-beam-0", "[translate]\nbeam = 0\n", "[translate] beam"),
    ("nmt-preset", "[nmt]\npreset = \"huge\"\n", "[nmt] preset"),
    ("nmt-lr-bool", "[nmt]\nlr = true\n", "[nmt] lr"),
    ("oversample-repeat-0", "[oversample]\nrepeat = 0\n", "[oversample] repeat"),
    ("unknown-key", "[winnow]\npercentil = 90\n", "percentil"),
    ("text-spoken-form-yes", "[text]\nspoken_form = \"yes\"\n", "[text] spoken_form"),
    ("text-spoken-form-bad-lang", "[run]\ntgt_lang = \"hin Deva\"\n\n[text]\nspoken_form = true\n", "[run] tgt_lang"),
]


MATRIX = [(f"{cls}-{c[0]}", *c[1:]) for cls, cases in (("overwrite", OVERWRITE), ("unwritable", UNWRITABLE),
                                                         ("range", RANGES), ("corrupt", CORRUPT), ("empty", EMPTY))
          for c in cases]


@pytest.mark.parametrize("argv, needle", [c[1:] for c in MATRIX], ids=[c[0] for c in MATRIX])
def test_bad_input_matrix(base, tmp_path, argv, needle):
    """Exit 2, one line naming the path or option, inputs unchanged, nothing new written."""
    _case(base, tmp_path, argv, needle)


@pytest.mark.parametrize("body, needle", [c[1:] for c in CONFIG], ids=[c[0] for c in CONFIG])
def test_bad_config_value(base, tmp_path, body, needle):
    w = tmp_path / "w"
    shutil.copytree(base, w, symlinks=True)
    data = "\n".join(f'{k} = "{v}"' for k, v in (("seed", "seed.hi"), ("dev", "dev.hi"), ("test", "refs.hi"),
                                                 ("source", "in.en"), ("general_src", "in.en"),
                                                 ("general_tgt", "in.hi")))
    (w / "conf.toml").write_text(f'[run]\ndir = "rundir"\n\n[data]\n{data}\n\n' + body
                                 if not body.startswith("[run]") else
                                 body.replace("[run]\n", '[run]\ndir = "rundir"\n') + f"\n[data]\n{data}\n",
                                 encoding="utf-8")
    before = _snapshot(w)
    p = _run(["run", "conf.toml"], w)
    _check_refused(p, needle, before, _snapshot(w))
    assert "conf.toml" in p.stderr
    assert not (w / "rundir").exists(), "a step ran before the config was checked"


def test_checksum_sidecar_written_and_missing_one_warns(base, tmp_path):
    """A binary lmboot builds carries BINARY.sha256; one without it loads with a single warning."""
    w = tmp_path / "w"
    shutil.copytree(base, w, symlinks=True)
    side = (w / "s.bin.sha256").read_text().split()
    assert side[0] == hashlib.sha256((w / "s.bin").read_bytes()).hexdigest() and side[1] == "s.bin"
    (w / "s.bin.sha256").unlink()
    p = _run(["lm", "eval", "in.hi", "--lm", "s.bin"], w)
    assert p.returncode == 0, p.stderr
    assert p.stderr.count("no checksum file") == 1, p.stderr


def test_full_disk_is_one_line(base, tmp_path):
    """A write the OS refuses midway (file size limit standing in for a full disk): one line, exit 2,
    nothing published, no temporary file left."""
    import resource
    import signal

    w = tmp_path / "w"
    shutil.copytree(base, w, symlinks=True)
    big = "\n".join(f"{i} " + " ".join(f"w{(i * 7 + j) % 997}" for j in range(12)) for i in range(3000)) + "\n"
    (w / "big.txt").write_text(big, encoding="utf-8")
    before = _snapshot(w)

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    p = subprocess.run([sys.executable, "-m", "lmboot", "eval", "simulate", "big.txt", "-o", "sim.jsonl",
                        "--vocab-from", "seed.hi"], capture_output=True, text=True, cwd=w, preexec_fn=limit,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    after = _snapshot(w)
    _check_refused(p, "sim.jsonl", before, after)
    assert "File too large" in p.stderr


# ------------------------------------------------------------------------------------------
# 7. nmt train killed after config.json, before its first checkpoint: the re-run starts from
#    --init-from (never from random weights), and the killed run's temporary files go.
# ------------------------------------------------------------------------------------------
def test_start_point_decides_resume_init_or_scratch(tmp_path):
    from lmboot.nmt import model as M
    from lmboot.nmt.training import start_point

    info = M.ModelInfo(src_lang="a", tgt_lang="b", preset="tiny", model={}, train={"init_from": "/x/base"})
    assert start_point(tmp_path, None, M.ModelInfo(src_lang="a", tgt_lang="b", preset="tiny", model={})) \
        == ("scratch", None)
    assert start_point(tmp_path, None, info) == ("init", Path("/x/base"))  # recorded by the killed run
    assert start_point(tmp_path, tmp_path / "given", info) == ("init", tmp_path / "given")
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.pt").write_bytes(b"")
    assert start_point(tmp_path, tmp_path / "given", info) == ("resume", tmp_path / "checkpoints" / "last.pt")


@pytest.fixture(scope="module")
def nmt_base(tmp_path_factory):
    from lmboot.io.corpus import write_bitext
    from lmboot.nmt import train
    from toy_nmt import make_pairs

    d = tmp_path_factory.mktemp("nmt-base")
    write_bitext(make_pairs(200, seed=1), d / "train.en", d / "train.xx")
    train(d / "train.en", d / "train.xx", d / "base", src_lang="eng_Latn", tgt_lang="xyz_Deva", preset="tiny",
          max_steps=3, seed=1, threads=1, progress=False, batch_tokens=1024)
    return d


def _weights(model_dir: Path):
    import torch

    return torch.load(model_dir / "checkpoints" / "last.pt", weights_only=True)["model"]


@pytest.mark.parametrize("again_with_init", [True, False], ids=["init-from-again", "init-from-recorded"])
def test_fine_tune_killed_before_first_checkpoint_restarts_from_init(nmt_base, tmp_path, again_with_init):
    import torch

    from lmboot.nmt import train

    d = nmt_base
    kw = dict(src_lang="eng_Latn", tgt_lang="xyz_Deva", preset="tiny", max_steps=2, seed=7, threads=1,
              progress=False, batch_tokens=1024, lr=1e-3)
    ref = tmp_path / "ref"
    train(d / "train.en", d / "train.xx", ref, init_from=d / "base", **kw)
    # What kill -9 leaves between writing config.json and the first checkpoint, plus stale temporaries.
    killed = tmp_path / "killed"
    (killed / "checkpoints").mkdir(parents=True)
    for name in ("config.json", "spm.model"):
        shutil.copyfile(ref / name, killed / name)
    stale = [killed / "checkpoints" / ".last.pt.k9x2.tmp", killed / ".config.json.a1b2.tmp"]
    for s in stale:
        s.write_bytes(b"half-written")
    res = train(d / "train.en", d / "train.xx", killed, init_from=d / "base" if again_with_init else None, **kw)
    assert (res.start_step, res.steps) == (0, 2)
    a, b = _weights(ref), _weights(killed)
    assert all(torch.equal(a[k], b[k]) for k in a), "the re-run did not start from --init-from"
    assert not any(s.exists() for s in stale)


@pytest.mark.slow
def test_cli_fine_tune_killed_after_config_resumes_from_init(nmt_base, tmp_path):
    """The real thing: `lmboot nmt train --init-from` SIGKILLed as soon as config.json exists, re-run."""
    import signal
    import time

    import torch

    d = nmt_base
    argv = [sys.executable, "-m", "lmboot", "nmt", "train", str(d / "train.en"), str(d / "train.xx"),
            "--src-lang", "eng_Latn", "--tgt-lang", "xyz_Deva", "--init-from", str(d / "base"),
            "--max-steps", "2", "--seed", "7", "--threads", "1", "--batch-tokens", "1024", "--lr", "0.001",
            "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    ref = subprocess.run([*argv, "--model", str(tmp_path / "ref")], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=300)
    assert ref.returncode == 0, ref.stderr
    m = tmp_path / "killed"
    proc = subprocess.Popen([*argv, "--model", str(m)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, cwd=ROOT)
    t0 = time.time()
    while not (m / "config.json").exists() and proc.poll() is None and time.time() - t0 < 120:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if (m / "checkpoints" / "last.pt").exists():
        pytest.skip("the run reached its first checkpoint before it could be killed")
    again = subprocess.run([*argv, "--model", str(m)], capture_output=True, text=True, env=env, cwd=ROOT,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    a, b = _weights(tmp_path / "ref"), _weights(m)
    assert all(torch.equal(a[k], b[k]) for k in a), "the re-run did not start from --init-from"
    assert not list(m.rglob(".*.tmp"))


def test_self_train_on_a_truncated_checkpoint_leaves_nothing(nmt_base, tmp_path):
    """The refusal comes when the round's translation loads the model: no round-1/source.txt behind."""
    m = tmp_path / "m"
    shutil.copytree(nmt_base / "base", m)
    ck = m / "checkpoints" / "last.pt"
    ck.write_bytes(ck.read_bytes()[: ck.stat().st_size // 2])
    p = subprocess.run([sys.executable, "-m", "lmboot", "nmt", "self-train", "--model", str(m), "--source",
                        str(nmt_base / "train.en"), "--out", "st", "--train-src", str(nmt_base / "train.en"),
                        "--train-tgt", str(nmt_base / "train.xx"), "--threads", "1", "--steps", "1"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    assert "Traceback" not in p.stderr and p.returncode == 2, p.stderr
    lines = [x for x in p.stderr.splitlines() if x.strip() and not x.startswith("[lmboot]")]
    assert len(lines) == 1 and f"{ck}: corrupt or unreadable checkpoint" in lines[0], p.stderr
    assert not (tmp_path / "st").exists(), sorted(map(str, (tmp_path / "st").rglob("*")))


def test_stale_temporaries_of_a_killed_run_are_cleaned(base, tmp_path):
    """`.NAME.*.tmp` beside an output (atomic writers) and lmboot's work directories in a run directory."""
    from lmboot.io.temps import clean_stale_temps

    w = tmp_path / "w"
    shutil.copytree(base, w, symlinks=True)
    stale = w / ".o.arpa.x1y2z3.tmp"
    stale.write_text("half an ARPA")
    other = w / ".someone-elses.tmp"
    other.write_text("not ours")
    p = _run(["lm", "train", "in.hi", "--out", "o.arpa"], w)
    assert p.returncode == 0, p.stderr
    assert not stale.exists() and other.exists() and (w / "o.arpa").exists()

    run = tmp_path / "run"
    (run / "lm" / "lmboot-lm-abc").mkdir(parents=True)
    (run / "nmt" / "checkpoints").mkdir(parents=True)
    (run / "nmt" / "checkpoints" / ".last.pt.q.tmp").write_bytes(b"x")
    (run / "nmt" / "config.json").write_text("{}")
    removed = clean_stale_temps(run)
    assert sorted(p.name for p in removed) == [".last.pt.q.tmp", "lmboot-lm-abc"]
    assert (run / "nmt" / "config.json").exists()


def test_temporary_names_are_registered_by_the_modules_that_make_them(tmp_path):
    """The cleaner knows no other module's names: each owner registers its prefix on import,
    and what is registered (and only that) is cleaned."""
    import lmboot.evaluate  # noqa: F401 (owners: decoding, synthesis)
    import lmboot.lm.objective  # noqa: F401 (owners: lm estimate and build, the dev objective)
    import lmboot.select  # noqa: F401 (owner: selection)
    from lmboot.io import temps

    owned = {"lmboot-dict-", ".lmboot-synth-", ".select-work-", "lmboot-lm-", "lmboot-objective-", "interpolate-",
             "lmboot-prune-"}
    assert owned <= set(temps.registered_prefixes())
    source = Path(temps.__file__).read_text(encoding="utf-8")
    assert not [p for p in owned if p in source]
    (tmp_path / "lmboot-test-owner-x1").mkdir()
    (tmp_path / "lmboot-test-other-x1").mkdir()
    temps.temp_prefix("lmboot-test-owner-")
    assert [p.name for p in temps.clean_stale_temps(tmp_path)] == ["lmboot-test-owner-x1"]
    assert (tmp_path / "lmboot-test-other-x1").is_dir()


def test_old_safety_names_still_import():
    """safety.py was split by concern; every name it had still imports from it."""
    import lmboot.safety as safety

    old = ["check_range", "in_range", "describe_range", "check_output_file", "check_output_dir", "refuse_overwrite",
           "guard", "os_error_line", "clean_stale_temps", "clean_stale_temps_of", "write_checksum",
           "verify_checksum", "cached_sha256", "record_checksums", "verify_checksums", "publish_with_checksum",
           "sidecar", "is_kenlm_binary", "unknown_to_all", "warn_dev_unknown", "DEV_UNKNOWN_LIMIT", "SIDECAR_SUFFIX"]
    assert all(callable(getattr(safety, n)) or n.isupper() for n in old)
    with pytest.raises(AttributeError):
        safety.no_such_check  # noqa: B018


def test_dev_mostly_unknown_to_every_lm_warns(base, tmp_path):
    w = tmp_path / "w"
    shutil.copytree(base, w, symlinks=True)
    (w / "alien.txt").write_text("zork quux blarg\nfoo bar baz qux\n", encoding="utf-8")
    p = _run(["winnow", "in.hi", "--lm", "s.arpa", "--percentile", "90", "--dev", "alien.txt", "--out", "w",
              "--no-plot"], w)
    assert p.returncode == 0, p.stderr
    assert "unknown to every LM" in p.stderr and "alien.txt" in p.stderr
    p = _run(["lm", "build", "--text", "a=in.hi", "--text", "b=refs.hi", "--dev", "alien.txt", "--out", "o.arpa"], w)
    assert p.returncode == 0, p.stderr
    assert "unknown to every LM" in p.stderr
    p = _run(["winnow", "in.hi", "--lm", "s.arpa", "--percentile", "90", "--dev", "dev.hi", "--out", "w2",
              "--no-plot"], w)
    assert p.returncode == 0 and "unknown to every LM" not in p.stderr, p.stderr
