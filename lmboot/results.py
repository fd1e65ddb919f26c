"""The result protocol every stage follows, and the one text-table formatter.

Every stage's library call returns a dataclass that is also a :class:`Result`:

- ``summary()``: what a person reads (the CLI prints exactly this);
- ``to_json()``: what a file records (``Path`` fields become strings, nested dataclasses dicts).

Paths in results are :class:`pathlib.Path`. Writing a stage's own summary file and plot is
the library's job, not the CLI's, so ``lmboot run`` and the command line write the same files.
"""
from __future__ import annotations

from dataclasses import asdict, is_dataclass
from pathlib import PurePath
from typing import Sequence


def jsonable(x):
    """``x`` with every path turned into a string, dataclasses into dicts (recursively)."""
    if is_dataclass(x) and not isinstance(x, type):
        x = asdict(x)
    if isinstance(x, PurePath):
        return str(x)
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(jsonable(v) for v in x)
    return x


class Result:
    """Mixin of stage results (dataclasses): ``summary()`` and ``to_json()``."""

    def to_json(self) -> dict:
        return jsonable(self)

    def summary(self) -> str:  # pragma: no cover - every stage result overrides it
        raise NotImplementedError


def text_table(rows: Sequence[Sequence[str]], rule: bool = True) -> str:
    """Rows of strings as aligned plain text: the first column left-aligned, the others right;
    with ``rule`` a line of dashes under the first (header) row.

    >>> print(text_table([("model", "ppl"), ("seed", "41.70")]))
    model    ppl
    ------------
    seed   41.70
    """
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    if rule:
        lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


__all__ = ["Result", "jsonable", "text_table"]
