"""Registries: the named choices at lmboot's extension points (translator engines, decoders, ...).

A registry maps a name to a class. Adding a choice is one file (the class) and one
registration line beside the registry, either lazy (the module is imported only when the
name is chosen, so listing the choices loads nothing heavy)::

    ENGINES.register("ct2", "lmboot.nmt.engines.ct2_engine:Ct2Translator")

or on the class itself (``@DECODERS.register("kaldi")``). Error messages, help texts and
config checks list :meth:`Registry.names`, so they cannot disagree with what is registered.

>>> SHAPES = Registry("shape")
>>> @SHAPES.register("square")
... class Square: pass
>>> SHAPES.names(), SHAPES.get("square") is Square, "square" in SHAPES
(('square',), True, True)
>>> SHAPES.get("circle")
Traceback (most recent call last):
...
lmboot.errors.LmbootError: unknown shape 'circle'; choose one of square
"""
from __future__ import annotations

import importlib
from typing import Any, Iterator

from lmboot.errors import LmbootError


class Registry:
    """Names -> classes (or ``"module:attribute"`` paths resolved on first use), in registration order.

    ``kind`` names what is chosen in messages (``unknown engine 'onnx'; choose one of ...``).
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Any] = {}

    def register(self, name: str, target: Any = None) -> Any:
        """Register ``target`` (a class or a ``"module:attribute"`` path) as ``name``; without
        ``target``, a class decorator. A name registered twice for different targets is a bug."""
        if target is None:
            def decorate(cls):
                self.register(name, cls)
                return cls
            return decorate
        old = self._entries.get(name)
        if old is not None and old is not target and _path(old) != _path(target):
            raise ValueError(f"{self.kind} {name!r} is already registered ({_path(old)})")
        self._entries[name] = target
        return target

    def unregister(self, name: str) -> None:
        """Forget ``name`` (tests register a choice of their own and remove it afterwards)."""
        self._entries.pop(name, None)

    def names(self) -> tuple[str, ...]:
        """The registered names, in registration order: what messages and help list."""
        return tuple(self._entries)

    def choices(self) -> str:
        """``"a, b, c"``: the names for a message or a help text."""
        return ", ".join(self._entries)

    def get(self, name: str) -> Any:
        """The class registered as ``name``; an unknown name is an :class:`LmbootError` listing the choices."""
        if name not in self._entries:
            raise LmbootError(f"unknown {self.kind} {name!r}; choose one of {self.choices()}")
        target = self._entries[name]
        if isinstance(target, str):
            module, _, attr = target.partition(":")
            target = self._entries[name] = getattr(importlib.import_module(module), attr)
        return target

    def items(self) -> Iterator[tuple[str, Any]]:
        """``(name, class)`` of every choice (lazy entries are imported)."""
        for name in self.names():
            yield name, self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {self.choices()})"


def _path(target: Any) -> str:
    if isinstance(target, str):
        return target
    return f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', repr(target))}"


__all__ = ["Registry"]
