"""The fairseq2 engine: batched beam search over a loaded model (``BeamSearchSeq2SeqGenerator``).

The reference engine: the model as trained, on CPU or GPU, no export. Its length limit is
per batch (fairseq2's generator takes the longest source of a batch).

>>> from lmboot.nmt.model import load_model                           # doctest: +SKIP
>>> model, tok, info = load_model("runs/en-hi")
>>> Fairseq2Translator(model, tok, info, beam=4, nbest=2).translate(["hello"])[0][0].text
"""
from __future__ import annotations

import os
from typing import Sequence

from lmboot.nmt.data import Hyp
from lmboot.nmt.engines.base import SearchOptions, Translator, search_options


class Fairseq2Translator(Translator):
    """Beam search with fairseq2 over ``model`` (as :func:`lmboot.nmt.model.load_model` returns it).

    Search settings as :class:`~lmboot.nmt.engines.base.SearchOptions`, given as ``search=`` or
    by keyword (``beam=4, nbest=2``). Scores are raw log-probabilities (no length normalisation).
    """

    name = "fairseq2"

    def __init__(self, model, tokenizer, info, *, device=None, search: SearchOptions | None = None, **overrides):
        import torch

        from fairseq2.generation.beam_search import BeamSearchSeq2SeqGenerator

        super().__init__(search_options(search, overrides))
        self.model, self.info = model, info
        self.device = device if device is not None else next(model.parameters()).device
        self.device_type = self.device.type
        self.src_enc = tokenizer.create_encoder(task="translation", lang=info.src_lang, mode="source")
        tgt_enc = tokenizer.create_encoder(task="translation", lang=info.tgt_lang, mode="target")
        self.prompt = tgt_enc.prefix_indices.to(self.device)  # [</s>, __tgt__]
        self.decoder = tokenizer.create_decoder()
        self.eos = tokenizer.vocab_info.eos_idx
        # A weak translator loops ("der während der während ..."): blocking a repeated token
        # n-gram keeps loops out of the beam, so the n-best list holds real alternatives.
        procs = []
        if self.no_repeat_ngram_size:
            from fairseq2.generation.step_processor import NGramRepeatBlockProcessor

            procs.append(NGramRepeatBlockProcessor(self.no_repeat_ngram_size))
        # Scores are raw log-probabilities (normalize_scores=False): what docs/formats.md asks for.
        self.gen = BeamSearchSeq2SeqGenerator(model, tokenizer.vocab_info, beam_size=self.beam,
                                              max_gen_len=(self.max_len_a, self.max_len_b),
                                              normalize_scores=False, len_penalty=self.len_penalty,
                                              echo_prompt=True, step_processors=procs or None)
        self._torch = torch

    @classmethod
    def open(cls, model: str | os.PathLike, search: SearchOptions, *, checkpoint: str = "best",
             device: str | None = None, threads: int | None = None, options=None) -> "Fairseq2Translator":
        """Load the lmboot model directory ``model`` (its ``checkpoint``) on ``device``."""
        from lmboot.nmt.model import load_model, setup_device

        dev = setup_device(device, threads)
        loaded, tokenizer, info = load_model(model, dev, checkpoint)
        return cls(loaded, tokenizer, info, search=search)

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


__all__ = ["Fairseq2Translator"]
