"""Scoring a pair's target side against the in-domain seed: lower is more in-domain.

- :class:`CentroidScorer`: cosine distance to the centroid of the seed's embeddings;
- :class:`KnnScorer`: mean cosine distance to the ``k`` nearest seed sentences;
- :class:`MooreLewisScorer`: cross-entropy difference of an in-domain and a general KenLM.

A :class:`Scorer` is prepared once (on the seed, and a sample of the general target side when
it needs one), then scores batches of normalised sentences; :func:`make_scorer` builds one
from a method name. Embeddings come from :mod:`lmboot.select.embedders`.
"""
from __future__ import annotations

import math
import shutil
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Sequence

import numpy as np

from lmboot.errors import LmbootError
from lmboot.io.corpus import atomic_path, atomic_write, naming_errors
from lmboot.lm.score import load
from lmboot.lm.estimate import train
from lmboot.select.embedders import Embedder, make_embedder

METHODS = ("centroid", "knn", "moore-lewis")
_LOG2_10 = math.log2(10)


class Scorer(ABC):
    """Scores target sentences against the seed; lower is more in-domain."""

    name: str = ""
    score_label: str = "score"

    @property
    def needs_sample(self) -> bool:
        """Whether :meth:`prepare` needs a random sample of the general target side."""
        return False

    @abstractmethod
    def prepare(self, seed: list[str], sample: list[tuple[int, str]], workdir: Path) -> None:
        """Fit on the normalised seed sentences and the general sample.

        ``sample``: ``(pair index, normalised target)`` in random order (empty when
        :attr:`needs_sample` is false); the index is the pair's position in the stream.
        """

    @abstractmethod
    def score(self, texts: Sequence[str], ids: Sequence[int] | None = None) -> np.ndarray:
        """float32 scores of normalised non-empty sentences (``ids``: their pair indices)."""

    def save(self, directory: Path) -> dict:
        """Write what the scorer learnt under ``directory``; return {name: path}."""
        return {}

    def describe(self) -> dict:
        return {"method": self.name}


class _EmbeddingScorer(Scorer):
    score_label = "cosine distance"

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self.seed_vectors = np.zeros((0, 0), np.float32)

    @property
    def needs_sample(self) -> bool:
        return self.embedder.needs_fit

    def prepare(self, seed: list[str], sample: list[tuple[int, str]], workdir: Path) -> None:
        if self.embedder.needs_fit:
            self.embedder.fit(list(seed) + [t for _, t in sample])
        self.seed_vectors = self.embedder.embed(seed)

    def save(self, directory: Path) -> dict:
        d = directory / "embedder"
        self.embedder.save(d)
        return {"embedder": d}

    def describe(self) -> dict:
        return {"method": self.name, "embedder": self.embedder.describe()}


class CentroidScorer(_EmbeddingScorer):
    """Cosine distance ``1 - cos(v, c)`` to the centroid ``c`` of the seed embeddings (0..2)."""

    name = "centroid"

    def prepare(self, seed, sample, workdir) -> None:
        super().prepare(seed, sample, workdir)
        c = self.seed_vectors.mean(axis=0)
        norm = float(np.linalg.norm(c))
        if norm == 0:
            raise LmbootError("the seed embeddings average to zero: the seed has no feature the embedder knows")
        self.centroid = (c / norm).astype(np.float32)

    def score(self, texts, ids=None):
        return np.clip(1.0 - self.embedder.embed(texts) @ self.centroid, 0.0, 2.0).astype(np.float32)

    def save(self, directory: Path) -> dict:
        out = super().save(directory)
        with atomic_write(directory / "embedder" / "centroid.npy", "wb") as f:
            np.save(f, self.centroid, allow_pickle=False)
        return out


