"""Beam-search translation to n-best JSONL (docs/formats.md) with fairseq2's generator.

>>> from lmboot.nmt import translate                           # doctest: +SKIP
>>> res = translate("runs/en-hi", "source.en", "nbest.jsonl", out_txt="top1.hi", beam=5, nbest=5)
>>> res.sentences, round(res.sentences_per_s, 1)               # doctest: +SKIP
(1798, 23.4)

Each output line is ``{"id": "<input line number>", "source": ..., ["ref": ...,] "hyps":
[{"text", "score", "tokens"}, ...]}``, hypotheses best first; ``score`` is the natural-log
probability of the hypothesis (sum over its subword tokens, end-of-sentence included, language
tag excluded) and ``tokens`` that token count. Empty input lines are skipped (counted in the
log); ``id`` keeps the input line number so outputs can be re-aligned.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from lmboot.errors import LmbootError
from lmboot.results import Result
from lmboot.io.corpus import atomic_write, count_lines, iter_raw_lines, read_lines
from lmboot.io.nbest import format_entry, read_nbest
from lmboot.metrics import mt_scores
from lmboot.nmt.data import Hyp

log = logging.getLogger("lmboot")


@dataclass
class TranslateResult(Result):
    """What :func:`translate` wrote and measured."""

    out_jsonl: Path
    out_txt: Path | None
    sentences: int
    seconds: float
    sentences_per_s: float
    bleu: float | None = None
    chrf: float | None = None
    bleu_signature: str | None = None
    chrf_signature: str | None = None

    def summary(self) -> str:
        return (f"{self.out_jsonl}: {self.sentences} sentences, {self.sentences_per_s:.1f} sentences/s"
                + (f"; BLEU {self.bleu} chrF {self.chrf} ({self.bleu_signature}; {self.chrf_signature})"
                   if self.bleu is not None else ""))


class Translator:
    """Batched beam search over a loaded model (fairseq2 ``BeamSearchSeq2SeqGenerator``).

    >>> from lmboot.nmt.model import load_model                 # doctest: +SKIP
    >>> model, tok, info = load_model("runs/en-hi")
    >>> Translator(model, tok, info, beam=4, nbest=2).translate(["hello"])[0][0].text
    """

    def __init__(self, model, tokenizer, info, *, device=None, beam: int = 5, nbest: int = 1,
                 max_len_a: float = 1.5, max_len_b: int = 10, len_penalty: float = 1.0,
                 no_repeat_ngram_size: int = 0,
                 batch_tokens: int = 4096, max_sentences: int = 64, max_src_len: int = 256):
        import torch

        from fairseq2.generation.beam_search import BeamSearchSeq2SeqGenerator

        if beam < 1:
            raise LmbootError(f"beam must be >= 1, not {beam}")
        if not 1 <= nbest <= beam:
            raise LmbootError(f"nbest must be between 1 and the beam size ({beam}), not {nbest}")
        self.model, self.info = model, info
        self.device = device if device is not None else next(model.parameters()).device
        self.nbest = nbest
        self.batch_tokens, self.max_sentences, self.max_src_len = batch_tokens, max_sentences, max_src_len
        self.src_enc = tokenizer.create_encoder(task="translation", lang=info.src_lang, mode="source")
        tgt_enc = tokenizer.create_encoder(task="translation", lang=info.tgt_lang, mode="target")
        self.prompt = tgt_enc.prefix_indices.to(self.device)  # [</s>, __tgt__]
        self.decoder = tokenizer.create_decoder()
        self.eos = tokenizer.vocab_info.eos_idx
        if no_repeat_ngram_size < 0:
            raise LmbootError(f"no_repeat_ngram_size must be >= 0, not {no_repeat_ngram_size}")
        # A weak translator loops ("der während der während ..."): blocking a repeated token
        # n-gram keeps loops out of the beam, so the n-best list holds real alternatives.
        procs = []
        if no_repeat_ngram_size:
            from fairseq2.generation.step_processor import NGramRepeatBlockProcessor

            procs.append(NGramRepeatBlockProcessor(no_repeat_ngram_size))
        # Scores are raw log-probabilities (normalize_scores=False): what docs/formats.md asks for.
        self.gen = BeamSearchSeq2SeqGenerator(model, tokenizer.vocab_info, beam_size=beam,
                                              max_gen_len=(max_len_a, max_len_b),
                                              normalize_scores=False, len_penalty=len_penalty,
                                              echo_prompt=True, step_processors=procs or None)
        self._torch = torch
        self.truncated = 0

    def _generate(self, seqs: list) -> list[list[Hyp]]:
        torch = self._torch
        from fairseq2.nn import BatchLayout

        lens = [len(s) for s in seqs]
        S = torch.zeros(len(seqs), max(lens), dtype=torch.int64)
        for i, s in enumerate(seqs):
            S[i, :len(s)] = s
        S = S.to(self.device)
        P = self.prompt.unsqueeze(0).expand(len(seqs), -1).contiguous()
        with torch.inference_mode():
            out = self.gen(S, BatchLayout.of(S, lens), P, BatchLayout.of(P))
        result = []
        k = len(self.prompt)
        for hyps in out.hypotheses:
            items = []
            for h in hyps:
                # echo_prompt: seq and step_scores start with the prompt [</s>, __tgt__], one score
                # per position; without it fairseq2 folds the tag's log-probability into the first
                # step's score, which the definition (and the ct2 engine) leaves out.
                ids = h.seq[k:]
                body = ids[:-1] if len(ids) and int(ids[-1]) == self.eos else ids
                score = float(h.step_scores[k:].sum())
                items.append(Hyp(text=self.decoder(body.cpu()), score=score, tokens=int(len(ids))))
            items.sort(key=lambda x: -x.score)
            result.append(items[: self.nbest])
        return result

    def translate(self, sentences: Sequence[str]) -> list[list[Hyp]]:
        """n-best hypotheses for each sentence, batched by length; input order kept."""
        enc = []
        for s in sentences:
            e = self.src_enc(s)
            if len(e) > self.max_src_len:
                self.truncated += 1
                e = self._torch.cat([e[: self.max_src_len - 1], e[-1:]])
            enc.append(e)
        order = sorted(range(len(enc)), key=lambda i: (len(enc[i]), i))
        out: list[list[Hyp] | None] = [None] * len(enc)
        k = 0
        while k < len(order):
            j = k
            width = 0
            while j < len(order) and j - k < self.max_sentences:
                w = max(width, len(enc[order[j]]))
                if j > k and w * (j - k + 1) > self.batch_tokens:
                    break
                width = w
                j += 1
            idx = order[k:j]
            for i, hyps in zip(idx, self._generate([enc[i] for i in idx])):
                out[i] = hyps
            k = j
        return out  # type: ignore[return-value]


def _chunks(it: Iterable, n: int) -> Iterator[list]:
    it = iter(it)
    while True:
        chunk = list(islice(it, n))
        if not chunk:
            return
        yield chunk


def _dist_info() -> tuple[int, int]:
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def _record(lineno: int, src: str, hyps: list[Hyp], ref: str | None) -> dict:
    rec = {"id": str(lineno), "source": src}
    if ref is not None:
        rec["ref"] = ref
    rec["hyps"] = [{"text": h.text, "score": round(h.score, 4), "tokens": h.tokens} for h in hyps]
    return rec


def translate(
    model_dir: str | os.PathLike,
    input_path: str | os.PathLike,
    out_jsonl: str | os.PathLike,
    out_txt: str | os.PathLike | None = None,
    *,
    beam: int = 5,
    nbest: int = 5,
    ref_path: str | os.PathLike | None = None,
    max_lines: int | None = None,
    checkpoint: str = "best",
    batch_tokens: int = 4096,
    max_sentences: int = 64,
    chunk: int = 2048,
    max_len_a: float = 1.5,
    max_len_b: int = 10,
    len_penalty: float = 1.0,
    no_repeat_ngram_size: int = 0,
    device: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
    engine: str = "fairseq2",
    quantization: str = "int8",
    compute_type: str = "default",
    sampling_topk: int = 1,
    sampling_temperature: float = 1.0,
    num_samples: int | None = None,
    seed: int | None = None,
    length_limit: str = "sentence",
) -> TranslateResult:
    """Translate ``input_path`` (one sentence per line) into an n-best JSONL (and top-1 text).

    Streams the input in chunks of ``chunk`` sentences, each sorted by length into batches
    of at most ``batch_tokens`` source tokens / ``max_sentences`` sentences. With
    ``ref_path`` (line-aligned references) each record gets ``ref`` and the result BLEU/chrF
    (sacrebleu). ``max_lines`` translates only the first lines. Under ``torchrun`` each rank
    translates every WORLD_SIZE-th sentence and rank 0 merges the parts in input order.

    ``engine="ct2"`` translates with CTranslate2 (:mod:`lmboot.nmt.ct2`): ``model_dir`` is an
    export, or an lmboot model exported once to ``MODEL/ct2-<quantization>``; it adds sampling
    (``sampling_topk`` != 1: ``num_samples`` samples per sentence, default ``nbest``; ``seed``);
    its length limit is per sentence (``length_limit="batch"``: the fairseq2 engine's rule).
    """
    from lmboot.nmt.model import load_model, setup_device

    rank, world = _dist_info()
    # ct2 engine (lmboot/nmt/ct2.py): a Ct2Translator (Translator's interface); None for fairseq2
    from lmboot.nmt.ct2 import engine_translator

    ct2 = engine_translator(engine, model_dir, checkpoint=checkpoint, quantization=quantization,
                            compute_type=compute_type, device=device, threads=threads, sampling_topk=sampling_topk,
                            sampling_temperature=sampling_temperature, num_samples=num_samples, seed=seed,
                            no_repeat_ngram_size=no_repeat_ngram_size, beam=beam, nbest=nbest, max_len_a=max_len_a,
                            max_len_b=max_len_b, len_penalty=len_penalty, batch_tokens=batch_tokens,
                            max_sentences=max_sentences, length_limit=length_limit)
    if ct2 is not None:
        tr, dev = ct2
    else:
        dev = setup_device(device, threads)
        model, tokenizer, info = load_model(model_dir, dev, checkpoint)
        tr = Translator(model, tokenizer, info, beam=beam, nbest=nbest, max_len_a=max_len_a, max_len_b=max_len_b,
                        len_penalty=len_penalty, no_repeat_ngram_size=no_repeat_ngram_size,
                        batch_tokens=batch_tokens, max_sentences=max_sentences)
    out_jsonl = Path(out_jsonl)
    total = count_lines(input_path) if max_lines is None else min(max_lines, count_lines(input_path))
    refs = _ref_reader(ref_path, input_path)
    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm import tqdm

    part = out_jsonl if world == 1 else out_jsonl.with_name(f".{out_jsonl.name}.rank{rank}.part")
    t0 = time.perf_counter()
    n = 0
    lines = (x for x in read_lines(input_path, "input", with_lineno=True) if max_lines is None or x[0] <= max_lines)
    mine = (x for i, x in enumerate(lines) if i % world == rank)
    with atomic_write(part) as f, tqdm(total=total, unit="sent", disable=not progress or rank != 0,
                                       desc="translate", dynamic_ncols=True) as bar:
        for batch in _chunks(mine, chunk):
            res = tr.translate([s for _, s in batch])
            for (lineno, src), hyps in zip(batch, res):
                ref = refs(lineno) if refs else None
                f.write(format_entry(_record(lineno, src, hyps, ref)))
                n += 1
            bar.update(len(batch) * world)
            bar.set_postfix_str(f"{n / max(time.perf_counter() - t0, 1e-9):.1f} sent/s")
    if world > 1:
        n = _merge_parts(out_jsonl, rank, world, dev)
    seconds = time.perf_counter() - t0
    if tr.truncated:
        log.warning("%s: %d source sentence(s) longer than %d tokens truncated", input_path, tr.truncated,
                    tr.max_src_len)
    result = TranslateResult(out_jsonl=out_jsonl, out_txt=Path(out_txt) if out_txt else None, sentences=n,
                             seconds=seconds, sentences_per_s=n / max(seconds, 1e-9))
    if rank == 0:
        recs = list(read_nbest(out_jsonl))
        if out_txt:
            with atomic_write(out_txt) as f:
                for r in recs:
                    f.write(r["hyps"][0]["text"].replace("\n", " ") + "\n")
        if refs:
            tops = [r["hyps"][0]["text"] for r in recs]
            hyp_refs = [r["ref"] for r in recs]
            m = mt_scores(tops, hyp_refs)
            result.bleu, result.chrf = m["bleu"], m["chrf"]
            result.bleu_signature, result.chrf_signature = m["bleu_signature"], m["chrf_signature"]
    return result


def _ref_reader(ref_path, input_path):
    """A function lineno -> reference line, checking the two files are line-aligned."""
    if ref_path is None:
        return None
    n_in, n_ref = count_lines(input_path), count_lines(ref_path)
    if n_in != n_ref:
        raise LmbootError(f"references are not line-aligned with the input: {input_path} has {n_in} lines, "
                          f"{ref_path} has {n_ref}")
    table = {i: t for i, t in iter_raw_lines(ref_path, "references")}
    return table.__getitem__


def _merge_parts(out_jsonl: Path, rank: int, world: int, device) -> int:
    """Rank 0 interleaves the ranks' parts back into input order (round-robin sharding)."""
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend)
    dist.barrier()
    n = 0
    if rank == 0:
        parts = [out_jsonl.with_name(f".{out_jsonl.name}.rank{r}.part") for r in range(world)]
        with contextlib.ExitStack() as stack:
            files = [stack.enter_context(open(p, encoding="utf-8")) for p in parts]
            with atomic_write(out_jsonl) as out:
                while True:
                    wrote = False
                    for fh in files:
                        line = fh.readline()
                        if line:
                            out.write(line)
                            n += 1
                            wrote = True
                    if not wrote:
                        break
        for p in parts:
            p.unlink()
    dist.barrier()
    return n
