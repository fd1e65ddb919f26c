"""``lmboot doctor``: which external parts are present, and the command that fixes each."""
from __future__ import annotations

import ctypes.util
import importlib.util
import shutil
from dataclasses import dataclass

from lmboot.lm import tools

SETUP = "bash scripts/setup.sh"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str
    required: bool = True


def _module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def run_checks() -> list[Check]:
    checks = []
    for t in tools.TOOLS:
        p = tools.find_tool(t)
        checks.append(Check(f"kenlm:{t}", p is not None, str(p) if p else "not found", SETUP))
    checks.append(Check("kenlm (python module)", _module("kenlm"), "query ARPA/binary models", SETUP))
    snd = ctypes.util.find_library("sndfile")
    checks.append(Check("libsndfile", snd is not None, snd or "not found (fairseq2 loads it at import)",
                        "apt-get install libsndfile1"))
    if _module("torch"):
        import torch

        dev = f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "cpu"
        checks.append(Check("torch", True, f"{torch.__version__}, device {dev}", SETUP))
    else:
        checks.append(Check("torch", False, "not installed", SETUP))
    if _module("fairseq2") and snd:
        try:
            import fairseq2

            checks.append(Check("fairseq2", True, fairseq2.__version__, SETUP))
        except Exception as e:  # an import failure here is what doctor exists to report
            checks.append(Check("fairseq2", False, f"import failed: {e}", SETUP))
    else:
        checks.append(Check("fairseq2", False, "not installed" if not _module("fairseq2") else "needs libsndfile",
                            SETUP))
    # >>> ct2 engine (lmboot/nmt/engines/ct2_engine.py, lmboot/nmt/ct2_export.py)
    if _module("ctranslate2"):
        try:
            import ctranslate2

            cuda = ctranslate2.get_cuda_device_count()
            checks.append(Check("ctranslate2", True, f"{ctranslate2.__version__} (nmt --engine ct2"
                                + (f"; {cuda} CUDA device(s))" if cuda else ")"), SETUP))
        except Exception as e:  # an import failure here is what doctor exists to report
            checks.append(Check("ctranslate2", False, f"import failed: {e}", SETUP))
    else:
        checks.append(Check("ctranslate2", False, "not installed (nmt --engine ct2, nmt export)", SETUP))
    # <<< ct2 engine
    for mod, why in (("sentencepiece", "subword model"), ("sacrebleu", "BLEU/chrF"), ("jiwer", "WER"),
                     ("sklearn", "TF-IDF/SVD embedder"), ("matplotlib", "plots")):
        checks.append(Check(mod, _module(mod), why, SETUP))
    checks.append(Check("pocketsphinx", _module("pocketsphinx"), "real decoding (eval wer --decoder pocketsphinx)",
                        SETUP, required=False))
    esp = shutil.which("espeak-ng")
    checks.append(Check("espeak-ng", esp is not None, esp or "not found (eval synth, phonetic confusions)",
                        "apt-get install espeak-ng", required=False))
    sox = shutil.which("sox")
    checks.append(Check("sox", sox is not None, sox or "not found (resampling synthetic audio)",
                        "apt-get install sox", required=False))
    checks.append(Check("sentence-transformers", _module("sentence_transformers"),
                        "optional neural embedder (select --embedder st:PATH)",
                        ".venv/bin/pip install -e '.[neural]'", required=False))
    return checks


def format_checks(checks: list[Check]) -> str:
    w = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        mark = "ok     " if c.ok else ("MISSING" if c.required else "absent ")
        line = f"{mark}  {c.name.ljust(w)}  {c.detail}"
        if not c.ok:
            line += f"  -> {c.fix}"
        lines.append(line)
    return "\n".join(lines)
