"""Translation of a text file to n-best JSONL (docs/formats.md) with any engine
(:mod:`lmboot.nmt.engines`: fairseq2, CTranslate2).

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
from dataclasses import dataclass, fields, replace
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

from lmboot.errors import LmbootError
from lmboot.results import Result
from lmboot.io.corpus import atomic_write, count_lines, iter_raw_lines, read_lines
from lmboot.io.nbest import format_entry, read_nbest
from lmboot.metrics import mt_scores
from lmboot.nmt.data import Hyp
from lmboot.nmt.engines import SearchOptions, Translator, open_translator

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


#: translate()'s search settings when not given: 5 hypotheses from a beam of 5.
DEFAULT_SEARCH = SearchOptions(beam=5, nbest=5)
_SEARCH_FIELDS = frozenset(f.name for f in fields(SearchOptions))


def translate(model_dir: str | os.PathLike, input_path: str | os.PathLike, out_jsonl: str | os.PathLike,
              out_txt: str | os.PathLike | None = None, *, engine: str = "fairseq2",
              ref_path: str | os.PathLike | None = None, max_lines: int | None = None, checkpoint: str = "best",
              chunk: int = 2048, device: str | None = None, threads: int | None = None,
              progress: bool | None = None, search: SearchOptions | None = None, **options) -> TranslateResult:
    """Translate ``input_path`` (one sentence per line) into an n-best JSONL (and top-1 text).

    ``options`` are the search settings every engine shares (the fields of
    :class:`~lmboot.nmt.engines.SearchOptions`: ``beam``, ``nbest``, ``max_len_a``, ...; they
    override ``search``, default :data:`DEFAULT_SEARCH`) and the ``engine``'s own options
    (``engine="ct2"``: :class:`~lmboot.nmt.engines.ct2_engine.Ct2Options`, e.g. ``quantization``,
    ``sampling_topk``, ``seed``; an option only another engine has is refused unless left at its
    default). Engines: :data:`lmboot.nmt.engines.ENGINES`.

    Streams the input in chunks of ``chunk`` sentences; the engine batches each by length
    (``batch_tokens`` source tokens / ``max_sentences`` sentences at most). With ``ref_path``
    (line-aligned references) each record gets ``ref`` and the result BLEU/chrF (sacrebleu).
    ``max_lines`` translates only the first lines. Under ``torchrun`` each rank translates every
    WORLD_SIZE-th sentence and rank 0 merges the parts in input order.

    ``engine="ct2"`` translates with CTranslate2: ``model_dir`` is an export, or an lmboot model
    exported once to ``MODEL/ct2-<quantization>``; it adds sampling (``sampling_topk`` != 1:
    ``num_samples`` samples per sentence, default ``nbest``; ``seed``); its length limit is per
    sentence (``length_limit="batch"``: the fairseq2 engine's rule).
    """
    rank, world = _dist_info()
    search = replace(search or DEFAULT_SEARCH, **{k: v for k, v in options.items() if k in _SEARCH_FIELDS})
    tr = open_translator(engine, model_dir, search, checkpoint=checkpoint, device=device, threads=threads,
                         **{k: v for k, v in options.items() if k not in _SEARCH_FIELDS})
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
        n = _merge_parts(out_jsonl, rank, world, tr.device_type)
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


def _merge_parts(out_jsonl: Path, rank: int, world: int, device_type: str) -> int:
    """Rank 0 interleaves the ranks' parts back into input order (round-robin sharding)."""
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
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


__all__ = ["translate", "TranslateResult", "Translator", "DEFAULT_SEARCH"]
