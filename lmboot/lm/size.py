"""Sizes: KenLM probing binaries predicted from n-gram counts, and size strings ("5MB").

>>> parse_size("1.5GB"), parse_size("500KiB"), parse_size(4096)
(1500000000, 512000, 4096)
>>> human(4980123)
'4.98 MB'
"""
from __future__ import annotations

import re

from lmboot.errors import LmbootError

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_size(value) -> int:
    """Bytes from an int or a string: ``"5MB"``, ``"500KB"``, ``"1.5GB"`` (powers of 1000),
    ``"64MiB"`` (powers of 1024)."""
    n = None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*", value)
        if m and m.group(2).lower() in _UNITS:
            n = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if n is None or n <= 0:
        raise LmbootError(f"a size must be a positive number of bytes such as 5MB, 500KB or 1.5GB, not {value!r}")
    return n


def human(n: int) -> str:
    """``4980123`` -> ``'4.98 MB'`` (powers of 1000, as :func:`parse_size` reads them)."""
    for unit, f in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= f:
            return f"{n / f:.2f} {unit}"
    return f"{n} B"


def binary_size(counts: list[int], vocab_bytes: int) -> int:
    """Bytes of the KenLM probing binary (``build_binary``'s default, ``-p 1.5``) of a model with
    these n-gram ``counts``; ``vocab_bytes`` is the sum of (UTF-8 length + 1) of its words. The
    layout: a header, the vocabulary hash, 8-byte unigram entries, 16-byte entries for middle
    orders and 12-byte ones for the top order, each hash 1.5 times its entries, then the words."""
    import numpy as np  # KenLM multiplies in float32

    def buckets(c: int) -> int:
        return max(c + 1, int(np.float32(1.5) * np.float32(c)))

    size = 120 + 8 * len(counts) + 8 * (counts[0] + 1) + 12 * buckets(counts[0]) + vocab_bytes
    if len(counts) > 1:
        size += sum(16 * buckets(c) for c in counts[1:-1]) + 12 * buckets(counts[-1])
    return size


__all__ = ["parse_size", "human", "binary_size"]
