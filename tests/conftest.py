"""Shared fixtures: the bundled toy corpora, ../shared data (skipped when absent), tiny LMs."""
from __future__ import annotations

import os
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
        pytest.skip("corpora/toy not generated")
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
