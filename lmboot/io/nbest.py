"""N-best lists, one reader and one writer: lmboot's JSONL, and Kaldi-style text + score files.

JSONL (``docs/formats.md``), one entry per source sentence or utterance, hypotheses best first
by the producer's own score; MT and speech recognition alike::

    {"id": "utt1", "source": "...", "ref": "...", "hyps": [{"text": ..., "score": ..., "tokens": ...}]}

:func:`read_nbest` streams and validates such a file, :func:`format_entry` writes one entry
(translation, rescoring and the simulated recogniser all write through it). Recogniser output
in other shapes comes in through an :class:`NbestReader` (``lmboot eval wer``):

* **JSONL** (``*.jsonl``) as above, read by :func:`read_nbest`; for WER each entry needs a
  ``ref``;
* **Kaldi-style**: an n-best text file, one hypothesis a line, ``<utt-id>-<N> word word ...``
  (N = 1-based rank, the key Kaldi's ``nbest-to-linear`` + ``int2sym`` give), one or more score
  files ``<utt-id>-<N> <number>`` (summed when several, e.g. acoustic and LM cost), and a
  reference file in Kaldi ``text`` format ``<utt-id> word word ...``. Kaldi writes *costs*
  (negated log-likelihoods), so by default ``score = -sum(costs)``; ``costs=False`` reads the
  numbers as log-scores.

>>> entries = list(KaldiNbest("nbest.txt", ["ac.cost", "lm.cost"], "text").read())  # doctest: +SKIP
"""
from __future__ import annotations

import abc
import json
import math
from pathlib import Path
from typing import Iterator, Sequence

from lmboot.errors import LmbootError
from lmboot.io.corpus import iter_raw_lines


