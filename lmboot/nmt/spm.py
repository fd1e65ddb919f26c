"""SentencePiece subword models for the translator.

The fairseq2 NLLB Transformer ties one embedding matrix between encoder, decoder and output
projection, so the model needs *one* vocabulary covering both languages. Two ways to build it:

- ``joint=True`` (default): one unigram model trained on both sides together;
- ``joint=False`` ("per side"): one unigram model per side (each ``vocab_size // 2``), merged
  into a single model file, so that a large side cannot crowd the other out of the vocabulary.

Either way the result is one ``spm.model`` loaded through fairseq2's NLLB tokenizer
(:func:`lmboot.nmt.model.load_tokenizer`), which adds ``<pad>`` at id 0 and one ``__lang__``
symbol per language.

>>> from lmboot.nmt.spm import train_spm                     # doctest: +SKIP
>>> res = train_spm(["train.en"], ["train.hi"], "model/spm.model", vocab_size=8000)
>>> res.vocab_size, res.character_coverage                    # doctest: +SKIP
(8000, 1.0)
"""
from __future__ import annotations

import io
import logging
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from lmboot.io.corpus import atomic_path, read_lines
from lmboot.errors import LmbootError
from lmboot.results import Result

log = logging.getLogger("lmboot")

# Scripts with thousands of characters (Han, Kana, Hangul) need < 1.0 coverage; alphabets and
# abugidas (Latin, Cyrillic, Devanagari, Arabic, ...) keep every character.
_LARGE_ALPHABET = 4000


@dataclass
class SpmResult(Result):
    """What :func:`train_spm` built."""

    model: Path
    vocab_size: int
    character_coverage: float
    joint: bool
    sentences: int

    def summary(self) -> str:
        return (f"{self.model}: {self.vocab_size} pieces ({'joint' if self.joint else 'per side'}, "
                f"character coverage {self.character_coverage}, {self.sentences} sentences)")


def _sample(paths: Sequence[Path], max_sentences: int, seed: int) -> list[str]:
    """All non-empty lines of ``paths``, or a seeded uniform sample of ``max_sentences``."""
    lines: list[str] = []
    for p in paths:
        lines.extend(read_lines(p, "SentencePiece training text"))
    if len(lines) > max_sentences:
        lines = random.Random(seed).sample(lines, max_sentences)
    return lines


def auto_character_coverage(lines: Iterable[str]) -> float:
    """1.0 for alphabetic scripts, 0.9995 when the text has thousands of distinct characters."""
    chars: set[str] = set()
    for line in lines:
        chars.update(line)
    return 0.9995 if len(chars) > _LARGE_ALPHABET else 1.0


def _train_one(lines: list[str], vocab_size: int, coverage: float, seed: int, threads: int) -> bytes:
    import sentencepiece as spm

    if not lines:
        raise LmbootError("no training text for SentencePiece")
    spm.set_random_generator_seed(seed)
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=proto,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=coverage,
        # Defaults unk=0, bos=1, eos=2 and no pad: fairseq2's NLLB tokenizer inserts <pad> at 0.
        hard_vocab_limit=False,  # tiny corpora cannot always fill the vocabulary
        num_threads=threads,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        max_sentence_length=8192,
        minloglevel=2,
    )
    return proto.getvalue()


def _merge(first: bytes, second: bytes) -> bytes:
    """Append the pieces of ``second`` that ``first`` lacks (unigram models only)."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    a, b = pb.ModelProto(), pb.ModelProto()
    a.ParseFromString(first)
    b.ParseFromString(second)
    have = {p.piece for p in a.pieces}
    for p in b.pieces:
        if p.type == pb.ModelProto.SentencePiece.NORMAL and p.piece not in have:
            a.pieces.append(p)
            have.add(p.piece)
    a.trainer_spec.vocab_size = len(a.pieces)
    return a.SerializeToString()


def train_spm(
    src_files: Sequence[str | os.PathLike],
    tgt_files: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    vocab_size: int = 8000,
    joint: bool = True,
    character_coverage: float | None = None,
    max_sentences: int = 2_000_000,
    seed: int = 1,
    threads: int = 2,
) -> SpmResult:
    """Train a SentencePiece unigram model on the two sides of a bitext; write it to ``out``.

    ``character_coverage=None`` chooses per side from the text (1.0 for alphabets, 0.9995 for
    scripts with thousands of characters). At most ``max_sentences`` lines per side are used
    (a seeded sample). Deterministic for a given seed. The file is written atomically.

    >>> train_spm(["a.en"], ["a.hi"], "m/spm.model", vocab_size=4000)   # doctest: +SKIP
    """
    if vocab_size < 16:
        raise LmbootError(f"vocabulary size must be at least 16, not {vocab_size}")
    src = _sample([Path(p) for p in src_files], max_sentences, seed)
    tgt = _sample([Path(p) for p in tgt_files], max_sentences, seed + 1)
    if joint:
        lines = src + tgt
        cov = character_coverage if character_coverage is not None else auto_character_coverage(lines)
        blob = _train_one(lines, vocab_size, cov, seed, threads)
    else:
        cov_s = character_coverage if character_coverage is not None else auto_character_coverage(src)
        cov_t = character_coverage if character_coverage is not None else auto_character_coverage(tgt)
        cov = min(cov_s, cov_t)
        blob = _merge(_train_one(src, vocab_size // 2, cov_s, seed, threads),
                      _train_one(tgt, vocab_size // 2, cov_t, seed, threads))
    out = Path(out)
    with atomic_path(out) as tmp:
        tmp.write_bytes(blob)
    import sentencepiece as spm

    size = spm.SentencePieceProcessor(model_file=str(out)).get_piece_size()
    log.info("SentencePiece: %s, %d pieces (%s, coverage %s)", out, size, "joint" if joint else "per side", cov)
    return SpmResult(model=out, vocab_size=size, character_coverage=cov, joint=joint, sentences=len(src) + len(tgt))
