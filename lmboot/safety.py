"""Checks every command makes before it does any work: outputs writable and never an input,
numeric options in range; and the clean-up of temporary files a killed run left behind.

All problems are :class:`LmbootError` (one line, exit status 2). Nothing here writes except a
probe file that is removed at once.

>>> check_range("--dropout", 0.1, lo=0, hi=1, hi_open=True)
>>> check_range("--dropout", 1.5, lo=0, hi=1, hi_open=True)
Traceback (most recent call last):
...
lmboot.errors.LmbootError: --dropout must be a finite number in [0, 1), not 1.5
"""
from __future__ import annotations

import errno
import glob
import logging
import math
import os
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

from lmboot.errors import LmbootError

log = logging.getLogger("lmboot")

PathLike = str | os.PathLike


# --------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------
def check_range(option: str, value, lo: float | None = None, hi: float | None = None,
                lo_open: bool = False, hi_open: bool = False) -> None:
    """``value`` (None: not given, fine) must be finite and within the bounds; else one line naming ``option``."""
    if value is None or in_range(value, lo, hi, lo_open, hi_open):
        return
    kind = "an integer" if isinstance(value, int) and not isinstance(value, bool) else "a finite number"
    raise LmbootError(f"{option} must be {kind}{describe_range(lo, hi, lo_open, hi_open)}, not {value}")


def in_range(value, lo: float | None = None, hi: float | None = None,
             lo_open: bool = False, hi_open: bool = False) -> bool:
    """Whether ``value`` is a finite number (not a bool) within the bounds."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and lo is not None:
        ok = value > lo if lo_open else value >= lo
    if ok and hi is not None:
        ok = value < hi if hi_open else value <= hi
    return ok


def describe_range(lo, hi, lo_open: bool = False, hi_open: bool = False) -> str:
    """`` in [0, 1)``, `` >= 1``, `` < 5`` or ``""``: the allowed range, for error messages."""
    if lo is not None and hi is not None:
        return f" in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f" {'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f" {'<' if hi_open else '<='} {hi:g}"
    return ""


# --------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------
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
        fd, tmp = tempfile.mkstemp(prefix=".lmboot-probe-", dir=directory)
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


def os_error_line(e: OSError) -> str:
    """One line for an OSError: ``PATH: cause`` (the OS's words)."""
    # numpy's tofile raises OSError("N requested and M written") without errno: its own words
    why = e.strerror or (str(e.args[0]) if e.args and e.args[0] is not None else "") or type(e).__name__
    name = e.filename if e.filename is not None else None
    if name is not None and e.filename2 is not None:
        return f"{name} -> {e.filename2}: {why}".replace("\n", " ")
    return (f"{name}: {why}" if name is not None else why).replace("\n", " ")


# --------------------------------------------------------------------------------------
# Stale temporary files
# --------------------------------------------------------------------------------------
_TEMP_DIR_PREFIXES = (".lmboot-synth-", ".select-work-", "lmboot-lm-", "lmboot-dict-", "lmboot-objective-",
                      "interpolate-")


def _is_temp_file(name: str) -> bool:
    return name.startswith(".") and (name.endswith(".tmp") or name.endswith(".part")
                                     or name.startswith(".lmboot-probe-"))


def _is_temp_dir(name: str) -> bool:
    return (name.startswith(".") and (name.endswith(".tmp") or name.endswith(".old"))) or \
        name.startswith(_TEMP_DIR_PREFIXES)


def clean_stale_temps(directory: PathLike, recursive: bool = True) -> list[Path]:
    """Remove the temporary files and directories a killed lmboot run left in ``directory``.

    Only names lmboot's own writers make are touched (``.NAME.*.tmp`` from the atomic writers,
    ``.NAME.rankN.part``, ``lmboot-lm-*`` work directories, ...); call it on directories lmboot
    owns (a model directory, a run directory), at the start of a run. Returns what was removed.
    """
    import shutil

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
    import shutil

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


__all__ = ["check_range", "check_output_file", "check_output_dir", "refuse_overwrite", "guard",
           "os_error_line", "clean_stale_temps", "clean_stale_temps_of", "write_checksum", "verify_checksum",
           "cached_sha256", "record_checksums", "verify_checksums",
           "unknown_to_all", "warn_dev_unknown"]


# --------------------------------------------------------------------------------------
# Checksums of KenLM binaries
# --------------------------------------------------------------------------------------
SIDECAR_SUFFIX = ".sha256"
_verified: dict[tuple, str] = {}
_warned: set[str] = set()


def sidecar(path: PathLike) -> Path:
    """``MODEL.sha256`` beside ``MODEL``."""
    p = Path(path)
    return p.with_name(p.name + SIDECAR_SUFFIX)


def _sha256(path: PathLike) -> str:
    from lmboot.io.corpus import sha256

    return sha256(path)


def cached_sha256(path: PathLike) -> str:
    """sha256 of a file, remembered in this process by (path, size, mtime, inode): a model
    checked once is not hashed again by the next command of the same run."""
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _verified:
        _verified[key] = _sha256(path)
    return _verified[key]


def is_kenlm_binary(path: PathLike) -> bool:
    """:func:`lmboot.io.arpa.is_kenlm_binary`, False for a file that cannot be read."""
    from lmboot.io.arpa import is_kenlm_binary as sniff

    try:
        return sniff(path)
    except OSError:
        return False


def publish_with_checksum(tmp: PathLike, dest: PathLike) -> str:
    """Hash the finished ``tmp`` and drop ``dest``'s old sidecar (the caller then renames ``tmp`` onto
    ``dest`` and calls :func:`write_checksum`); a kill in between leaves a binary without a sidecar
    (loaded with a warning), never one with a wrong sidecar."""
    digest = _sha256(tmp)
    try:
        os.unlink(sidecar(dest))
    except FileNotFoundError:
        pass
    return digest


def write_checksum(path: PathLike, digest: str | None = None) -> Path:
    """Write ``PATH.sha256`` (``sha256sum`` format) atomically; return its path."""
    from lmboot.io.corpus import atomic_write

    p = Path(path)
    digest = digest or _sha256(p)
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


# --------------------------------------------------------------------------------------
# Numbers that would mislead
# --------------------------------------------------------------------------------------
DEV_UNKNOWN_LIMIT = 0.5


def unknown_to_all(models, sentences) -> float:
    """Fraction of the words of (normalised) ``sentences`` that no KenLM model in ``models`` knows."""
    total = unknown = 0
    for s in sentences:
        for w in s.split():
            total += 1
            if not any(w in m for m in models):
                unknown += 1
    return unknown / total if total else 0.0


def warn_dev_unknown(rate: float, dev: PathLike, what: str) -> bool:
    """One warning when most dev words are unknown to every LM: the tuned numbers then say little."""
    if rate <= DEV_UNKNOWN_LIMIT:
        return False
    log.warning("%s: %.0f%% of the dev words are unknown to every LM; %s is tuned on almost nothing "
                "(is the dev set in the LMs' language and script, normalised the same way?)",
                dev, 100 * rate, what)
    return True
