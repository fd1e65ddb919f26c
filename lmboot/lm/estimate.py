"""Training n-gram LMs with KenLM's lmplz (modified Kneser-Ney), and KenLM binaries.

>>> from lmboot import lm
>>> res = lm.train("seed.hi", "seed.arpa", order=3, binary="seed.bin")   # doctest: +SKIP
>>> print(res.summary())                                                 # doctest: +SKIP
seed.arpa: order 3, 4000 sentences, 31911 tokens; binary seed.bin

Text is normalised first (:class:`lmboot.text.normalize.Normalizer`), as every stage that
scores text with the model normalises it.
"""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from lmboot.errors import LmbootError
from lmboot.io.corpus import atomic_path, check_file, chunked, naming_errors, read_lines
from lmboot.io.temps import temp_prefix
from lmboot.lm.tools import run_tool
from lmboot.results import Result
from lmboot.text.normalize import Normalizer

log = logging.getLogger("lmboot")
WORK_TMP = temp_prefix("lmboot-lm-")  # registered: a killed run's leftovers are cleaned


@dataclass
class LMTrainResult(Result):
    """What :func:`train` wrote (the n-gram LM; :class:`lmboot.nmt.NMTTrainResult` is the
    translator's)."""

    arpa: Path
    binary: Path | None
    order: int
    sentences: int
    tokens: int
    discount_fallback: bool
    intermediate: Path | None = None

    def summary(self) -> str:
        return (f"{self.arpa}: order {self.order}, {self.sentences} sentences, {self.tokens} tokens"
                + (", discount fallback" if self.discount_fallback else "")
                + (f"; binary {self.binary}" if self.binary else ""))


def prepare_text(text: str | Path, dest: Path, normalizer: Normalizer | None = None) -> tuple[int, int]:
    """Normalise ``text`` into ``dest`` (one sentence a line); return (sentences, tokens)."""
    norm = normalizer or Normalizer()
    n_sent = n_tok = 0
    with naming_errors(dest), open(dest, "w", encoding="utf-8", newline="\n") as f:
        for chunk in chunked(read_lines(text, "LM training text"), 2048):
            normed, counts = norm.batch(chunk, counts=True)
            kept = [s for s in normed if s]
            if kept:
                f.write("\n".join(kept) + "\n")
            n_sent += len(kept)
            n_tok += sum(counts)
    if n_sent == 0:
        raise LmbootError("no text left after normalisation", path=text)
    return n_sent, n_tok


def train(text: str | Path, arpa: str | Path, order: int = 3, binary: str | Path | None = None,
          memory: str | None = None, prune: Sequence[int] | None = None, discount_fallback: bool | None = None,
          normalizer: Normalizer | None = None, intermediate: str | Path | None = None,
          normalize_text: bool = True) -> LMTrainResult:
    """Estimate a modified Kneser-Ney ``order``-gram LM of ``text`` with lmplz.

    ``discount_fallback=None`` (default) first tries plain modified Kneser-Ney and, when
    the data is too small for its discount estimates, retries with ``--discount_fallback``
    (logged). ``prune`` are lmplz's per-order count thresholds (e.g. ``[0, 0, 1]``).
    ``intermediate`` keeps lmplz's intermediate files under that prefix, for KenLM's
    ``interpolate``. ``binary`` also writes a KenLM binary of the ARPA.
    """
    if not 1 <= order <= 6:
        raise LmbootError(f"order must be between 1 and 6 (KenLM's build), not {order}")
    if prune and len(prune) > order:
        raise LmbootError(f"--prune has {len(prune)} thresholds for an order-{order} model")
    arpa = Path(arpa)
    with tempfile.TemporaryDirectory(prefix=WORK_TMP, dir=arpa.parent if arpa.parent.exists() else None) as tmp:
        tmp = Path(tmp)
        if normalize_text:
            n_sent, n_tok = prepare_text(text, tmp / "text.txt", normalizer)
            src = tmp / "text.txt"
        else:
            src = check_file(text, "LM training text")
            n_sent = n_tok = 0
            for line in read_lines(src):
                n_sent += 1
                n_tok += len(line.split())
        base = ["-o", str(order), "-S", memory or _default_memory(src), "-T", str(tmp)]
        if prune:
            base += ["--prune", *map(str, prune)]
        used_fallback = bool(discount_fallback)
        with atomic_path(arpa) as tmp_arpa:
            args = base + ["--arpa", str(tmp_arpa)]
            if intermediate:
                args += ["--intermediate", str(intermediate)]
            try:
                _lmplz(args + (["--discount_fallback"] if used_fallback else []), src)
            except LmbootError as e:
                if discount_fallback is not None or "discount" not in str(e).lower():
                    raise
                log.info("lmplz: %s is too small for modified Kneser-Ney discounts; "
                         "retrying with --discount_fallback", text)
                used_fallback = True
                _lmplz(args + ["--discount_fallback"], src)
            if order == 1:
                _loadable_unigram(Path(tmp_arpa))
    bin_path = None
    if binary:
        bin_path = build_binary(arpa, binary)
    return LMTrainResult(arpa=arpa, binary=bin_path, order=order, sentences=n_sent, tokens=n_tok,
                       discount_fallback=used_fallback,
                       intermediate=Path(intermediate) if intermediate else None)


def _loadable_unigram(arpa: Path) -> None:
    """KenLM loads only models of order >= 2: give a unigram ARPA an empty bigram section
    (``ngram 2=0``), which leaves every probability as it is."""
    body = arpa.read_text(encoding="utf-8")
    head, sep, rest = body.partition("\n\n\\1-grams:")
    if not sep or "ngram 2=" in head:
        raise LmbootError("lmplz wrote an unexpected unigram ARPA", path=arpa)
    rest = rest.replace("\\end\\", "\\2-grams:\n\n\\end\\")
    arpa.write_text(head + "\nngram 2=0" + sep + rest, encoding="utf-8")


def _default_memory(text: Path) -> str:
    """lmplz's sort memory: plenty for the text (so no disk spill), not 20 % of RAM for a tiny file."""
    mb = max(256, 12 * text.stat().st_size // 2**20)
    return f"{mb}M" if mb < 4096 else "20%"


def _lmplz(args: list[str], text: Path) -> None:
    with open(text, "rb") as f:
        run_tool("lmplz", args, stdin=f, stdout=None)


def build_binary(arpa: str | Path, binary: str | Path) -> Path:
    """Convert an ARPA file to a KenLM binary (probing hash table), atomically."""
    from lmboot.safety import publish_with_checksum, write_checksum

    check_file(arpa, "ARPA model")
    with atomic_path(binary) as tmp:
        run_tool("build_binary", ["-s", arpa, tmp])
        digest = publish_with_checksum(tmp, binary)
    write_checksum(binary, digest)  # BINARY.sha256, verified by load()
    return Path(binary)


__all__ = ["train", "LMTrainResult", "build_binary", "prepare_text"]
