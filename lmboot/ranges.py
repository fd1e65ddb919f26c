"""Numeric option checks shared by the command line, the pipeline config and the library.

One line naming the option when a value is out of range (:class:`LmbootError`, exit 2).

>>> check_range("--dropout", 0.1, lo=0, hi=1, hi_open=True)
>>> check_range("--dropout", 1.5, lo=0, hi=1, hi_open=True)
Traceback (most recent call last):
...
lmboot.errors.LmbootError: --dropout must be a finite number in [0, 1), not 1.5
"""
from __future__ import annotations

import math

from lmboot.errors import LmbootError


def check_range(option: str, value, lo: float | None = None, hi: float | None = None,
                lo_open: bool = False, hi_open: bool = False) -> None:
    """``value`` (None: not given, fine) must be finite and within the bounds; else one line naming ``option``."""
    if value is None or in_range(value, lo, hi, lo_open, hi_open):
        return
    kind = "an integer" if isinstance(value, int) and not isinstance(value, bool) else "a finite number"
    raise LmbootError(f"{option} must be {kind}{describe_range(lo, hi, lo_open, hi_open)}, not {value}")


def in_range(value, lo: float | None = None, hi: float | None = None,
             lo_open: bool = False, hi_open: bool = False) -> bool:
    """Whether ``value`` is a finite number (not a bool) within the bounds."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and lo is not None:
        ok = value > lo if lo_open else value >= lo
    if ok and hi is not None:
        ok = value < hi if hi_open else value <= hi
    return ok


def describe_range(lo, hi, lo_open: bool = False, hi_open: bool = False) -> str:
    """`` in [0, 1)``, `` >= 1``, `` < 5`` or ``""``: the allowed range, for error messages."""
    if lo is not None and hi is not None:
        return f" in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f" {'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f" {'<' if hi_open else '<='} {hi:g}"
    return ""


__all__ = ["check_range", "in_range", "describe_range"]
