"""The CTranslate2 engine: translate with an export (:mod:`lmboot.nmt.ct2_export`), no torch, no fairseq2.

:class:`Ct2Translator` needs only the export directory. It encodes exactly as fairseq2's NLLB
tokenizer (source ``[__src__ … </s>]``, decoder start ``</s>`` then the forced ``__tgt__``) and
reports the score of docs/formats.md:

    score = sum of the natural-log probabilities of the target subword tokens, end-of-sentence
    included, language tag excluded; tokens = that token count.

For a beam hypothesis that ended with ``</s>`` that is CTranslate2's ``return_scores`` with
``length_penalty=0`` (it leaves the forced prefix out). Hypotheses cut by the length limit
(which get fairseq2's forced ``</s>``), samples (their scores are not log-probabilities) and
length-normalised searches are rescored with ``Translator.score_batch(..., offset=1)``:
teacher-forced log-probabilities of ``[__tgt__] + hypothesis + </s>``, the tag's left out.
(The fairseq2 engine's scores also count log P(``__tgt__``): see docs/nmt.md.)

>>> tr = Ct2Translator("runs/en-hi.ct2", beam=5, nbest=5, threads=2)   # doctest: +SKIP
>>> tr.translate(["hello"])[0][0]                                     # doctest: +SKIP
Hyp(text='नमस्ते', score=-0.41, tokens=3)
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Sequence

from lmboot.errors import LmbootError
from lmboot.nmt.ct2_export import check_quantization, resolve
from lmboot.nmt.ct2_check import EOS, lang_token, load_ctranslate2, open_tokens, read_meta, verify_export
from lmboot.nmt.data import Hyp
from lmboot.nmt.engines.base import SearchOptions, Translator, default_threads, search_options

LENGTH_LIMITS = ("sentence", "batch")


@dataclass(frozen=True)
class Ct2Options:
    """The ct2 engine's own options.

    ``quantization``: the export made of an lmboot model directory (``MODEL/ct2-<quantization>``;
    an export directory is used as it is); ``compute_type`` as CTranslate2's (``default`` keeps the
    exported type); ``sampling_topk`` != 1 samples (0: the whole vocabulary) ``num_samples``
    (default ``nbest``) hypotheses at ``sampling_temperature``, reproducibly with ``seed``;
    ``length_limit``: ``"sentence"`` (a sentence's output does not depend on its batch) or
    ``"batch"`` (the fairseq2 engine's rule).
    """

    quantization: str = "int8"
    compute_type: str = "default"
    sampling_topk: int = 1
    sampling_temperature: float = 1.0
    num_samples: int | None = None
    seed: int | None = None
    length_limit: str = "sentence"

    def check(self) -> None:
        check_quantization(self.quantization)
        if self.sampling_topk < 0:
            raise LmbootError(f"sampling_topk must be >= 0 (0: whole vocabulary), not {self.sampling_topk}")
        if self.sampling_temperature <= 0:
            raise LmbootError(f"sampling_temperature must be > 0, not {self.sampling_temperature}")
        if self.length_limit not in LENGTH_LIMITS:
            raise LmbootError(f"length_limit must be 'sentence' or 'batch', not {self.length_limit!r}")


def parse_device(device: str | None) -> tuple[str, int]:
    """``(type, index)`` of ``cpu``, ``cuda`` or ``cuda:N`` (None: CUDA when CTranslate2 sees a GPU;
    ``cuda`` alone: the local rank's GPU under torchrun)."""
    if device is None:
        device = "cuda" if load_ctranslate2().get_cuda_device_count() > 0 else "cpu"
    kind, _, idx = str(device).partition(":")
    if kind not in ("cpu", "cuda"):
        raise LmbootError(f"unknown device {device!r} for the ct2 engine (cpu, cuda, cuda:N)")
    if kind == "cuda" and not idx:
        idx = os.environ.get("LOCAL_RANK", "0")
    return kind, int(idx or 0)


class Ct2Translator(Translator):
    """Beam search (or sampling) with CTranslate2 over an exported model.

    >>> tr = Ct2Translator("runs/en-hi.ct2", beam=5, nbest=5, threads=2)   # doctest: +SKIP
    >>> tr.translate(["hello"])[0][0]                                     # doctest: +SKIP
    Hyp(text='नमस्ते', score=-0.41, tokens=3)

    Search settings as :class:`~lmboot.nmt.engines.base.SearchOptions` and the engine's own
    as :class:`Ct2Options`, given as ``search=``/``options=`` or by keyword (``beam=4, seed=7``):

    - beam search: ``beam``, ``nbest`` (≤ beam) hypotheses best first; the generated length
      (end-of-sentence included, language tag excluded) is at most
      ``int(max_len_a * source_len + max_len_b)``, ``source_len`` counting the source's language
      tag and end-of-sentence, so a sentence's output does not depend on the other sentences
      (``length_limit="batch"``: ``source_len`` of the longest source in the batch, batches as
      the fairseq2 engine makes them: fairseq2's generator works that way); ranking by raw
      log-probability like the fairseq2 engine (``normalize_scores=True``: by log-probability /
      length^``len_penalty``);
      ``no_repeat_ngram_size`` > 0 forbids repeated n-grams;
    - sampling (``sampling_topk`` != 1; 0 = the whole vocabulary): ``num_samples`` (default
      ``nbest``) independent samples per sentence from the ``sampling_topk`` most likely tokens
      at ``sampling_temperature``, sorted best first; the same ``seed``, input and settings
      (``threads`` included) give the same samples;
    - ``compute_type`` as CTranslate2's (``default`` keeps the exported type), ``device``
      ``cpu``/``cuda``;
    - ``threads`` CPU threads in all. On CPU they run as ``inter_threads`` single-threaded
      replicas (default: one per thread) working on different batches at once, not as
      intra-op threads of one: on the 2-core development machine, shared with other jobs,
      CTranslate2 int8 with 2 intra-op threads ran 10x slower than 2 replicas (OpenMP
      synchronisation per decoding step). ``inter_threads=1`` gives the intra-op layout.

    ``score`` is always the model's natural-log probability of the hypothesis (see the module doc).
    """

    name = "ct2"
    Options = Ct2Options

    def __init__(self, ct2_dir: str | os.PathLike, *, device: str = "cpu", device_index: int = 0,
                 threads: int | None = None, inter_threads: int | None = None, normalize_scores: bool = False,
                 src_lang: str | None = None, tgt_lang: str | None = None, search: SearchOptions | None = None,
                 options: Ct2Options | None = None, **overrides):
        own = {f.name for f in fields(Ct2Options)}
        options = replace(options or Ct2Options(), **{k: v for k, v in overrides.items() if k in own})
        options.check()
        super().__init__(search_options(search, {k: v for k, v in overrides.items() if k not in own}),
                         sampling=options.sampling_topk != 1)
        ct2 = load_ctranslate2()
        self.dir = Path(ct2_dir)
        self.meta = read_meta(self.dir)
        verify_export(self.dir, self.meta)  # before anything is loaded: never translate with a changed model
        self.options = options
        self.sampling = options.sampling_topk != 1
        self.length_limit = options.length_limit
        self.num_samples = self.nbest if options.num_samples is None else options.num_samples
        if self.sampling and self.num_samples < 1:
            raise LmbootError(f"num_samples must be >= 1, not {self.num_samples}")
        self.src_lang = src_lang or self.meta["src_lang"]
        self.tgt_lang = tgt_lang or self.meta["tgt_lang"]
        for lang in (self.src_lang, self.tgt_lang):
            if lang not in self.meta["langs"]:
                raise LmbootError(f"the model has no language {lang!r} (has {', '.join(self.meta['langs'])})",
                                  path=self.dir)
        self.vocab, self.sp = open_tokens(self.dir, self.meta)
        self.index = {t: i for i, t in enumerate(self.vocab)}
        self.n_pieces = self.sp.get_piece_size()
        self.src_tag, self.tgt_tag = lang_token(self.src_lang), lang_token(self.tgt_lang)
        self.normalize_scores = normalize_scores
        self.sampling_topk, self.sampling_temperature = options.sampling_topk, options.sampling_temperature
        self.device_type = device
        seed, compute_type = options.seed, options.compute_type
        threads = default_threads(threads)
        if inter_threads is None:  # CPU: one single-threaded replica per thread (see the class doc)
            inter_threads = threads if device == "cpu" else 1
        if inter_threads < 1 or threads < 1:
            raise LmbootError(f"threads must be >= 1, not {threads} (inter_threads {inter_threads})")
        intra = max(1, threads // inter_threads) if device == "cpu" else threads
        self.seed = seed
        kw = dict(device=device, device_index=device_index, compute_type=compute_type, intra_threads=intra)
        try:
            if not self.sampling:
                # Beam search is deterministic whichever replica runs a batch.
                self.workers = [ct2.Translator(str(self.dir), inter_threads=inter_threads, **kw)]
            else:
                # A replica's thread seeds its generator from the global seed when it first
                # samples. One translator per replica, each seeded in turn (then made to sample),
                # and batches dealt round-robin: the same seed gives the same samples.
                import random

                base = seed if seed is not None else random.SystemRandom().randrange(2**31)
                self.workers = []
                for k in range(inter_threads):
                    ct2.set_random_seed((base + 7919 * k) % 2**32)
                    w = ct2.Translator(str(self.dir), inter_threads=1, **kw)
                    w.translate_batch([[self.src_tag, EOS]], beam_size=1, sampling_topk=2, max_decoding_length=1)
                    self.workers.append(w)
        except (RuntimeError, ValueError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise LmbootError(f"CTranslate2 cannot load the model ({first})", path=self.dir) from None
        self.tr = self.workers[0]
        self.score_tokens = max(256, min(self.batch_tokens, (1 << 25) // (4 * len(self.vocab))))
        self.max_positions = int(self.meta.get("model", {}).get("max_seq_len", 1024))
        self.max_src_len = min(self.max_src_len, self.max_positions)

    @classmethod
    def open(cls, model: str | os.PathLike, search: SearchOptions, *, checkpoint: str = "best",
             device: str | None = None, threads: int | None = None,
             options: Ct2Options | None = None) -> "Ct2Translator":
        """A translator over ``model``: an export directory, or an lmboot model directory whose
        cached export (``MODEL/ct2-<quantization>``) is made or reused."""
        options = options or Ct2Options()
        options.check()  # before the export cache's lock file is made in the model directory
        kind, index = parse_device(device)
        path = resolve(model, options.quantization, checkpoint)
        return cls(path, device=kind, device_index=index, threads=threads, search=search, options=options)

    # -- tokens ------------------------------------------------------------------------
    def encode(self, sentences: Sequence[str]) -> list[list[str]]:
        """Source tokens exactly as fairseq2's NLLB source encoder: ``[__src__ pieces… </s>]``
        (a piece's fairseq2 id is its SentencePiece id + 1: ``<pad>`` comes first)."""
        out = []
        for ids in self.sp.encode(list(sentences), out_type=int):
            toks = [self.src_tag] + [self.vocab[i + 1] for i in ids] + [EOS]
            if len(toks) > self.max_src_len:
                self.truncated += 1
                toks = toks[: self.max_src_len - 1] + [EOS]
            out.append(toks)
        return out

    def decode(self, tokens: Sequence[str]) -> str:
        """Text of target tokens (the tag and end-of-sentence already removed)."""
        ids = []
        for t in tokens:
            i = self.index.get(t, 1) - 1
            if 0 <= i < self.n_pieces:
                ids.append(i)
        return self.sp.decode(ids)

    # -- search ------------------------------------------------------------------------
    def max_gen_len(self, src_len: int) -> int:
        """Most target tokens (end-of-sentence included, tag excluded) for a source of
        ``src_len`` tokens (its tag and end-of-sentence included), as fairseq2 computes it."""
        return int(self.max_len_a * src_len + self.max_len_b)

    def _batches(self, enc: list[list[str]]) -> list[list[int]]:
        """Sentence indices sorted by length, grouped into batches of at most ``batch_tokens``
        source tokens and ``max_sentences`` sentences. CTranslate2 takes one length limit per
        call: with ``length_limit="sentence"`` a batch holds sentences of one limit; with
        ``"batch"`` the batches are exactly those of the fairseq2 engine."""
        order = sorted(range(len(enc)), key=lambda i: (len(enc[i]), i))
        groups: list[list[int]] = []
        for i in order:
            n = len(enc[i])
            g = groups[-1] if groups else None
            if (g is None or len(g) >= self.max_sentences or (len(g) + 1) * n > self.batch_tokens
                    or (self.length_limit == "sentence" and self.max_gen_len(len(enc[g[0]])) != self.max_gen_len(n))):
                groups.append([i])
            else:
                g.append(i)
        return groups

    def _options(self, src: list[list[str]]) -> dict[str, Any]:
        # as fairseq2, within the model's positions: prompt [</s> __tgt__] + max_gen <= max_seq_len
        max_gen = min(self.max_gen_len(max(len(x) for x in src)), self.max_positions - 2)
        if max_gen < 1:
            raise LmbootError(f"max_len_a * source length + max_len_b must be >= 1 (got {max_gen})")
        # CTranslate2 counts the forced tag in max_decoding_length: max_gen allows max_gen - 1
        # tokens, then a hypothesis cut there gets fairseq2's forced end-of-sentence (rescored).
        # fairseq2 also forbids <pad> (its log-probability set to -inf after the softmax); CTranslate2's
        # suppress_sequences would renormalise the distribution instead, shifting every score by
        # log(1 - p(<pad>)), so <pad> is left allowed: a trained model gives it next to no mass.
        opts = dict(target_prefix=[[self.tgt_tag]] * len(src), max_decoding_length=max_gen, max_input_length=0,
                    no_repeat_ngram_size=self.no_repeat_ngram_size, return_scores=True, return_end_token=True)
        if self.sampling:
            opts.update(beam_size=1, num_hypotheses=self.num_samples, sampling_topk=self.sampling_topk,
                        sampling_temperature=self.sampling_temperature)
        else:
            opts.update(beam_size=self.beam, num_hypotheses=self.nbest,
                        length_penalty=self.len_penalty if self.normalize_scores else 0.0)
        return opts

    def _hyps(self, result) -> list[tuple[list[str], float | None]]:
        """(target tokens without tag and end-of-sentence, exact score or None) of one result.

        With length_penalty=0 a finished beam hypothesis' score is exactly the definition
        (checked against fairseq2 in the tests); sampled and normalised scores are not."""
        raw = not self.sampling and not self.normalize_scores
        hyps = []
        for h, s in zip(result.hypotheses, result.scores):
            if h and h[0] == self.tgt_tag:
                h = h[1:]
            done = bool(h) and h[-1] == EOS
            hyps.append((h[:-1] if done else list(h), float(s) if raw and done else None))
        return hyps

    def translate(self, sentences: Sequence[str]) -> list[list[Hyp]]:
        """n-best (or sampled) hypotheses for each sentence, best first; input order kept.

        All batches are queued at once (asynchronously) so the replicas work in parallel; the
        scores CTranslate2's search cannot give exactly are then computed by ``score_batch``
        (teacher-forced log P(hypothesis </s> | source, </s> __tgt__), the tag left out by
        ``offset=1``)."""
        from lmboot.nmt.data import Hyp

        enc = self.encode(sentences)
        groups = self._batches(enc)
        jobs = []
        for j, idx in enumerate(groups):
            src = [enc[i] for i in idx]
            w = self.workers[j % len(self.workers)]
            jobs.append((idx, w, w.translate_batch(src, asynchronous=True, **self._options(src))))
        found: dict[int, list[tuple[list[str], float | None]]] = {}
        rescore = []
        for idx, w, futures in jobs:
            todo = []
            for i, f in zip(idx, futures):
                found[i] = self._hyps(f.result())
                todo += [(i, k) for k, (_, s) in enumerate(found[i]) if s is None]
            if todo:
                # score_batch holds the logits of every target position (tokens x vocabulary
                # floats): sub-batches of at most ~32 MB of them
                fut = w.score_batch([enc[i] for i, _ in todo], [[self.tgt_tag] + found[i][k][0] for i, k in todo],
                                    offset=1, max_input_length=0, asynchronous=True, batch_type="tokens",
                                    max_batch_size=self.score_tokens)
                rescore.append((todo, fut))
        scores = {i: [s for _, s in hs] for i, hs in found.items()}
        for todo, fut in rescore:
            for (i, k), r in zip(todo, fut):
                scores[i][k] = float(sum(r.result().log_probs))
        out = []
        for i in range(len(enc)):
            items = [Hyp(text=self.decode(toks), score=s, tokens=len(toks) + 1)
                     for (toks, _), s in zip(found[i], scores[i])]
            items.sort(key=lambda x: -x.score)
            out.append(items)
        return out


__all__ = ["Ct2Translator", "Ct2Options", "parse_device", "LENGTH_LIMITS"]