# --------------------------------------------------------------------------------------
# JSONL
# --------------------------------------------------------------------------------------
def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def read_nbest(path: str | Path, require_ref: bool = False) -> Iterator[dict]:
    """Stream and validate the entries of an n-best JSONL file (``docs/formats.md``).

    Each line is one object with ``id`` (string or integer, unique), a non-empty ``hyps``
    list whose items have ``text`` (string) and ``score`` (finite number), optionally
    ``tokens`` (non-negative integer; the word count is used when absent) and ``ref``
    (string). Other keys are kept untouched. Empty lines are skipped. Anything else is an
    :class:`LmbootError` naming the file and line. Works for MT and speech n-best lists.

    >>> next(read_nbest("dev.nbest.jsonl"))["hyps"][0]["text"]   # doctest: +SKIP
    """
    seen: dict = {}
    n = 0
    for lineno, line in iter_raw_lines(path, "n-best list"):
        if not line.strip():
            continue

        def bad(msg: str) -> LmbootError:
            return LmbootError(msg, path=path, line=lineno)

        try:
            entry = json.loads(line)
        except json.JSONDecodeError as e:
            raise bad(f"malformed JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(entry, dict):
            raise bad(f"expected a JSON object, found {type(entry).__name__}")
        if "id" not in entry:
            raise bad("missing key 'id'")
        eid = entry["id"]
        if isinstance(eid, bool) or not isinstance(eid, (str, int)) or eid == "":
            raise bad(f"'id' must be a non-empty string or an integer, not {eid!r}")
        if eid in seen:
            raise bad(f"duplicate id {eid!r} (first on line {seen[eid]})")
        seen[eid] = lineno
        if "ref" in entry and not isinstance(entry["ref"], str):
            raise bad(f"'ref' must be a string, not {type(entry['ref']).__name__}")
        if require_ref and "ref" not in entry:
            raise bad(f"entry {eid!r} has no 'ref' (references are needed here)")
        hyps = entry.get("hyps")
        if not isinstance(hyps, list):
            raise bad("missing key 'hyps'" if hyps is None else "'hyps' must be a list")
        if not hyps:
            raise bad(f"entry {eid!r} has an empty 'hyps' list")
        for i, h in enumerate(hyps):
            if not isinstance(h, dict):
                raise bad(f"hyps[{i}] must be an object")
            for key in ("text", "score"):
                if key not in h:
                    raise bad(f"hyps[{i}] is missing key '{key}'")
            if not isinstance(h["text"], str):
                raise bad(f"hyps[{i}].text must be a string")
            if not _is_number(h["score"]):
                raise bad(f"hyps[{i}].score must be a finite number, not {h['score']!r}")
            if "tokens" in h:
                t = h["tokens"]
                if isinstance(t, bool) or not isinstance(t, int) or t < 0:
                    raise bad(f"hyps[{i}].tokens must be a non-negative integer, not {t!r}")
        n += 1
        yield entry
    if n == 0:
        raise LmbootError("no n-best entry in the file", path=path)


def format_entry(entry: dict) -> str:
    """One n-best entry as a JSONL line (UTF-8 kept as is, ``\\n`` at the end); keys in the
    entry's own order."""
    return json.dumps(entry, ensure_ascii=False) + "\n"


def n_tokens(hyp: dict) -> int:
    """The length a hypothesis' score was computed over: ``tokens``, else its word count (at least 1)."""
    t = hyp.get("tokens")
    return max(1, len(hyp["text"].split()) if t is None else t)


# --------------------------------------------------------------------------------------
# Recogniser n-best lists for ``lmboot eval wer``
# --------------------------------------------------------------------------------------
class NbestReader(abc.ABC):
    """Extension point: a source of n-best entries (``docs/formats.md`` shape, ``ref`` required)."""

    @abc.abstractmethod
    def read(self) -> Iterator[dict]:
        """Yield entries with ``id``, ``ref`` and ``hyps`` (best first)."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The file the entries come from, for messages."""


class JsonlNbest(NbestReader):
    """n-best JSONL, validated by :func:`read_nbest`."""

    def __init__(self, path: str | Path, require_ref: bool = True):
        self.path, self.require_ref = Path(path), require_ref

    @property
    def name(self) -> str:
        return str(self.path)

    def read(self) -> Iterator[dict]:
        yield from read_nbest(self.path, require_ref=self.require_ref)


def _split_key(key: str, path: Path, lineno: int) -> tuple[str, int]:
    utt, sep, rank = key.rpartition("-")
    if not sep or not utt or not rank.isdigit() or int(rank) < 1:
        raise LmbootError(f"expected '<utt-id>-<N>' (N = 1, 2, ...) as first field, found {key!r}",
                          path=path, line=lineno)
    return utt, int(rank)


class KaldiNbest(NbestReader):
    """Kaldi-style n-best text + score file(s) + Kaldi ``text`` references (see module doc)."""

    def __init__(self, text: str | Path, scores: str | Path | Sequence[str | Path], refs: str | Path,
                 costs: bool = True):
        self.text, self.refs, self.costs = Path(text), Path(refs), costs
        self.scores = [Path(scores)] if isinstance(scores, (str, Path)) else [Path(s) for s in scores]
        if not self.scores:
            raise LmbootError("Kaldi n-best needs at least one score file", path=self.text)

    @property
    def name(self) -> str:
        return str(self.text)

    def _read_scores(self) -> dict[str, float]:
        total: dict[str, float] = {}
        for k, path in enumerate(self.scores):
            seen: set[str] = set()
            for lineno, line in iter_raw_lines(path, "n-best score file"):
                if not line.strip():
                    continue
                cols = line.split()
                if len(cols) != 2:
                    raise LmbootError(f"expected '<utt-id>-<N> <score>', found {len(cols)} fields",
                                      path=path, line=lineno)
                _split_key(cols[0], path, lineno)
                try:
                    v = float(cols[1])
                except ValueError:
                    raise LmbootError(f"score {cols[1]!r} is not a number", path=path, line=lineno) from None
                if not math.isfinite(v):
                    raise LmbootError(f"score {cols[1]!r} is not finite", path=path, line=lineno)
                if cols[0] in seen:
                    raise LmbootError(f"duplicate key {cols[0]!r}", path=path, line=lineno)
                seen.add(cols[0])
                if k and cols[0] not in total:
                    raise LmbootError(f"key {cols[0]!r} is not in {self.scores[0]}", path=path, line=lineno)
                total[cols[0]] = total.get(cols[0], 0.0) + v
            if k and len(seen) != len(total):
                missing = next(x for x in total if x not in seen)
                raise LmbootError(f"no score for {missing!r} (present in {self.scores[0]})", path=path)
        return total

    def _read_refs(self) -> dict[str, str]:
        refs: dict[str, str] = {}
        for lineno, line in iter_raw_lines(self.refs, "reference text"):
            if not line.strip():
                continue
            utt, _, words = line.strip().partition(" ")
            if utt in refs:
                raise LmbootError(f"duplicate utterance id {utt!r}", path=self.refs, line=lineno)
            refs[utt] = " ".join(words.split())
        return refs

    def read(self) -> Iterator[dict]:
        scores = self._read_scores()
        refs = self._read_refs()
        order: list[str] = []
        hyps: dict[str, list] = {}
        for lineno, line in iter_raw_lines(self.text, "n-best text"):
            if not line.strip():
                continue
            key, _, words = line.strip().partition(" ")
            utt, rank = _split_key(key, self.text, lineno)
            if key not in scores:
                raise LmbootError(f"no score for {key!r} in {', '.join(map(str, self.scores))}",
                                  path=self.text, line=lineno)
            if utt not in refs:
                raise LmbootError(f"utterance {utt!r} has no reference in {self.refs}", path=self.text, line=lineno)
            if utt not in hyps:
                order.append(utt)
                hyps[utt] = []
            if any(r == rank for r, _ in hyps[utt]):
                raise LmbootError(f"duplicate hypothesis {key!r}", path=self.text, line=lineno)
            text = " ".join(words.split())
            s = scores[key]
            hyps[utt].append((rank, {"text": text, "score": -s if self.costs else s,
                                     "tokens": len(text.split())}))
        if not order:
            raise LmbootError("no hypotheses", path=self.text)
        for utt in order:
            ranked = [h for _, h in sorted(hyps[utt], key=lambda x: x[0])]
            ranked.sort(key=lambda h: -h["score"])  # stable: ties keep Kaldi's rank order
            yield {"id": utt, "ref": refs[utt], "hyps": ranked}


def open_nbest(path: str | Path, scores: Sequence[str | Path] | None = None, refs: str | Path | None = None,
               costs: bool = True) -> NbestReader:
    """The reader for ``path``: Kaldi-style when score files are given, else JSONL."""
    if scores:
        if refs is None:
            raise LmbootError("Kaldi-style n-best needs a reference file (--refs)", path=path)
        return KaldiNbest(path, scores, refs, costs=costs)
    if refs is not None:
        raise LmbootError("--refs is for Kaldi-style n-best (with --scores); JSONL entries carry 'ref'", path=path)
    return JsonlNbest(path)


__all__ = ["read_nbest", "format_entry", "n_tokens", "NbestReader", "JsonlNbest", "KaldiNbest", "open_nbest"]
