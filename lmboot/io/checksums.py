"""Checksums of the models lmboot writes, checked before a model is loaded.

- A KenLM binary gets a ``MODEL.sha256`` sidecar (``sha256sum`` format) when it is written
  (:func:`publish_with_checksum`, :func:`write_checksum`) and is checked against it before it
  is loaded (:func:`verify_checksum`): a corrupt binary is an error, never a crash or a
  wrong number.
- A model directory (a CTranslate2 export) records ``{file: sha256}`` in its own metadata
  (:func:`record_checksums`) and is checked with :func:`verify_checksums`.

Digests are remembered per process by (path, size, mtime, inode), so a model checked once is
not hashed again by the next command of the same run.

>>> write_checksum("final.bin")              # doctest: +SKIP
PosixPath('final.bin.sha256')
>>> verify_checksum("final.bin")             # doctest: +SKIP
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterable, Mapping

from lmboot.errors import LmbootError
from lmboot.io.arpa import is_kenlm_binary as sniff
from lmboot.io.corpus import atomic_write, sha256

log = logging.getLogger("lmboot")

PathLike = str | os.PathLike
SIDECAR_SUFFIX = ".sha256"
_verified: dict[tuple, str] = {}
_warned: set[str] = set()


def sidecar(path: PathLike) -> Path:
    """``MODEL.sha256`` beside ``MODEL``."""
    p = Path(path)
    return p.with_name(p.name + SIDECAR_SUFFIX)


def cached_sha256(path: PathLike) -> str:
    """sha256 of a file, remembered in this process by (path, size, mtime, inode): a model
    checked once is not hashed again by the next command of the same run."""
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _verified:
        _verified[key] = sha256(path)
    return _verified[key]


def is_kenlm_binary(path: PathLike) -> bool:
    """:func:`lmboot.io.arpa.is_kenlm_binary`, False for a file that cannot be read."""
    try:
        return sniff(path)
    except OSError:
        return False


def publish_with_checksum(tmp: PathLike, dest: PathLike) -> str:
    """Hash the finished ``tmp`` and drop ``dest``'s old sidecar (the caller then renames ``tmp`` onto
    ``dest`` and calls :func:`write_checksum`); a kill in between leaves a binary without a sidecar
    (loaded with a warning), never one with a wrong sidecar."""
    digest = sha256(tmp)
    try:
        os.unlink(sidecar(dest))
    except FileNotFoundError:
        pass
    return digest


def write_checksum(path: PathLike, digest: str | None = None) -> Path:
    """Write ``PATH.sha256`` (``sha256sum`` format) atomically; return its path."""
    p = Path(path)
    digest = digest or sha256(p)
    with atomic_write(sidecar(p)) as f:
        f.write(f"{digest}  {p.name}\n")
    return sidecar(p)


def verify_checksum(path: PathLike) -> None:
    """Check a KenLM binary against its sidecar before it is loaded.

    A mismatch is an LmbootError naming the file; a binary without a sidecar is loaded with
    one warning (built by another tool, or by an older lmboot). ARPA files are not checked.
    """
    p = Path(path)
    side = sidecar(p)
    if not side.exists():
        if is_kenlm_binary(p) and str(p) not in _warned:
            _warned.add(str(p))
            log.warning("%s: no checksum file %s; loading it unverified", p, side.name)
        return
    try:
        want = side.read_text(encoding="utf-8").split()[0].lower()
    except (OSError, UnicodeDecodeError, IndexError):
        raise LmbootError(f"unreadable checksum file {side.name}", path=p) from None
    got = cached_sha256(p)
    if got != want:
        raise LmbootError(f"checksum mismatch (sha256 {got[:12]}..., {side.name} says {want[:12]}...): "
                          "the file is corrupt or was changed; rebuild it", path=p)


def record_checksums(directory: PathLike, names: Iterable[str]) -> dict[str, str]:
    """``{name: sha256}`` of files in ``directory``, for a model's own metadata (see
    :func:`verify_checksums`)."""
    d = Path(directory)
    return {n: cached_sha256(d / n) for n in sorted(names)}


def verify_checksums(directory: PathLike, recorded: Mapping[str, str], fix: str) -> None:
    """Check the files of a model directory against the sha256 recorded when it was written.

    A file missing or changed is an LmbootError naming it; ``fix`` says what to do
    (e.g. "export the model again")."""
    d = Path(directory)
    for name, want in sorted(recorded.items()):
        f = d / name
        if not f.is_file():
            raise LmbootError(f"incomplete: {name} missing; {fix}", path=d)
        got = cached_sha256(f)
        if got != str(want).lower():
            raise LmbootError(f"checksum mismatch (sha256 {got[:12]}..., recorded {str(want)[:12]}...): "
                              f"the file is corrupt or was changed; {fix}", path=f)


__all__ = ["sidecar", "cached_sha256", "is_kenlm_binary", "publish_with_checksum", "write_checksum",
           "verify_checksum", "record_checksums", "verify_checksums", "SIDECAR_SUFFIX"]
