"""ARPA language models as text: a validating streaming reader, the word list, format sniffing.

KenLM's Python module scores models but does not list them; the static mixture
(:mod:`lmboot.lm.mixture`) reads every n-gram with :class:`ArpaReader`, the simulated
recogniser (:mod:`lmboot.evaluate.simulation`) and real decoding (:mod:`lmboot.evaluate.decode`)
need only the vocabulary (:func:`unigrams`). A KenLM binary cannot be listed: :func:`arpa_of`
finds the ARPA file beside it (or says which file is needed).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from lmboot.errors import LmbootError
from lmboot.io.corpus import check_file, iter_raw_lines

SPECIAL = ("<s>", "</s>", "<unk>")
_BINARY_MAGIC = b"mmap lm "


def is_kenlm_binary(path: str | Path) -> bool:
    """Whether ``path`` is a KenLM binary model (by its magic bytes)."""
    with open(path, "rb") as f:
        return f.read(len(_BINARY_MAGIC)) == _BINARY_MAGIC


def arpa_of(path: str | Path, who: str) -> Path:
    """The ARPA text of the LM at ``path``: ``path`` itself, or for a KenLM binary the ARPA
    file beside it with the same stem (``final.bin`` -> ``final.arpa``, as ``lmboot lm train
    --binary`` and ``lm build`` write them). KenLM cannot turn a binary back into ARPA, so a
    binary without one is a one-line error naming the file ``who`` (what needs the ARPA) wants.

    >>> arpa_of("final.bin", "pocketsphinx")                       # doctest: +SKIP
    PosixPath('final.arpa')
    """
    p = check_file(path, "language model")
    if not p.stat().st_size or not is_kenlm_binary(p):
        return p
    beside = p.with_suffix(".arpa")
    if beside.is_file() and beside != p and not is_kenlm_binary(beside):
        return beside
    raise LmbootError(f"{who} needs the ARPA text of this KenLM binary and none is beside it ({beside.name}); "
                      "KenLM cannot convert a binary back: pass the .arpa file it was built from", path=p)


def is_arpa(path: str | Path) -> bool:
    """Whether ``path`` looks like an ARPA file: its first non-blank line (of the first 4 kB)
    is ``\\data\\``."""
    with open(path, "rb") as f:
        head = f.read(4096)
    for line in head.splitlines():
        if line.strip():
            return line.strip() == b"\\data\\"
    return False


def split_fields(line: str) -> list[str]:
    r"""The fields of an ARPA line, split at ASCII spaces and tabs only: KenLM and SRILM keep
    other whitespace (a no-break space, U+200B) inside words, where ``str.split()`` would cut.

    >>> split_fields("-1.5\tsieben\u00a0uhr ist\t-0.2")
    ['-1.5', 'sieben\xa0uhr', 'ist', '-0.2']
    """
    parts = line.replace("\t", " ").split(" ")
    return [x for x in parts if x] if "" in parts else parts


def unigrams(path: str | Path, what: str = "ARPA model") -> list[str]:
    """The words of an ARPA model's 1-gram section, in file order, without ``<s>``, ``</s>``
    and ``<unk>``. Reads the file only up to the 2-grams. A file without a ``\\data\\``
    header, or a malformed 1-gram line, raises :class:`LmbootError`."""
    p = check_file(path, what)
    words, section, seen_data = [], None, False
    for lineno, line in iter_raw_lines(p, what):
        s = line.strip()
        if s == "\\data\\":
            seen_data = True
        if s.startswith("\\"):
            if s in ("\\2-grams:", "\\end\\"):
                break
            section = s
            continue
        if section == "\\1-grams:" and s:
            cols = s.split("\t")
            if len(cols) < 2:
                raise LmbootError("malformed 1-gram line", path=p, line=lineno)
            if cols[1] not in SPECIAL:
                words.append(cols[1])
    if not seen_data:
        raise LmbootError("not an ARPA file (no \\data\\ header)", path=p)
    return words


class ArpaReader:
    """Stream the entries of an ARPA file: ``for order, words, logprob, logbow in reader``.

    ``counts`` (n-grams per order, from the ``\\data\\`` header) is filled on construction.
    ``logbow`` is None when the line has no backoff column. Any deviation from the format
    (missing header, a count that does not match the header, a malformed line, no ``\\end\\``)
    raises :class:`LmbootError` naming the file and line.

    >>> r = ArpaReader("seed.arpa")               # doctest: +SKIP
    >>> r.counts, next(iter(r))                   # doctest: +SKIP
    ([389, 993, 1459], (1, ('<unk>',), -3.03, 0.0))
    """

    def __init__(self, path: str | Path):
        self.path = check_file(path, "ARPA model")
        self.counts: list[int] = []
        self._f = open(self.path, "r", encoding="utf-8", newline="\n")
        self._it = iter(self._f)
        self._lineno = 0
        try:
            self._read_header()
        except BaseException:
            self._f.close()
            raise

    def _line(self) -> str | None:
        try:
            raw = next(self._it)
        except StopIteration:
            return None
        except UnicodeDecodeError:
            raise LmbootError(f"invalid UTF-8 (somewhere after line {self._lineno}); "
                              "an ARPA model must be UTF-8 text", path=self.path) from None
        self._lineno += 1
        return raw.strip(" \t\r\n")

    def _err(self, msg: str) -> LmbootError:
        return LmbootError(msg, path=self.path, line=self._lineno)

    def _read_header(self) -> None:
        line = self._line()
        while line is not None and line != "\\data\\":
            line = self._line()  # text before \data\ is allowed (comments)
        if line is None:
            raise LmbootError("not an ARPA file (no \\data\\ header)", path=self.path)
        while True:
            line = self._line()
            if line is None:
                raise self._err("ARPA header ends without any n-gram section")
            if not line:
                if self.counts:
                    break
                continue
            m = re.fullmatch(r"ngram\s+(\d+)\s*=\s*(\d+)", line)
            if not m:
                if line.startswith("\\") and self.counts:
                    self._pending = line
                    return
                raise self._err(f"bad ARPA header line {line[:40]!r}")
            n, c = int(m.group(1)), int(m.group(2))
            if n != len(self.counts) + 1:
                raise self._err(f"ARPA header lists order {n} out of sequence")
            self.counts.append(c)
        self._pending = None

    @property
    def order(self) -> int:
        return len(self.counts)

    @property
    def lineno(self) -> int:
        """The number of the line read last (for error messages of callers)."""
        return self._lineno

    def __iter__(self) -> Iterator[tuple[int, tuple[str, ...], float, float | None]]:
        try:
            yield from self._entries()
        finally:
            self._f.close()

    def lines(self) -> Iterator[tuple[int, str]]:
        """``(order, line)`` for every n-gram line, stripped and unparsed (a second pass over a
        file :meth:`__iter__` has checked: copying lines is much faster than parsing them)."""
        try:
            yield from self._entries(parse=False)
        finally:
            self._f.close()

    def _entries(self, parse: bool = True):
        pending = self._pending
        for n in range(1, self.order + 1):
            line = pending if pending is not None else self._line()
            pending = None
            while line == "":
                line = self._line()
            if line != f"\\{n}-grams:":
                raise self._err(f"expected \\{n}-grams: here, found {str(line)[:40]!r}")
            seen = 0
            while True:
                line = self._line()
                if line is None:
                    raise self._err(f"file ends inside the {n}-gram section")
                if not line:
                    continue
                if line.startswith("\\"):
                    pending = line
                    break
                seen += 1
                if not parse:
                    yield n, line
                    continue
                parts = split_fields(line)
                if len(parts) not in (n + 1, n + 2):
                    raise self._err(f"expected a {n}-gram line 'logprob w1..w{n} [backoff]'")
                try:
                    lp = float(parts[0])
                    lb = float(parts[n + 1]) if len(parts) == n + 2 else None
                except ValueError:
                    raise self._err("probability or backoff is not a number") from None
                yield n, tuple(parts[1:n + 1]), lp, lb
            if seen != self.counts[n - 1]:
                raise self._err(f"the header announces {self.counts[n - 1]} {n}-grams, "
                                f"the section has {seen}")
        line = pending
        while line == "":
            line = self._line()
        if line != "\\end\\":
            raise self._err(f"expected \\end\\ here, found {str(line)[:40]!r}")


__all__ = ["arpa_of", "ArpaReader", "split_fields", "unigrams", "is_arpa", "is_kenlm_binary", "SPECIAL"]
