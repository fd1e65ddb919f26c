"""Output checks every command makes before it does any work: outputs writable and never an
input; what an earlier, killed run of the command left half-written is removed.

All problems are :class:`LmbootError` (one line, exit status 2). Nothing here writes except a
probe file that is removed at once.

>>> guard(["seed.hi"], files={"--out": "seed.arpa"})        # doctest: +SKIP
>>> guard(["seed.hi"], files={"--out": "seed.hi"})          # doctest: +SKIP
Traceback (most recent call last):
...
lmboot.errors.LmbootError: seed.hi: --out would overwrite this input; choose another output path
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

from lmboot.errors import LmbootError
from lmboot.io.temps import clean_stale_temps_of, temp_prefix

PathLike = str | os.PathLike
PROBE = temp_prefix(".lmboot-probe-", files=True)


def _os_error(path: PathLike, code: int) -> LmbootError:
    return LmbootError(os.strerror(code), path=path)


def _nearest_existing(p: Path) -> Path:
    a = p
    while not os.path.lexists(a):
        if a.parent == a:
            break
        a = a.parent
    return a


def _probe(directory: Path, target: PathLike) -> None:
    """Create and remove a hidden file in ``directory``: what the OS says about ``target``'s home."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=PROBE, dir=directory)
    except OSError as e:
        raise LmbootError(e.strerror or str(e), path=target) from None
    os.close(fd)
    try:
        os.unlink(tmp)
    except OSError:
        pass


def _check_home(p: Path) -> None:
    """Every existing ancestor of ``p`` must be a directory we can create files in."""
    parent = p.parent if str(p.parent) else Path(".")
    a = _nearest_existing(parent)
    if not a.is_dir():
        raise _os_error(p, errno.ENOTDIR)
    _probe(a, p)


def check_output_file(path: PathLike | None) -> None:
    """``path`` can be written as a regular file (an existing regular file is replaced)."""
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise _os_error(p, errno.EISDIR)
    if os.path.lexists(p) and not p.is_file():
        raise LmbootError("exists and is not a regular file; lmboot replaces only regular files", path=p)
    _check_home(p)


def check_output_dir(path: PathLike | None) -> None:
    """``path`` is, or can be created as, a directory we can write in."""
    if path is None:
        return
    p = Path(path)
    if os.path.lexists(p):
        if not p.is_dir():
            raise _os_error(p, errno.ENOTDIR)
        _probe(p, p)
        return
    _check_home(p)


def _same(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def refuse_overwrite(inputs: Iterable[PathLike | None], files: Mapping[str, PathLike | None] | None = None,
                     dirs: Mapping[str, tuple[PathLike | None, Iterable[str] | None]] | None = None) -> None:
    """Refuse (before any work) an output that would replace an input.

    ``files``: {option: output file}; ``dirs``: {option: (output directory, names written in it)},
    names None meaning "anything inside it". An input that is an output directory itself is refused too.
    """
    ins = [Path(i) for i in inputs if i is not None and str(i) != "-"]
    for opt, out in (files or {}).items():
        if out is None:
            continue
        for i in ins:
            if _same(Path(out), i):
                raise LmbootError(f"{opt} would overwrite this input; choose another output path", path=i)
    for opt, (d, names) in (dirs or {}).items():
        if d is None:
            continue
        real_d = os.path.realpath(d)
        wanted = None if names is None else set(names)
        for i in ins:
            real_i = os.path.realpath(i)
            if real_i == real_d:
                raise LmbootError(f"{opt} is this input; choose another output directory", path=i)
            rel = os.path.relpath(real_i, real_d)
            if rel.startswith(os.pardir + os.sep) or rel == os.pardir:
                continue
            top = rel.split(os.sep)[0]
            if wanted is None or top in wanted:
                raise LmbootError(f"{opt} {d} would overwrite this input ({top} is one of its outputs); "
                                  "choose another output directory", path=i)


def guard(inputs: Iterable[PathLike | None] = (), files: Mapping[str, PathLike | None] | None = None,
          dirs: Mapping[str, tuple[PathLike | None, Iterable[str] | None]] | None = None) -> None:
    """All output checks of one command: no input overwritten, every output writable."""
    inputs = list(inputs)
    refuse_overwrite(inputs, files, dirs)
    for out in (files or {}).values():
        check_output_file(out)
    for d, _ in (dirs or {}).values():
        check_output_dir(d)
    # What an earlier, killed run of this command left half-written goes now.
    for out in (files or {}).values():
        if out is not None:
            clean_stale_temps_of(out)
    for d, names in (dirs or {}).values():
        if d is not None and names is not None:
            for n in names:
                clean_stale_temps_of(Path(d) / n)


__all__ = ["check_output_file", "check_output_dir", "refuse_overwrite", "guard"]
