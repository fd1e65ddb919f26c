"""Finding and running the KenLM command-line tools (lmplz, build_binary, interpolate, ...).

The ``kenlm`` Python module only queries models; estimating, pruning, binarising and
interpolating are done by KenLM's own programs, built by ``scripts/setup.sh`` into the
virtual environment's ``bin/``. ``LMBOOT_KENLM_BIN`` points lmboot at another directory.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from lmboot.errors import LmbootError

TOOLS = ("lmplz", "build_binary", "interpolate", "filter", "query")
SETUP_HINT = "run 'bash scripts/setup.sh' (builds the KenLM tools) or set LMBOOT_KENLM_BIN to their directory"


def find_tool(name: str) -> Path | None:
    """Where the KenLM program ``name`` is: $LMBOOT_KENLM_BIN, then beside this Python, then PATH."""
    candidates = []
    if os.environ.get("LMBOOT_KENLM_BIN"):
        candidates.append(Path(os.environ["LMBOOT_KENLM_BIN"]) / name)
    candidates.append(Path(sys.executable).parent / name)
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    found = shutil.which(name)
    return Path(found) if found else None


def tool(name: str) -> Path:
    path = find_tool(name)
    if path is None:
        raise LmbootError(f"KenLM program '{name}' not found: {SETUP_HINT}")
    return path


def run_tool(name: str, args: Sequence[str | os.PathLike], stdin=None, stdout=None,
             input_bytes: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a KenLM program (never through a shell); a failure becomes one LmbootError line."""
    cmd = [str(tool(name)), *map(str, args)]
    proc = subprocess.run(cmd, stdin=stdin, stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=subprocess.PIPE, input=input_bytes, check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        # KenLM prints a stack of context; the most telling line is usually the last non-empty one.
        detail = next((line for line in reversed(err) if line.strip()), f"exit status {proc.returncode}")
        raise LmbootError(f"{name} failed: {detail.strip()}")
    return proc
