"""Selecting in-domain pairs from a general-domain bitext (stage 1 of the method).

General-domain bitext is mostly off-domain for the translator the method trains. This
stage keeps the pairs whose *target* side is close to the small in-domain target-language
seed set:

- ``centroid`` (the paper's rule): embed the seed, average the embeddings (the centroid),
  embed the target side of every pair and score it by cosine distance to the centroid;
- ``knn``: score by the mean cosine distance to the ``k`` closest seed sentences (robust when
  the seed has several sub-domains, whose centroid may lie near none of them);
- ``moore-lewis``: cross-entropy difference ``H_in(s) - H_gen(s)`` (bits per word) of an
  in-domain KenLM trained on the seed and a general KenLM trained on a random sample of the
  general target side of about the same size.

Lower scores are more in-domain for every method. One keep rule applies to the scores:
``max_distance`` (keep score <= it), ``top_k`` (keep the k best) or ``keep_fraction`` (keep that
fraction of all pairs, the default, 0.2). Ties are broken by line order (earlier first).

Embedders (:class:`Embedder`) map normalised sentences to unit-length float32 vectors:
:class:`TfidfLsaEmbedder` (default; TF-IDF over character n-grams and words, reduced by
truncated SVD, fitted on seed + a sample of the general target side, no download, any
script) and :class:`SentenceTransformerEmbedder` (``st:/local/model/dir``). A fitted embedder
is saved as JSON + ``.npy`` files (no pickle) in ``OUT/embedder/`` and loads again with
:func:`load_embedder` (or ``embedder="OUT/embedder"``), so later runs use the same space.

The general corpus is streamed three times and never held in memory: pass 0 draws a seeded
reservoir sample (to fit the embedder / the general LM) and validates the bitext, pass 1
scores in batches keeping one float32 per pair, then the threshold is decided, and pass 2
writes the outputs. Nothing is written before the decision, every file is written
atomically, and a selection that keeps nothing is an error that suggests a threshold.

>>> res = select("general.en", "general.hi", "seed.hi", "sel/", keep_fraction=0.2)  # doctest: +SKIP
>>> res.kept, res.threshold, res.selected_tgt                                        # doctest: +SKIP
(5211, 0.6012, 'sel/selected.hi')
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from lmboot.corpus import Normalizer, atomic_path, atomic_write, check_file, read_bitext, read_lines, write_json
from lmboot.errors import LmbootError

log = logging.getLogger("lmboot")

METHODS = ("centroid", "knn", "moore-lewis")
QUANTILES = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
DEFAULT_KEEP_FRACTION = 0.2
EMBEDDER_FILE = "embedder.json"
_LOG2_10 = math.log2(10)


# --------------------------------------------------------------------------------------
# Embedders
# --------------------------------------------------------------------------------------
class Embedder(ABC):
    """Maps (normalised) sentences to unit-length float32 vectors.

    Subclasses implement :meth:`embed` and :meth:`save`; those that learn from text override
    :attr:`needs_fit` and :meth:`fit`. A zero vector stands for a sentence with no known feature.
    """

    kind: str = ""

    @property
    def needs_fit(self) -> bool:
        return False

    def fit(self, texts: Sequence[str]) -> "Embedder":
        """Learn the space from ``texts`` (seed + sample of the general target side)."""
        return self

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(len(texts), dim)`` float32 array of unit-length rows."""

    @abstractmethod
    def save(self, directory: str | Path) -> Path:
        """Write the embedder into ``directory`` (``embedder.json`` + data files)."""

    def describe(self) -> dict:
        return {"type": self.kind}


def _unit_rows(z: np.ndarray) -> np.ndarray:
    z = np.ascontiguousarray(z, dtype=np.float32)
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    np.divide(z, norms, out=z, where=norms > 0)
    return z


