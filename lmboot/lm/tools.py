"""Finding and running the KenLM command-line tools (lmplz, build_binary, interpolate, ...).

The ``kenlm`` Python module only queries models; estimating, pruning, binarising and
interpolating are done by KenLM's own programs, built by ``scripts/setup.sh`` into the
virtual environment's ``bin/``. ``LMBOOT_KENLM_BIN`` points lmboot at another directory.
"""
from __future__ import annotations

import os
import re
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
        raise LmbootError(f"{name} failed: {failure_detail(proc.stderr.decode('utf-8', 'replace'), proc.returncode)}")
    return proc


# What the OS said, when KenLM's stderr holds it somewhere in its stack of context.
_OS_WORDS = re.compile(r"No space left|File too large|Permission denied|Read-only file system|Disk quota|"
                       r"Not a directory|Is a directory|No such file|Cannot allocate|Input/output error|"
                       r"Too many open files|Bad file descriptor", re.I)


def failure_detail(stderr: str, returncode: int) -> str:
    """The most telling line of a KenLM program's stderr: the OS's words if any, else the line
    after ``what():`` or the last line mentioning an error, else the last non-empty line."""
    lines = [x.strip() for x in stderr.strip().splitlines() if x.strip()]
    pick = next((x for x in reversed(lines) if _OS_WORDS.search(x)), None)
    if pick is None:
        for i in range(len(lines) - 1, -1, -1):
            if "what():" in lines[i]:
                rest = lines[i].split("what():", 1)[1].strip()
                pick = lines[i + 1] if i + 1 < len(lines) and not rest.endswith(".") else rest or None
                break
    if pick is None:
        pick = next((x for x in reversed(lines) if re.search(r"\berror\b", x, re.I)), None)
    if pick is None:
        pick = lines[-1] if lines else ""
    if returncode < 0:
        import signal

        try:
            sig = signal.Signals(-returncode).name
        except ValueError:
            sig = f"signal {-returncode}"
        sig += " (file size limit)" if sig == "SIGXFSZ" else ""
        pick = f"killed by {sig} after: {pick}" if pick else f"killed by {sig}"
    return pick or f"exit status {returncode}"
