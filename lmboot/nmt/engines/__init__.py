"""Translator engines behind one interface (:class:`Translator`), chosen by name.

=========  ==============================================================================
fairseq2   the model as trained (:mod:`~lmboot.nmt.engines.fairseq2_engine`), the reference
ct2        CTranslate2 over an export (:mod:`~lmboot.nmt.engines.ct2_engine`): faster on
           CPU, int8, sampling
=========  ==============================================================================

Every engine takes the :class:`SearchOptions`; its own options are the fields of its
``Options`` dataclass, passed by name to :func:`open_translator`. Adding an engine is one
file (a :class:`Translator` subclass with ``open`` and ``translate``) and one line below;
:data:`ENGINES` ``.names()`` is what messages, help and config checks list.

>>> ENGINES.names()
('fairseq2', 'ct2')
>>> tr = open_translator("ct2", "runs/en-hi", SearchOptions(beam=5, nbest=5), seed=1)  # doctest: +SKIP
>>> tr.translate(["hello"])[0][0].text                                               # doctest: +SKIP
"""
from __future__ import annotations

import os
from dataclasses import MISSING, fields
from typing import Any

from lmboot.errors import LmbootError
from lmboot.nmt.engines.base import SearchOptions, Translator
from lmboot.registry import Registry

ENGINES = Registry("engine")
ENGINES.register("fairseq2", "lmboot.nmt.engines.fairseq2_engine:Fairseq2Translator")
ENGINES.register("ct2", "lmboot.nmt.engines.ct2_engine:Ct2Translator")


def _defaults(cls) -> dict[str, Any]:
    """``{field: default}`` of an engine's own options."""
    return {f.name: f.default for f in fields(cls.Options) if f.default is not MISSING}


def engine_options(engine: str, options: dict[str, Any]):
    """``ENGINES[engine].Options`` from keyword ``options``. An option only other engines have is
    refused when it is set to something else than its default (``seed=3`` with fairseq2: it would be
    silently ignored); a name no engine knows is a TypeError."""
    cls = ENGINES.get(engine)
    own = _defaults(cls)
    for key, value in options.items():
        if key in own:
            continue
        others = {name: _defaults(c) for name, c in ENGINES.items() if name != engine}
        having = [name for name, d in others.items() if key in d]
        if not having:
            raise TypeError(f"unknown translation option {key!r}")
        if all(value != others[name][key] for name in having):
            raise LmbootError(f"{key}={value!r} needs the {' or '.join(having)} engine (not {engine})")
    return cls.Options(**{k: v for k, v in options.items() if k in own})


def open_translator(engine: str, model: str | os.PathLike, search: SearchOptions | None = None, *,
                    checkpoint: str = "best", device: str | None = None, threads: int | None = None,
                    **options) -> Translator:
    """The ``engine`` translator over ``model`` (what a path means is the engine's: a model
    directory, an export) with the shared ``search`` settings and the engine's own ``options``."""
    opts = engine_options(engine, options)
    return ENGINES.get(engine).open(model, search or SearchOptions(), checkpoint=checkpoint, device=device,
                                    threads=threads, options=opts)


__all__ = ["ENGINES", "Translator", "SearchOptions", "open_translator", "engine_options"]
