"""Embedders (:class:`Embedder`) map normalised sentences to unit-length float32 vectors:
:class:`TfidfLsaEmbedder` (default; TF-IDF over character n-grams and words, reduced by
truncated SVD, fitted on seed + a sample of the general target side, no download, any
script) and :class:`SentenceTransformerEmbedder` (``st:/local/model/dir``). A fitted embedder
is saved as JSON + ``.npy`` files (no pickle) in ``OUT/embedder/`` and loads again with
:func:`load_embedder` (or ``embedder="OUT/embedder"``), so later runs use the same space.
"""
from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from lmboot.errors import LmbootError
from lmboot.io.corpus import atomic_write, write_json

EMBEDDER_FILE = "embedder.json"


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
    :class:`~lmboot.text.normalize.Normalizer` leaves them). Both TF-IDF blocks are unit-length (with
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


__all__ = ["Embedder", "TfidfLsaEmbedder", "TfidfLsaConfig", "SentenceTransformerEmbedder", "load_embedder",
           "make_embedder", "EMBEDDER_FILE"]
