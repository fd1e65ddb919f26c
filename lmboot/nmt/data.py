"""The translator's data: bitext pairs in, hypotheses out (:class:`Hyp`, what both engines
return), and fairseq2 data pipelines for training and validation (token-based batching by length)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from lmboot.errors import LmbootError
from lmboot.io.corpus import read_bitext


@dataclass
class Hyp:
    """One translation hypothesis (an n-best list item of ``docs/formats.md``)."""

    text: str
    score: float  # natural-log sequence probability
    tokens: int


def read_pairs(src: str | os.PathLike, tgt: str | os.PathLike | None, what: str = "bitext") -> list[tuple[str, str]]:
    """All pairs of a bitext (two files or a TSV), validated; empty pairs skipped."""
    pairs = list(read_bitext(src, tgt))
    if not pairs:
        raise LmbootError(f"{what} has no usable sentence pairs", path=src)
    return pairs


def _encoders(tokenizer, src_lang: str, tgt_lang: str):
    src_enc = tokenizer.create_encoder(task="translation", lang=src_lang, mode="source")
    tgt_enc = tokenizer.create_encoder(task="translation", lang=tgt_lang, mode="target")
    return src_enc, tgt_enc


def build_train_pipeline(pairs: Sequence[tuple[str, str]], tokenizer, src_lang: str, tgt_lang: str, *,
                         batch_tokens: int, max_len: int, seed: int, rank: int = 0, world_size: int = 1):
    """Endless, shuffled stream of collated batches of at most ``batch_tokens`` tokens.

    fairseq2 pieces: ``read_sequence`` -> ``shard`` -> ``shuffle`` (seeded, whole corpus) ->
    SentencePiece encoders -> ``bucket_by_length`` (``create_bucket_sizes``; pairs longer than
    ``max_len`` tokens dropped) -> ``collate`` (pad 0) -> ``repeat``.
    """
    from fairseq2.data.data_pipeline import create_bucket_sizes, read_sequence

    src_enc, tgt_enc = _encoders(tokenizer, src_lang, tgt_lang)
    examples = [{"src": s, "tgt": t} for s, t in pairs]
    builder = read_sequence(examples)
    if world_size > 1:
        builder = builder.shard(rank, world_size, allow_uneven=True)
    max_len = min(max_len, batch_tokens)
    sizes = create_bucket_sizes(max_num_elements=batch_tokens, max_seq_len=max_len)
    builder = builder.shuffle(0, seed=seed)
    builder = builder.map(src_enc, selector="src")
    builder = builder.map(tgt_enc, selector="tgt")
    builder = builder.bucket_by_length(sizes, selector="src,tgt", skip_above_max_examples=True, drop_remainder=False)
    builder = builder.collate(pad_value=0)
    builder = builder.repeat()
    return builder.and_return()


def to_seq2seq_batch(example: dict[str, Any], device):
    from fairseq2.datasets import Seq2SeqBatch

    s, t = example["src"], example["tgt"]
    batch = Seq2SeqBatch(s["seqs"], list(map(int, s["seq_lens"])), t["seqs"], list(map(int, t["seq_lens"])))
    batch.to(device)
    return batch


def iter_eval_batches(pairs: Sequence[tuple[str, str]], tokenizer, src_lang: str, tgt_lang: str,
                      device, batch_size: int = 32, max_len: int = 256) -> Iterator:
    """Fixed-order batches of a dev bitext (no shuffling), for validation loss."""
    import torch

    from fairseq2.datasets import Seq2SeqBatch

    src_enc, tgt_enc = _encoders(tokenizer, src_lang, tgt_lang)
    enc = [(src_enc(s)[:max_len], tgt_enc(t)[:max_len]) for s, t in pairs]
    order = sorted(range(len(enc)), key=lambda i: (len(enc[i][1]), i))
    for k in range(0, len(order), batch_size):
        items = [enc[i] for i in order[k:k + batch_size]]
        sl = [len(x) for x, _ in items]
        tl = [len(y) for _, y in items]
        S = torch.zeros(len(items), max(sl), dtype=torch.int64)
        T = torch.zeros(len(items), max(tl), dtype=torch.int64)
        for j, (x, y) in enumerate(items):
            S[j, :len(x)] = x
            T[j, :len(y)] = y
        b = Seq2SeqBatch(S, sl, T, tl)
        b.to(device)
        yield b
