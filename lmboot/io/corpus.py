"""Reading and writing corpora and results: lines, bitext, atomic writes, JSON, sha256.

The formats are those of ``docs/formats.md``. Readers stream (constant memory), validate as
they go and raise :class:`LmbootError` naming the file and line of the problem. Writers go
through :func:`atomic_write`, so a failure or an interrupt never leaves a half-written output
behind.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import IO, Iterable, Iterator

from lmboot.errors import LmbootError

log = logging.getLogger("lmboot")

PathLike = str | os.PathLike


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------
def check_file(path: PathLike, what: str = "file") -> Path:
    """Return ``path`` as a Path if it is a readable, non-empty regular file, else raise."""
    p = Path(path)
    if not p.exists():
        raise LmbootError(f"{what} not found", path=p)
    if p.is_dir():
        raise LmbootError(f"{what} is a directory, expected a file", path=p)
    if p.stat().st_size == 0:
        raise LmbootError(f"{what} is empty", path=p)
    return p


def iter_raw_lines(path: PathLike, what: str = "file") -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for every line (1-based, without the line end), empty ones too."""
    p = check_file(path, what)
    lineno = 0
    try:
        # Text mode decodes in C, chunk by chunk; only \n ends a line, as in the binary rescan.
        with open(p, encoding="utf-8", newline="\n") as f:
            for lineno, text in enumerate(f, 1):
                if lineno == 1 and text.startswith("\ufeff"):
                    text = text[1:]
                yield lineno, text.rstrip("\r\n")
    except UnicodeDecodeError:
        _raise_bad_utf8(p)