class KnnScorer(_EmbeddingScorer):
    """Mean cosine distance to the ``k`` nearest seed sentences (0..2)."""

    name = "knn"
    _MAX_CELLS = 1 << 22  # batch rows x seed rows per block: bounded memory for large seeds

    def __init__(self, embedder: Embedder, k: int = 5):
        super().__init__(embedder)
        self.k = k

    def score(self, texts, ids=None):
        v = self.embedder.embed(texts)
        s = self.seed_vectors
        k = self.k
        out = np.empty(len(v), np.float32)
        step = max(1, self._MAX_CELLS // max(1, len(s)))
        for i in range(0, len(v), step):
            d = 1.0 - v[i:i + step] @ s.T
            if k < d.shape[1]:
                d = np.partition(d, k - 1, axis=1)[:, :k]
            out[i:i + step] = np.clip(d.mean(axis=1), 0.0, 2.0)
        return out

    def describe(self) -> dict:
        return {**super().describe(), "k": self.k}


class MooreLewisScorer(Scorer):
    """Moore-Lewis cross-entropy difference ``H_in(s) - H_gen(s)`` in bits per word (KenLM).

    ``H`` is the per-word cross-entropy (``</s>`` counted) of the sentence under an
    ``order``-gram modified Kneser-Ney LM: in-domain on the seed, general on a random sample
    of the general target side with about as many words as the seed. A sentence that is in
    that sample is scored with a second general LM, trained on a disjoint random sample of the
    same size: otherwise the general LM would have memorised it and pushed it down the
    ranking (with a 500-sentence seed and 26k pairs, 5 % of the pairs). As in Moore & Lewis
    (2010), both LMs share one vocabulary: the seed words seen at least ``min_count`` times;
    every other word becomes the ordinary token ``<oov>`` in training and scoring, so that
    neither model can look good by its own ``<unk>`` estimate.
    """

    name = "moore-lewis"
    score_label = "cross-entropy difference (bits/word)"
    OOV = "<oov>"

    def __init__(self, order: int = 3, min_count: int = 2, memory: str = "256M"):
        self.order, self.min_count, self.memory = order, min_count, memory
        self.lm_in = self.lm_gen = self.lm_gen2 = None
        self.sample_ids: frozenset[int] = frozenset()
        self.vocab: frozenset[str] = frozenset()
        self.paths: dict[str, Path] = {}
        self.sample_sentences = self.sample_tokens = 0

    @property
    def needs_sample(self) -> bool:
        return True

    def _map(self, s: str) -> str:
        v, oov = self.vocab, self.OOV
        return " ".join(w if w in v else oov for w in s.split())

    def prepare(self, seed, sample, workdir) -> None:
        from collections import Counter

        counts = Counter(w for s in seed for w in s.split())
        vocab = {w for w, c in counts.items() if c >= self.min_count}
        self.vocab = frozenset(vocab or counts)  # a seed of singletons keeps all its words
        seed_tokens = sum(counts.values())
        rest = iter(sample)  # in random order: consecutive runs of it are random samples too

        def take() -> tuple[list[int], list[str], int]:
            ids, texts, tokens = [], [], 0
            for i, s in rest:
                ids.append(i)
                texts.append(s)
                tokens += s.count(" ") + 1
                if tokens >= seed_tokens:
                    break
            return ids, texts, tokens

        ids, gen, tokens = take()
        if not gen:
            raise LmbootError("no general-domain sentence to train the general LM on")
        ids2, gen2, _ = take()
        self.sample_ids = frozenset(ids) if gen2 else frozenset()  # too small a corpus: no second LM
        self.sample_sentences, self.sample_tokens = len(gen), tokens
        todo = [("in_domain", seed), ("general", gen)] + ([("general_2", gen2)] if gen2 else [])
        for name, texts in todo:
            txt = workdir / f"{name}.txt"
            with naming_errors(txt), open(txt, "w", encoding="utf-8", newline="\n") as f:
                f.writelines(self._map(t) + "\n" for t in texts)
            arpa = workdir / f"{name}.arpa"
            train(txt, arpa, order=self.order, normalize_text=False, memory=self.memory,
                         binary=workdir / f"{name}.bin")
            self.paths[name] = arpa
        self.lm_in = load(workdir / "in_domain.bin")
        self.lm_gen = load(workdir / "general.bin")
        if gen2:
            self.lm_gen2 = load(workdir / "general_2.bin")

    def score(self, texts, ids=None):
        a, b = self.lm_in.score, self.lm_gen.score
        b2 = self.lm_gen2.score if self.lm_gen2 is not None else b
        held = self.sample_ids
        out = np.empty(len(texts), np.float32)
        for i, s in enumerate(texts):
            s = self._map(s)
            n = s.count(" ") + 2
            gen = b2 if ids is not None and ids[i] in held else b
            out[i] = (gen(s, bos=True, eos=True) - a(s, bos=True, eos=True)) * _LOG2_10 / n
        return out

    def save(self, directory: Path) -> dict:
        out = {}
        for name, src in self.paths.items():
            dst = directory / "lm" / f"{name}.arpa"
            dst.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
            out[f"lm_{name}"] = dst
        return out

    def describe(self) -> dict:
        return {"method": self.name, "order": self.order, "vocab_min_count": self.min_count,
                "vocab_size": len(self.vocab), "general_sample_sentences": self.sample_sentences,
                "general_sample_tokens": self.sample_tokens}


def make_scorer(method: str, embedder: str | Embedder = "tfidf", k: int = 5, order: int = 3, dim: int = 128,
                random_seed: int = 1) -> Scorer:
    """The scorer for ``method`` (``centroid``, ``knn`` or ``moore-lewis``)."""
    if method == "centroid":
        return CentroidScorer(make_embedder(embedder, dim, random_seed))
    if method == "knn":
        if k < 1:
            raise LmbootError(f"k must be at least 1, not {k}")
        return KnnScorer(make_embedder(embedder, dim, random_seed), k=k)
    if method in ("moore-lewis", "ml"):
        return MooreLewisScorer(order=order)
    raise LmbootError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")


__all__ = ["Scorer", "CentroidScorer", "KnnScorer", "MooreLewisScorer", "make_scorer", "METHODS"]
