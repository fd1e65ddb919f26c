"""Temporary files and directories a killed run leaves behind, and their clean-up.

Two kinds of names are lmboot's own and safe to remove at the start of a run:

- the atomic writers' (:mod:`lmboot.io.corpus`): ``.NAME.*.tmp`` files and directories,
  ``.NAME.rankN.part`` (sharded translation), ``.NAME.*.old`` directories (a replaced export);
- work directories and files that modules make with :mod:`tempfile`: each module registers the
  prefix of its names here when it is imported (``TMP = temp_prefix("lmboot-work-")``), so this
  module knows no other module's names. A caller cleaning a directory where several modules
  worked imports them first (the pipeline does).

>>> temp_prefix("lmboot-example-")
'lmboot-example-'
>>> "lmboot-example-" in registered_prefixes()
True
"""
from __future__ import annotations

import glob
import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger("lmboot")

PathLike = str | os.PathLike
_DIR_PREFIXES: dict[str, None] = {}
_FILE_PREFIXES: dict[str, None] = {}


def temp_prefix(prefix: str, *, files: bool = False) -> str:
    """Register ``prefix`` as the start of the temporary directory names (``files=True``: file
    names) its owner makes, so :func:`clean_stale_temps` removes what a killed run left; returns
    ``prefix`` for the owner's ``tempfile`` call."""
    (_FILE_PREFIXES if files else _DIR_PREFIXES)[prefix] = None
    return prefix


def registered_prefixes() -> tuple[str, ...]:
    """Every registered prefix (directories first)."""
    return (*_DIR_PREFIXES, *_FILE_PREFIXES)


def _is_temp_file(name: str) -> bool:
    return (name.startswith(".") and name.endswith((".tmp", ".part"))) or name.startswith(tuple(_FILE_PREFIXES))


def _is_temp_dir(name: str) -> bool:
    return (name.startswith(".") and name.endswith((".tmp", ".old"))) or name.startswith(tuple(_DIR_PREFIXES))


def clean_stale_temps(directory: PathLike, recursive: bool = True) -> list[Path]:
    """Remove the temporary files and directories a killed lmboot run left in ``directory``.

    Only lmboot's own names are touched (see the module doc); call it on directories lmboot
    owns (a model directory, a run directory), at the start of a run. Returns what was removed.
    """
    d = Path(directory)
    if not d.is_dir():
        return []
    removed: list[Path] = []
    for root, dirs, files in os.walk(d):
        for name in files:
            if _is_temp_file(name):
                p = Path(root) / name
                try:
                    p.unlink()
                    removed.append(p)
                except OSError:
                    pass
        for name in list(dirs):
            if _is_temp_dir(name):
                p = Path(root) / name
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
                dirs.remove(name)
        if not recursive:
            break
    if removed:
        log.info("removed %d stale temporary file(s) of an interrupted run in %s", len(removed), d)
    return removed


def clean_stale_temps_of(path: PathLike) -> list[Path]:
    """Remove the ``.NAME.*.tmp`` (and ``.NAME.rankN.part``) an interrupted write of ``path`` left beside it."""
    p = Path(path)
    if not p.parent.is_dir():
        return []
    removed = []
    for q in p.parent.glob(f".{glob.escape(p.name)}.*"):
        if q.name.endswith((".tmp", ".part")):
            try:
                shutil.rmtree(q) if q.is_dir() and not q.is_symlink() else q.unlink()
                removed.append(q)
            except OSError:
                pass
    if removed:
        log.info("removed %d stale temporary file(s) of an interrupted write of %s", len(removed), p)
    return removed


__all__ = ["temp_prefix", "registered_prefixes", "clean_stale_temps", "clean_stale_temps_of"]