def _raise_bad_utf8(p: Path) -> None:
    """Find the first undecodable line of ``p`` and name it."""
    with open(p, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise LmbootError(f"invalid UTF-8 at byte {e.start} of the line", path=p, line=lineno) from None
    raise LmbootError("invalid UTF-8", path=p)


class SkipCounter:
    """Counts skipped empty lines and logs the count once, when the stream ends."""

    def __init__(self, label: str):
        self.label, self.n = label, 0

    def report(self) -> None:
        if self.n:
            log.info("%s: skipped %d empty line(s)", self.label, self.n)


def read_lines(path: PathLike, what: str = "file", with_lineno: bool = False) -> Iterator:
    """Stream the non-empty lines of a monolingual UTF-8 corpus.

    Empty (or whitespace-only) lines are skipped with a count in the log. A missing or empty
    file, or a line that is not UTF-8, raises :class:`LmbootError` naming the file and line.
    With ``with_lineno=True`` yields ``(line_number, text)``.
    """
    skipped = SkipCounter(str(path))
    for lineno, text in iter_raw_lines(path, what):
        if not text.strip():
            skipped.n += 1
            continue
        yield (lineno, text) if with_lineno else text
    skipped.report()


def chunked(items: Iterable, size: int) -> Iterator[list]:
    """Lists of ``size`` consecutive items (the last may be shorter), for batch normalisation."""
    chunk = []
    for x in items:
        chunk.append(x)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def count_lines(path: PathLike) -> int:
    """Number of lines of a file (a final line without ``\\n`` counts)."""
    n, last = 0, b"\n"
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


def read_bitext(src: PathLike, tgt: PathLike | None = None, with_lineno: bool = False) -> Iterator:
    """Stream ``(source, target)`` pairs of a bitext.

    Either two line-aligned files (``src``, ``tgt``) or, with ``tgt=None``, one TSV whose
    every line has exactly two tab-separated columns. A pair with an empty side is skipped
    (counted in the log). Sides with different line counts raise an error naming both files
    and both counts.
    """
    skipped = SkipCounter(f"{src}" + (f" + {tgt}" if tgt else ""))
    if tgt is None:
        for lineno, text in iter_raw_lines(src, "bitext"):
            if not text.strip():
                skipped.n += 1
                continue
            cols = text.split("\t")
            if len(cols) != 2:
                raise LmbootError(f"expected 2 tab-separated columns (source<TAB>target), found {len(cols)}",
                                  path=src, line=lineno)
            s, t = cols
            if not s.strip() or not t.strip():
                skipped.n += 1
                continue
            yield (lineno, s, t) if with_lineno else (s, t)
        skipped.report()
        return
    a, b = iter_raw_lines(src, "source side"), iter_raw_lines(tgt, "target side")
    lineno = 0
    while True:
        x, y = next(a, None), next(b, None)
        if x is None or y is None:
            if x is None and y is None:
                break
            # Finish counting both sides for an error message that names both counts.
            n_src = lineno + (x is not None) + sum(1 for _ in a)
            n_tgt = lineno + (y is not None) + sum(1 for _ in b)
            raise LmbootError(f"bitext sides differ in length: {src} has {n_src} lines, {tgt} has {n_tgt}")
        lineno = x[0]
        s, t = x[1], y[1]
        if not s.strip() or not t.strip():
            skipped.n += 1
            continue
        yield (lineno, s, t) if with_lineno else (s, t)
    skipped.report()


def check_bitext(src: PathLike, tgt: PathLike | None = None) -> int:
    """Validate a whole bitext up front (UTF-8, columns, equal lengths); return the pair count."""
    return sum(1 for _ in read_bitext(src, tgt))


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------
@contextlib.contextmanager
def naming_errors(path: PathLike) -> Iterator[None]:
    """An OSError raised inside without a file name (a write refused midway: ``No space left on
    device``, ``File too large``) names ``path``, so the user learns which disk is full.

    >>> with naming_errors("out.txt"):           # doctest: +SKIP
    ...     f.write(text)                         # OSError: [Errno 28] ...: 'out.txt'
    """
    try:
        yield
    except OSError as e:
        if e.filename is None:
            e.filename = str(path)
        raise


@contextlib.contextmanager
def atomic_write(path: PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it onto ``path`` only on success.

    On an exception (or Ctrl-C) the temporary file is removed and ``path`` is untouched.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with naming_errors(p):  # a write refused midway (full disk): name the output, not nothing
            if "b" in mode:
                f = os.fdopen(fd, mode)
            else:
                f = os.fdopen(fd, mode, encoding="utf-8", newline="\n")
            with f:
                yield f
            _publish(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for an external tool to write; rename on success."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        with naming_errors(p):  # e.g. shutil.copyfile onto a full disk names no file itself
            yield Path(tmp)
            _publish(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def _publish(tmp: str, dest: Path) -> None:
    """Give the finished temporary file normal permissions (mkstemp makes it 0600), then rename."""
    if os.path.isfile(tmp):
        os.chmod(tmp, 0o666 & ~_UMASK)
    os.replace(tmp, dest)


def write_lines(path: PathLike, lines: Iterable[str]) -> int:
    """Write one sentence per line, atomically; return the number written."""
    n = 0
    with atomic_write(path) as f:
        for line in lines:
            f.write(line.replace("\n", " ") + "\n")
            n += 1
    return n


def write_bitext(pairs: Iterable[tuple[str, str]], src: PathLike, tgt: PathLike | None = None) -> int:
    """Write pairs as two aligned files, or as one TSV when ``tgt`` is None. Atomic."""
    n = 0
    if tgt is None:
        with atomic_write(src) as f:
            for s, t in pairs:
                f.write(f"{_one_line(s)}\t{_one_line(t)}\n")
                n += 1
        return n
    with atomic_write(src) as fs, atomic_write(tgt) as ft:
        for s, t in pairs:
            fs.write(_one_line(s) + "\n")
            ft.write(_one_line(t) + "\n")
            n += 1
    return n


def write_json(path: PathLike, obj) -> None:
    """Write ``obj`` as indented UTF-8 JSON, atomically."""
    with atomic_write(path) as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def read_json_in(directory: PathLike, name: str, where: str, kind: str, invalid: str):
    """The JSON file ``directory/name`` that makes ``directory`` ``kind`` (a model directory's
    metadata): a missing directory (``where not found``), a missing file (``not kind (no
    name)``) or a file that is not JSON (``invalid: why``) is one line naming the path.

    >>> read_json_in("runs/en-hi", "config.json", "model directory", "an lmboot NMT model directory",
    ...              "invalid model config")                                       # doctest: +SKIP
    """
    d = Path(directory)
    p = d / name
    if not d.is_dir():
        raise LmbootError(f"{where} not found", path=d)
    if not p.is_file():
        raise LmbootError(f"not {kind} (no {name})", path=d)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise LmbootError(f"{invalid}: {e}", path=p) from None


def sha256(path: PathLike) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _one_line(text: str) -> str:
    return text.replace("\t", " ").replace("\n", " ")
