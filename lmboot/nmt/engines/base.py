"""The translator interface every engine implements, and the search options they share.

An engine turns sentences into n-best lists of :class:`~lmboot.nmt.data.Hyp` (best first,
input order kept, ``score`` the natural-log probability of docs/formats.md). The options
every engine understands are :class:`SearchOptions`; an engine's own options are a dataclass
of its own (``Engine.Options``), given by name to :func:`lmboot.nmt.engines.open_translator`.

>>> SearchOptions(beam=4, nbest=2).check()
>>> SearchOptions(beam=2, nbest=3).check()
Traceback (most recent call last):
...
lmboot.errors.LmbootError: nbest must be between 1 and the beam size (2), not 3
"""
from __future__ import annotations

import abc
import os
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Sequence

from lmboot.errors import LmbootError
from lmboot.nmt.data import Hyp
from lmboot.ranges import check_range


@dataclass(frozen=True)
class SearchOptions:
    """Beam search settings every engine takes.

    ``nbest`` hypotheses (≤ ``beam``) per sentence; at most ``int(max_len_a * source_len +
    max_len_b)`` generated tokens; ``len_penalty`` the exponent of length normalisation where an
    engine ranks by it; ``no_repeat_ngram_size`` > 0 forbids a repeated token n-gram; batches of
    at most ``batch_tokens`` source tokens and ``max_sentences`` sentences; sources longer than
    ``max_src_len`` tokens are cut (and counted in ``Translator.truncated``).
    """

    beam: int = field(default=5, metadata={"lo": 1})
    nbest: int = field(default=1, metadata={"lo": 1})
    max_len_a: float = field(default=1.5, metadata={"lo": 0})
    max_len_b: int = 10
    len_penalty: float = 1.0
    no_repeat_ngram_size: int = field(default=0, metadata={"lo": 0})
    batch_tokens: int = field(default=4096, metadata={"lo": 1})
    max_sentences: int = field(default=64, metadata={"lo": 1})
    max_src_len: int = field(default=256, metadata={"lo": 2})  # room for the language tag and </s>

    def check(self, sampling: bool = False) -> None:
        """Refuse settings no engine can search with: each field a finite number within its
        ``metadata`` bound, ``nbest`` ≤ ``beam`` (unless ``sampling``: samples are not bound by it)."""
        for f in fields(self):
            check_range(f.name, getattr(self, f.name), lo=f.metadata.get("lo"))
        if not sampling and self.nbest > self.beam:
            raise LmbootError(f"nbest must be between 1 and the beam size ({self.beam}), not {self.nbest}")


@dataclass(frozen=True)
class NoOptions:
    """An engine without options of its own."""


class Translator(abc.ABC):
    """An n-best translator. Engines subclass it, register in :data:`lmboot.nmt.engines.ENGINES`
    and implement :meth:`open` (from a model path) and :meth:`translate`.

    After ``__init__`` the :class:`SearchOptions` fields are attributes (``self.beam``,
    ``self.nbest``, ...); ``truncated`` counts the sources cut to ``max_src_len``;
    ``device_type`` (``"cpu"``/``"cuda"``) tells sharded translation which backend to merge with.
    """

    name: ClassVar[str] = "abstract"
    Options: ClassVar[type] = NoOptions
    device_type: str = "cpu"

    def __init__(self, search: SearchOptions, sampling: bool = False):
        search.check(sampling)
        self.search = search
        for f in fields(search):
            setattr(self, f.name, getattr(search, f.name))
        self.truncated = 0

    @classmethod
    @abc.abstractmethod
    def open(cls, model: str | os.PathLike, search: SearchOptions, *, checkpoint: str = "best",
             device: str | None = None, threads: int | None = None, options: Any = None) -> "Translator":
        """A translator over ``model`` (a path whose meaning the engine defines) with ``options``
        (an instance of ``cls.Options``)."""

    @abc.abstractmethod
    def translate(self, sentences: Sequence[str]) -> list[list[Hyp]]:
        """n-best hypotheses for each sentence, best first; input order kept."""


def search_options(search: SearchOptions | None, overrides: dict[str, Any]) -> SearchOptions:
    """``search`` (default: :class:`SearchOptions`) with the keyword ``overrides`` an engine's
    constructor was given (``Ct2Translator(path, beam=4)``); an unknown keyword is a TypeError."""
    return replace(search or SearchOptions(), **overrides)


def default_threads(threads: int | None) -> int:
    """CPU threads when not given: ``OMP_NUM_THREADS`` when set, else the cores divided among
    the local processes (``LOCAL_WORLD_SIZE`` under torchrun), at most 8."""
    if threads is not None:
        return threads
    if os.environ.get("OMP_NUM_THREADS"):
        return int(os.environ["OMP_NUM_THREADS"])
    local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    return max(1, min(8, (os.cpu_count() or 1) // local))


__all__ = ["Translator", "SearchOptions", "NoOptions", "search_options", "default_threads"]