@dataclass
class TfidfLsaConfig:
    """Parameters of :class:`TfidfLsaEmbedder` (saved with it)."""

    dim: int = 128
    char_ngrams: tuple[int, int] = (2, 4)
    word_ngrams: tuple[int, int] = (1, 2)
    max_char_features: int = 32768
    max_word_features: int = 16384
    min_df: int = 2
    char_share: float = 0.5  # share of the squared norm given to character n-grams
    random_seed: int = 1


class TfidfLsaEmbedder(Embedder):
    """TF-IDF over character n-grams (within words) and word n-grams, reduced by truncated SVD.

    Latent semantic analysis: needs no download and works for any script (character n-grams
    see through inflection and unsegmented spelling variants; words split on whitespace, as
    :class:`~lmboot.corpus.Normalizer` leaves them). Both TF-IDF blocks are unit-length (with
    sublinear tf); they are joined with weights ``sqrt(char_share)`` / ``sqrt(1 - char_share)``
    and projected by scikit-learn's ``TruncatedSVD`` (randomized, seeded) to ``dim`` dimensions.

    Saved as ``embedder.json`` (config), ``char_vocab.json`` / ``word_vocab.json`` (the
    features, in column order), ``char_idf.npy`` / ``word_idf.npy`` and ``components.npy``
    (``dim x features``): plain data, loaded with ``allow_pickle=False``.

    >>> e = TfidfLsaEmbedder(TfidfLsaConfig(dim=2, min_df=1)).fit(["a cold", "a fever", "open file"])
    >>> e.embed(["cold and fever"]).shape
    (1, 2)
    """

    kind = "tfidf-lsa"

    def __init__(self, config: TfidfLsaConfig | None = None):
        self.config = config or TfidfLsaConfig()
        if self.config.dim < 1:
            raise LmbootError(f"embedding dimension must be at least 1, not {self.config.dim}")
        if not 0.0 <= self.config.char_share <= 1.0:
            raise LmbootError(f"char_share must be in [0, 1], not {self.config.char_share}")
        self.char_vocab: list[str] = []
        self.word_vocab: list[str] = []
        self.char_idf = np.zeros(0, np.float32)
        self.word_idf = np.zeros(0, np.float32)
        self.components = np.zeros((0, 0), np.float32)
        self._proj: np.ndarray | None = None
        self._vec = None

    @property
    def needs_fit(self) -> bool:
        return self._proj is None

    @property
    def dim(self) -> int:
        return int(self.components.shape[0])

    # -- fitting ------------------------------------------------------------------------
    def fit(self, texts: Sequence[str]) -> "TfidfLsaEmbedder":
        import scipy.sparse as sp
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = [t for t in texts if t]
        if not texts:
            raise LmbootError("no text to fit the TF-IDF embedder on")
        c = self.config
        min_df = c.min_df if len(texts) >= 20 * c.min_df else 1
        blocks = []
        for share, kw in ((c.char_share, dict(analyzer="char_wb", ngram_range=tuple(c.char_ngrams),
                                               max_features=c.max_char_features)),
                          (1.0 - c.char_share, dict(analyzer="word", tokenizer=str.split, token_pattern=None,
                                                     ngram_range=tuple(c.word_ngrams),
                                                     max_features=c.max_word_features))):
            vec = TfidfVectorizer(lowercase=False, sublinear_tf=True, dtype=np.float32, min_df=min_df, **kw)
            try:
                x = vec.fit_transform(texts)  # the same matrix _tfidf() computes from the saved state
            except ValueError:  # empty vocabulary (e.g. only one-letter words): the block stays empty
                blocks.append(([], np.zeros(0, np.float32), None))
                continue
            blocks.append((vec.get_feature_names_out().tolist(), vec.idf_.astype(np.float32),
                           x * np.float32(math.sqrt(share)) if share > 0 else None))
        (self.char_vocab, self.char_idf, xc), (self.word_vocab, self.word_idf, xw) = blocks
        self._vec = None
        mats = [m for m in (xc, xw) if m is not None]
        if not mats:
            raise LmbootError("no feature to fit the TF-IDF embedder on (no character n-gram or word)")
        x = sp.hstack(mats, format="csr", dtype=np.float32)
        n_comp = max(1, min(c.dim, x.shape[1] - 1, x.shape[0] - 1))
        svd = TruncatedSVD(n_components=n_comp, algorithm="randomized", n_iter=5, random_state=c.random_seed)
        svd.fit(x)
        self._set_components(svd.components_)
        return self

    def _set_components(self, comp: np.ndarray) -> None:
        self.components = np.ascontiguousarray(comp, dtype=np.float32)
        self._proj = np.ascontiguousarray(self.components.T)

    # -- embedding ----------------------------------------------------------------------
    def _vectorizers(self):
        if self._vec is None:
            from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

            c = self.config
            blocks = []
            for vocab, idf, share, kw in (
                (self.char_vocab, self.char_idf, c.char_share,
                 dict(analyzer="char_wb", ngram_range=tuple(c.char_ngrams))),
                (self.word_vocab, self.word_idf, 1.0 - c.char_share,
                 dict(analyzer="word", tokenizer=str.split, token_pattern=None, ngram_range=tuple(c.word_ngrams))),
            ):
                if not vocab or share <= 0:
                    continue
                counter = CountVectorizer(lowercase=False, vocabulary=vocab, dtype=np.float32, **kw)
                weigher = TfidfTransformer(sublinear_tf=True)
                weigher.idf_ = idf
                blocks.append((counter, weigher, np.float32(math.sqrt(share))))
            if not blocks:
                raise LmbootError("the TF-IDF embedder has no features (was it fitted?)")
            self._vec = blocks
        return self._vec

    def _tfidf(self, texts: Sequence[str]):
        import scipy.sparse as sp

        mats = []
        for counter, weigher, w in self._vectorizers():
            m = weigher.transform(counter.transform(texts))
            mats.append(m * w if w != 1 else m)
        return mats[0].tocsr() if len(mats) == 1 else sp.hstack(mats, format="csr", dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._proj is None:
            raise LmbootError("the TF-IDF embedder is not fitted")
        if len(texts) == 0:
            return np.zeros((0, self.dim), np.float32)
        return _unit_rows(self._tfidf(texts) @ self._proj)

    # -- persistence --------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for name, vocab in (("char_vocab.json", self.char_vocab), ("word_vocab.json", self.word_vocab)):
            with atomic_write(d / name) as f:
                json.dump(vocab, f, ensure_ascii=False)
        for name, arr in (("char_idf.npy", self.char_idf), ("word_idf.npy", self.word_idf),
                          ("components.npy", self.components)):
            with atomic_write(d / name, "wb") as f:
                np.save(f, arr, allow_pickle=False)
        write_json(d / EMBEDDER_FILE, {"type": self.kind, "version": 1, "config": asdict(self.config),
                                        "dim": self.dim, "features": len(self.char_vocab) + len(self.word_vocab)})
        return d

    @classmethod
    def load(cls, directory: str | Path, meta: dict) -> "TfidfLsaEmbedder":
        d = Path(directory)
        cfg = dict(meta.get("config", {}))
        for key in ("char_ngrams", "word_ngrams"):
            if key in cfg:
                cfg[key] = tuple(cfg[key])
        try:
            emb = cls(TfidfLsaConfig(**cfg))
            emb.char_vocab = json.loads((d / "char_vocab.json").read_text(encoding="utf-8"))
            emb.word_vocab = json.loads((d / "word_vocab.json").read_text(encoding="utf-8"))
            emb.char_idf = np.load(d / "char_idf.npy", allow_pickle=False).astype(np.float32)
            emb.word_idf = np.load(d / "word_idf.npy", allow_pickle=False).astype(np.float32)
            comp = np.load(d / "components.npy", allow_pickle=False)
        except (OSError, ValueError, TypeError) as e:
            raise LmbootError(f"unreadable TF-IDF embedder ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})",
                              path=d) from None
        n_feat = (len(emb.char_vocab) if emb.config.char_share > 0 else 0) + \
                 (len(emb.word_vocab) if emb.config.char_share < 1 else 0)
        if len(emb.char_idf) != len(emb.char_vocab) or len(emb.word_idf) != len(emb.word_vocab) \
                or comp.ndim != 2 or comp.shape[1] != n_feat:
            raise LmbootError("inconsistent TF-IDF embedder files (vocabulary, idf and components differ in size)",
                              path=d)
        emb._set_components(comp)
        return emb

    def describe(self) -> dict:
        return {"type": self.kind, "dim": self.dim, "char_features": len(self.char_vocab),
                "word_features": len(self.word_vocab), **{k: v for k, v in asdict(self.config).items() if k != "dim"}}


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model from a *local* directory (no download), on the CPU.

    Needs the optional ``sentence-transformers`` package (``pip install 'lmboot[neural]'``),
    imported only here. Saving records the model directory; the model itself is not copied.
    """

    kind = "sentence-transformers"

    def __init__(self, path: str | Path, batch_size: int = 64, device: str = "cpu"):
        p = Path(path).expanduser()
        if not p.is_dir():
            raise LmbootError("sentence-transformers model directory not found "
                              "(give a local directory, e.g. one written by SentenceTransformer.save)", path=p)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise LmbootError("the 'st:' embedder needs the sentence-transformers package: "
                              "pip install 'lmboot[neural]' (or use --embedder tfidf)") from None
        try:
            try:
                model = SentenceTransformer(str(p), device=device, local_files_only=True)
            except TypeError:  # older sentence-transformers without local_files_only
                model = SentenceTransformer(str(p), device=device)
        except Exception as e:  # noqa: BLE001 - any failure to load is the user's directory
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise LmbootError(f"not a loadable sentence-transformers model ({first})", path=p) from None
        self.path, self.batch_size, self.model = p.resolve(), batch_size, model

    @property
    def dim(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), np.float32)
        z = self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                              convert_to_numpy=True, show_progress_bar=False)
        return _unit_rows(np.asarray(z, dtype=np.float32))

    def save(self, directory: str | Path) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        write_json(d / EMBEDDER_FILE, {"type": self.kind, "version": 1, "path": str(self.path)})
        return d

    def describe(self) -> dict:
        return {"type": self.kind, "path": str(self.path), "dim": self.dim}


def load_embedder(directory: str | Path) -> Embedder:
    """Load an embedder saved by :meth:`Embedder.save` (``OUT/embedder/`` of a selection)."""
    d = Path(directory)
    meta_path = d / EMBEDDER_FILE
    if not meta_path.is_file():
        raise LmbootError(f"not a saved embedder directory (no {EMBEDDER_FILE})", path=d)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise LmbootError(f"unreadable embedder description ({type(e).__name__})", path=meta_path) from None
    kind = meta.get("type")
    if kind == TfidfLsaEmbedder.kind:
        return TfidfLsaEmbedder.load(d, meta)
    if kind == SentenceTransformerEmbedder.kind:
        return SentenceTransformerEmbedder(meta.get("path", ""))
    raise LmbootError(f"unknown embedder type {kind!r}", path=meta_path)


def make_embedder(spec: str | Embedder = "tfidf", dim: int = 128, random_seed: int = 1) -> Embedder:
    """An embedder from a spec: ``tfidf`` (new, to be fitted), ``st:PATH`` or a saved directory.

    >>> make_embedder("tfidf", dim=64).needs_fit
    True
    """
    if isinstance(spec, Embedder):
        return spec
    spec = str(spec)
    if spec in ("tfidf", "tfidf-lsa", "lsa"):
        return TfidfLsaEmbedder(TfidfLsaConfig(dim=dim, random_seed=random_seed))
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:])
    if spec.startswith("saved:"):
        return load_embedder(spec[6:])
    if Path(spec).is_dir():
        return load_embedder(spec)
    raise LmbootError(f"unknown embedder {spec!r}: use 'tfidf', 'st:/local/model/dir' "
                      "or a saved embedder directory (OUT/embedder)")


# --------------------------------------------------------------------------------------
# Scorers: lower score = more in-domain
# --------------------------------------------------------------------------------------
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
        return {"embedder": str(d)}

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

        from lmboot import lm as lm_mod

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
            with open(txt, "w", encoding="utf-8", newline="\n") as f:
                f.writelines(self._map(t) + "\n" for t in texts)
            arpa = workdir / f"{name}.arpa"
            lm_mod.train(txt, arpa, order=self.order, normalize_text=False, memory=self.memory,
                         binary=workdir / f"{name}.bin")
            self.paths[name] = arpa
        self.lm_in = lm_mod.load(workdir / "in_domain.bin")
        self.lm_gen = lm_mod.load(workdir / "general.bin")
        if gen2:
            self.lm_gen2 = lm_mod.load(workdir / "general_2.bin")

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
            out[f"lm_{name}"] = str(dst)
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


# --------------------------------------------------------------------------------------
# Selection
# --------------------------------------------------------------------------------------
@dataclass
class SelectResult:
    """What :func:`select` kept and where it wrote it (all paths as strings)."""

    method: str
    total: int  # pairs read (pairs with an empty side are skipped by the reader and not counted)
    kept: int
    dropped: int
    unscorable: int  # target side empty after normalisation: never kept
    rule: str  # "keep_fraction=0.2" | "top_k=1000" | "max_distance=0.6"
    threshold: float  # score of the last kept pair (top_k/fraction) or the given max_distance
    score_label: str
    quantiles: dict = field(default_factory=dict)
    selected_src: str = ""
    selected_tgt: str | None = None  # None for TSV input/output
    scores_path: str = ""
    summary_path: str = ""
    histogram_path: str | None = None
    artifacts: dict = field(default_factory=dict)  # embedder dir / LM paths
    scorer: dict = field(default_factory=dict)
    seconds: float = 0.0
    score_seconds: float = 0.0
    sentences_per_s: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


def _summary(res: SelectResult, out_dir: Path) -> dict:
    """summary.json: the result with output paths relative to ``out_dir`` and without timings,
    so that the same inputs and seed give a byte-identical file wherever it is written."""
    def rel(p):
        return None if p is None else Path(p).relative_to(out_dir).as_posix()

    d = res.to_json()
    for key in ("seconds", "score_seconds", "sentences_per_s"):
        d.pop(key)
    for key in ("selected_src", "selected_tgt", "scores_path", "summary_path", "histogram_path"):
        d[key] = rel(d[key])
    d["artifacts"] = {k: rel(v) for k, v in d["artifacts"].items()}
    return d


def _pairs(src, tgt) -> Iterator[tuple[int, str, str]]:
    yield from read_bitext(src, tgt, with_lineno=True)


def _reservoir(src, tgt, size: int, rng: random.Random) -> tuple[list[tuple[int, str]], int]:
    """Pass 0: a uniform random sample (Algorithm R) of ``(pair index, target side)``, in
    random order, and the number of pairs; validates the whole bitext on the way."""
    sample: list[tuple[int, str]] = []
    n = 0
    for _, _, t in _pairs(src, tgt):
        if n < size:
            sample.append((n, t))
        else:
            j = rng.randrange(n + 1)
            if j < size:
                sample[j] = (n, t)
        n += 1
    rng.shuffle(sample)
    return sample, n


def _output_names(src: Path, tgt: Path | None) -> tuple[str, str | None]:
    if tgt is None:
        return "selected.tsv", None
    a, b = src.suffix, tgt.suffix
    if a and b and a != b:
        return f"selected{a}", f"selected{b}"
    return "selected.src", "selected.tgt"


def _decide(scores: np.ndarray, total: int, keep_fraction, max_distance, top_k) -> tuple[np.ndarray, float, str]:
    """Boolean keep mask, threshold and rule. Ties: earlier lines first (stable sort)."""
    finite = np.isfinite(scores)
    if max_distance is not None:
        keep = finite & (scores <= np.float32(max_distance))
        return keep, float(max_distance), f"max_distance={max_distance:g}"
    if top_k is not None:
        want, rule = int(top_k), f"top_k={top_k}"
    else:
        want, rule = int(math.floor(keep_fraction * total + 0.5)), f"keep_fraction={keep_fraction:g}"
    want = min(want, int(finite.sum()))
    keep = np.zeros(len(scores), bool)
    if want <= 0:
        return keep, float("nan"), rule
    order = np.argsort(scores, kind="stable")
    keep[order[:want]] = True
    return keep, float(scores[order[want - 1]]), rule


def _quantiles(finite_scores: np.ndarray) -> dict:
    if len(finite_scores) == 0:
        return {}
    qs = np.quantile(finite_scores.astype(np.float64), QUANTILES)
    return {f"p{q * 100:g}": round(float(v), 6) for q, v in zip(QUANTILES, qs)}


def plot_histogram(scores: np.ndarray, threshold: float, png: str | Path, label: str = "score",
                   title: str = "") -> Path:
    """Histogram of the finite scores with the cut marked (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    finite = scores[np.isfinite(scores)]
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.hist(finite, bins=60, color="#4c72b0")
    if math.isfinite(threshold):
        ax.axvline(threshold, color="#c44e52", linestyle="--", label=f"cut {threshold:.4f}")
        ax.legend()
    ax.set_xlabel(label + " (lower = more in-domain)")
    ax.set_ylabel("pairs")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return Path(png)


@contextlib.contextmanager
def _bar(progress: bool, total: int | None, desc: str):
    if not progress:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, unit=" sent", unit_scale=True, desc=desc, mininterval=0.5, smoothing=0.1)
    try:
        yield bar
    finally:
        bar.close()


def select(general_src: str | Path, general_tgt: str | Path | None, seed: str | Path, out_dir: str | Path,
           method: str = "centroid", keep_fraction: float | None = None, max_distance: float | None = None,
           top_k: int | None = None, k: int = 5, embedder: str | Embedder = "tfidf", random_seed: int = 1,
           dim: int = 128, fit_sample: int = 50000, batch_size: int = 2048, order: int = 3,
           normalizer: Normalizer | None = None, progress: bool = False, plot: bool = True) -> SelectResult:
    """Keep the pairs of a general bitext whose target side is nearest the in-domain ``seed``.

    ``general_src``/``general_tgt``: two line-aligned files, or one TSV (``general_tgt=None``).
    ``seed``: in-domain target-language text. ``method``: ``centroid`` | ``knn`` |
    ``moore-lewis``. At most one keep rule: ``max_distance`` (keep score <= it), ``top_k`` or
    ``keep_fraction`` (default 0.2 of all pairs). ``embedder``: ``tfidf`` | ``st:/model/dir`` | a
    saved embedder directory. ``fit_sample``: general target sentences sampled (seeded
    reservoir) to fit the embedder / draw the general LM's text from. Text is normalised with
    ``normalizer`` (default :class:`~lmboot.corpus.Normalizer`) before scoring; outputs carry
    the input lines unchanged.

    Writes in ``out_dir``: the selected bitext (``selected.<src-ext>`` + ``selected.<tgt-ext>``,
    or ``selected.tsv``), ``scores.tsv`` (``line, score, decision`` for every pair), ``summary.json``,
    ``histogram.png``, and ``embedder/`` (embedding methods) or ``lm/`` (Moore-Lewis).

    >>> res = select("general.en", "general.hi", "seed.hi", "sel", method="knn", k=5)  # doctest: +SKIP
    >>> print(res.kept, res.selected_src, res.selected_tgt)                            # doctest: +SKIP
    5211 sel/selected.en sel/selected.hi
    """
    t_start = time.perf_counter()
    rules = [r for r in (keep_fraction, max_distance, top_k) if r is not None]
    if len(rules) > 1:
        raise LmbootError("give at most one of --keep-fraction, --max-distance, --top-k")
    if not rules:
        keep_fraction = DEFAULT_KEEP_FRACTION
    if keep_fraction is not None and not 0 < keep_fraction <= 1:
        raise LmbootError(f"--keep-fraction must be in (0, 1], not {keep_fraction}")
    if top_k is not None and top_k < 1:
        raise LmbootError(f"--top-k must be at least 1, not {top_k}")
    if max_distance is not None and not math.isfinite(max_distance):
        raise LmbootError(f"--max-distance must be a finite number, not {max_distance}")
    if method == "ml":
        method = "moore-lewis"
    if method not in METHODS:
        raise LmbootError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    if fit_sample < 1 or batch_size < 1:
        raise LmbootError("fit_sample and batch_size must be at least 1")
    norm = normalizer or Normalizer()
    src = check_file(general_src, "general bitext" if general_tgt is None else "general source side")
    tgt = None if general_tgt is None else check_file(general_tgt, "general target side")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise LmbootError("output directory is a file", path=out_dir)

    # Seed: normalised, empty lines dropped.
    seed_texts = [s for s in (norm(x) for x in read_lines(seed, "seed set")) if s]
    if not seed_texts:
        raise LmbootError("seed set has no sentence left after normalisation", path=seed)
    if method == "knn" and len(seed_texts) < k:
        raise LmbootError(f"seed set has {len(seed_texts)} sentence(s), fewer than k={k} "
                          "(knn averages the k nearest seed sentences; lower --k)", path=seed)
    scorer = make_scorer(method, embedder, k=k, order=order, dim=dim, random_seed=random_seed)

    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".select-work-", dir=out_dir))
    try:
        # Pass 0: seeded sample of the general target side (also validates the whole bitext).
        total: int | None = None
        sample: list[tuple[int, str]] = []
        if scorer.needs_sample:
            raw, total = _reservoir(src, tgt, fit_sample, random.Random(random_seed))
            sample = [(i, s) for i, s in ((i, norm(t)) for i, t in raw) if s]
            if total == 0:
                raise LmbootError("general bitext has no pair with both sides non-empty", path=src)
        scorer.prepare(seed_texts, sample, work)
        del sample

        # Pass 1: score in batches; keep one float32 per pair.
        scores = array("f")
        t_score = time.perf_counter()
        batch: list[str] = []
        slots: list[int] = []

        def flush() -> None:
            if batch:
                vals = scorer.score(batch, slots)
                for j, v in zip(slots, vals.tolist()):
                    scores[j] = v
                batch.clear()
                slots.clear()

        with _bar(progress, total, f"select {method}") as bar:
            for _, _, t in _pairs(src, tgt):
                s = norm(t)
                scores.append(math.inf)
                if s:
                    batch.append(s)
                    slots.append(len(scores) - 1)
                    if len(batch) >= batch_size:
                        flush()
                        if bar is not None:
                            bar.update(batch_size)
                elif bar is not None:
                    bar.update(1)
            n_last = len(batch)
            flush()
            if bar is not None:
                bar.update(n_last)
        score_seconds = time.perf_counter() - t_score
        n = len(scores)
        if n == 0:
            raise LmbootError("general bitext has no pair with both sides non-empty", path=src)
        arr = np.frombuffer(scores, dtype=np.float32)
        finite = arr[np.isfinite(arr)]
        unscorable = n - len(finite)
        if len(finite) == 0:
            raise LmbootError("no target sentence of the general bitext is left after normalisation",
                              path=tgt or src)

        keep, threshold, rule = _decide(arr, n, keep_fraction, max_distance, top_k)
        kept = int(keep.sum())
        if kept == 0:
            one_pct = float(np.quantile(finite.astype(np.float64), 0.01))
            why = (f"no pair has a score <= {max_distance:g}" if max_distance is not None
                   else f"{rule} rounds to 0 of {n} pairs")
            raise LmbootError(f"the selection keeps nothing ({why}); --max-distance {one_pct:.4f} would keep "
                              f"about 1 % of the pairs (scores range {float(finite.min()):.4f}..{float(finite.max()):.4f})",
                              path=tgt or src)

        # Pass 2: write the outputs (each atomically).
        name_src, name_tgt = _output_names(src, tgt)
        sel_src, sel_tgt = out_dir / name_src, (out_dir / name_tgt if name_tgt else None)
        scores_p, summary_p = out_dir / "scores.tsv", out_dir / "summary.json"
        artifacts = scorer.save(out_dir)
        hist_p = None
        if plot:
            hist_p = plot_histogram(arr, threshold, out_dir / "histogram.png", scorer.score_label,
                                    f"{method}: kept {kept} of {n} ({rule})")
        with contextlib.ExitStack() as stack:
            fs = stack.enter_context(atomic_write(sel_src))
            ft = stack.enter_context(atomic_write(sel_tgt)) if sel_tgt else None
            fsc = stack.enter_context(atomic_write(scores_p))
            fsc.write("line\tscore\tdecision\n")
            i = -1
            for i, (lineno, s, t) in enumerate(_pairs(src, tgt)):
                if i >= n:
                    break
                v = arr[i]
                if keep[i]:
                    decision = "keep"
                    if ft is None:
                        fs.write(f"{s}\t{t}\n")
                    else:
                        fs.write(s + "\n")
                        ft.write(t + "\n")
                else:
                    decision = "drop" if math.isfinite(v) else "empty"
                fsc.write(f"{lineno}\t{v:.6f}\t{decision}\n" if math.isfinite(v) else f"{lineno}\tinf\t{decision}\n")
            if i + 1 != n:
                raise LmbootError(f"general bitext changed while selecting ({n} pairs scored, {i + 1} on re-reading)",
                                  path=src)
        seconds = time.perf_counter() - t_start
        res = SelectResult(
            method=method, total=n, kept=kept, dropped=n - kept, unscorable=unscorable, rule=rule,
            threshold=round(threshold, 6), score_label=scorer.score_label, quantiles=_quantiles(finite),
            selected_src=str(sel_src), selected_tgt=str(sel_tgt) if sel_tgt else None, scores_path=str(scores_p),
            summary_path=str(summary_p), histogram_path=str(hist_p) if hist_p else None, artifacts=artifacts,
            scorer={**scorer.describe(), "normalizer": asdict(norm), "random_seed": random_seed,
                    "fit_sample": fit_sample, "seed_sentences": len(seed_texts),
                    "inputs": {"general_src": str(src), "general_tgt": str(tgt) if tgt else None, "seed": str(seed)}},
            seconds=round(seconds, 3), score_seconds=round(score_seconds, 3),
            sentences_per_s=round(n / score_seconds, 1) if score_seconds > 0 else 0.0)
        write_json(summary_p, _summary(res, out_dir))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                out_dir.rmdir()  # only when still empty
        raise
    shutil.rmtree(work, ignore_errors=True)
    log.info("select (%s): kept %d of %d pairs (%.1f%%), %s, threshold %.4f; %.0f sentences/s",
             method, kept, n, 100 * kept / n, rule, threshold, res.sentences_per_s)
    return res
