"""Shared fixtures: the bundled toy corpora, ../shared data (skipped when absent), tiny LMs.

Only what is genuinely optional may skip: ../shared data, CUDA, the sentence-transformers extra.
A required dependency that is missing (torch, fairseq2, ctranslate2, pocketsphinx, KenLM,
espeak-ng, sox, torchrun) fails, so a broken install never passes as a row of skips.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "corpora" / "toy"
SHARED = Path(os.environ.get("LMBOOT_SHARED", ROOT.parent / "shared"))

sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def toy() -> Path:
    if not (TOY / "seed.hi").exists():
        pytest.fail("corpora/toy is missing from the checkout")
    return TOY


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared data not present at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def tico(shared) -> Path:
    d = shared / "bench" / "tico-en-hi"
    if not (d / "seed.hi").exists():
        pytest.skip("bench/tico-en-hi not present")
    return d


def write(path: Path, lines) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{x}\n" for x in lines), encoding="utf-8")
    return path


@pytest.fixture
def make_text(tmp_path):
    """make_text(name, lines) -> Path of a UTF-8 file in tmp_path."""
    return lambda name, lines: write(tmp_path / name, lines)


@pytest.fixture(scope="session")
def kenlm_ready():
    from lmboot.lm import tools

    if tools.find_tool("lmplz") is None:
        pytest.fail("KenLM tools missing: run bash scripts/setup.sh")
    return True


def require_program(name: str) -> str:
    """The path of a required program (espeak-ng, sox, torchrun...); a test fails without it."""
    found = shutil.which(name) or (shutil.which(name, path=str(Path(sys.executable).parent)))
    if found is None:
        pytest.fail(f"{name} is missing: run bash scripts/setup.sh")
    return found


def one_error_line(stderr: str, needle: str = "") -> str:
    """The single ``lmboot: error:`` line of a refused command: stderr holds no traceback and,
    besides ``[lmboot]`` log lines, exactly one non-empty line, which contains ``needle``."""
    assert "Traceback" not in stderr, stderr
    lines = [x for x in stderr.splitlines() if x.strip() and not x.startswith("[lmboot]")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("lmboot: error: ") and needle in lines[0], (needle, stderr)
    return lines[0]
