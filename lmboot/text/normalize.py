"""Text normalisation for LM training and scoring, for any script: one rule, two paths.

:class:`Normalizer` is the rule (Unicode NFC, lower case, punctuation and symbols out,
letters, marks and digits kept); ``Normalizer.batch`` computes the same result for many short
strings at once in numpy (:func:`normalize_batch`), which rescoring, winnowing and LM training
text need. Both live here so that the batch path reads the scalar rule's tables directly.

>>> normalize("Set an ALARM, for 6:30!")
'set an alarm for 6 30'
>>> normalize("कल सुबह छह बजे का अलार्म लगाओ।")
'कल सुबह छह बजे का अलार्म लगाओ'

The batch path
--------------
Normalising one short utterance in Python costs several times what KenLM needs to score it
(``str.translate`` makes a dict lookup per character, and ``unicodedata.is_normalized``
falls back to a full normalisation for many Indic strings). Rescoring and winnowing score
hundreds of thousands of hypotheses, so they normalise a whole batch in numpy instead:

1. join the batch with ``\\n`` and view it as UTF-32 code points;
2. per code point, look up tables filled on first sight of each character: its output
   (lower-cased, then letter/mark/number kept, anything else a space) and whether it needs
   the slow path;
3. collapse spaces with two boolean masks and split the batch again.

Apostrophes (kept only between two letters) are decided where they stand. A line that may
not be in NFC (the Unicode quick check does not answer "yes") is composed with
``unicodedata`` and batched again; one that holds a character whose lower case is
context-dependent or longer than one character (final sigma, ``İ``) takes the scalar
:class:`Normalizer`. The result is the scalar normaliser's, string for string;
``tests/test_normalize.py`` checks that on random and on hand-picked hard Unicode text.
"""
from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from lmboot.errors import LmbootError

# Zero-width (non-)joiners shape Indic and Arabic-script words: part of the word, not noise.
_JOINERS = {"\u200c", "\u200d"}
# Apostrophes kept inside words ("don't", "o'clock"), as pronunciation dictionaries spell them.
_APOSTROPHES = {"'", "\u2019"}


@dataclass(frozen=True)
class Normalizer:
    """Text normalisation for LM training and scoring, for any script.

    - Unicode NFC, so that precomposed and decomposed forms (e.g. Devanagari nukta letters)
      become the same string;
    - lower-casing (a no-op for scripts without case, such as Devanagari);
    - punctuation and symbols (Unicode categories P*, S*; the danda ``।`` and ``॥`` are
      punctuation) become spaces, while letters, combining marks (matras, virama, nukta)
      and digits stay; an apostrophe between two letters stays;
    - digits kept, or dropped with ``digits="drop"``;
    - whitespace collapsed.

    With ``spoken_form=True`` numbers, times, dates, currencies, percentages and symbols are
    first written out as words in ``lang`` (:func:`lmboot.text.spoken.spoken_form`), before
    punctuation removal would turn "7:30" into "7 30" and "£5" into "5".

    >>> Normalizer(digits="drop")("wake me at 7 am")
    'wake me at am'
    >>> Normalizer(spoken_form=True, lang="deu_Latn")("Wecke mich um 7:30!")
    'wecke mich um sieben uhr dreißig'
    """

    lowercase: bool = True
    digits: str = "keep"  # "keep" | "drop"
    spoken_form: bool = False
    lang: str | None = None  # the text's language, for spoken_form (ISO 639-1/3 or NLLB code)

    def __post_init__(self) -> None:
        if self.digits not in ("keep", "drop"):
            raise LmbootError(f"digits must be 'keep' or 'drop', not {self.digits!r}")
        if self.spoken_form:
            from lmboot.text import spoken

            if not self.lang:
                raise LmbootError("spoken form needs the text's language (--lang, e.g. de, deu or deu_Latn)")
            code = spoken.resolve_lang(self.lang)
            spoken.grammar(code)  # a language without a grammar is logged now, once
            object.__setattr__(self, "lang", code)  # de == deu == deu_Latn: one setting, one signature

    def __call__(self, text: str) -> str:
        if self.spoken_form:
            from lmboot.text.spoken import spoken_form

            text = spoken_form(text, self.lang)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        if self.lowercase:
            text = text.lower()
        text = text.translate(_TABLES[self.digits])
        if "'" in text:
            text = _keep_inner_apostrophes(text)
        return " ".join(text.split())

    @property
    def signature(self) -> str:
        """The settings as a signature field, e.g. ``nfc+lc+nopunct+digits-keep`` or, in spoken
        form, ``nfc+lc+nopunct+digits-keep+spoken-de`` (``+spoken-xx-nogrammar`` where the
        language has no grammar and digits stay)."""
        sig = f"nfc+{'lc' if self.lowercase else 'case'}+nopunct+digits-{self.digits}"
        if self.spoken_form:
            from lmboot.text.spoken import SUPPORTED

            sig += f"+spoken-{self.lang}" + ("" if self.lang in SUPPORTED else "-nogrammar")
        return sig

    def batch(self, texts, counts: bool = False, utf8: bool = False):
        """``[self(t) for t in texts]``, several times faster on many short strings.

        With ``counts=True`` returns ``(normalised texts, their word counts)``; with
        ``utf8=True`` the texts come as UTF-8 ``bytes``, ready for KenLM.

        Rescoring and winnowing normalise every hypothesis before KenLM scores it; done one
        string at a time in Python that costs more than the scoring. The batch is normalised
        in numpy, and only lines numpy cannot decide exactly take the scalar path (see
        :func:`normalize_batch`).

        >>> Normalizer().batch(["Set an ALARM!", "कल सुबह।"])
        ['set an alarm', 'कल सुबह']

        In spoken form the lines that hold a number or symbol are written out first (the rest
        cost one regex search); a written-out line holds none, so the scalar path the batch
        falls back on for a few lines gives the same text.
        """
        if self.spoken_form:
            from lmboot.text.spoken import spoken_form_batch

            texts = spoken_form_batch(texts, self.lang)
        return normalize_batch(texts, self.lowercase, self.digits == "drop", self, counts, utf8)


class _CharTable(dict):
    """str.translate table filled on first sight of each character, from its Unicode category."""

    def __init__(self, drop_digits: bool):
        super().__init__()
        self.drop_digits = drop_digits

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        cat = unicodedata.category(ch)
        if cat[0] in "LM" or ch in _JOINERS:
            out = ch  # letters and combining marks (matras, virama, nukta) are the word
        elif cat[0] == "N":
            out = " " if self.drop_digits and cat == "Nd" else ch
        elif ch in _APOSTROPHES:
            out = "'"  # kept only between letters, see _keep_inner_apostrophes
        else:  # punctuation (danda included), symbols, separators, controls
            out = " "
        self[code] = out
        return out


_TABLES = {"keep": _CharTable(drop_digits=False), "drop": _CharTable(drop_digits=True)}


def _keep_inner_apostrophes(text: str) -> str:
    """An apostrophe stays only between two letters ("don't"); elsewhere it becomes a space."""
    chars = list(text)
    last = len(chars) - 1
    i = text.find("'")
    while i >= 0:  # visit the apostrophes only: text may be a whole batch
        if not (0 < i < last and chars[i - 1].isalpha() and chars[i + 1].isalpha()):
            chars[i] = " "
        i = text.find("'", i + 1)
    return "".join(chars)


_DEFAULT = Normalizer()


def normalize(text: str, lowercase: bool = True, digits: str = "keep") -> str:
    """Normalise one sentence with :class:`Normalizer` (see there)."""
    if lowercase and digits == "keep":
        return _DEFAULT(text)
    return Normalizer(lowercase=lowercase, digits=digits)(text)


# --------------------------------------------------------------------------------------
# The batch path (numpy)
# --------------------------------------------------------------------------------------
# One uint32 per code point, per normaliser setting, packs all numpy needs to know:
#   bits 0-20  the output code point (lower-cased; letter/mark/number kept, else a space)
#   bits 21-23 why the line may need the scalar path (flags below)
#   bits 24-31 the canonical combining class
# 0 means "not described yet" (every described code point has a non-zero output).
_N = 0x110000
_OUT = (1 << 21) - 1
_NFC_NO = 1 << 21  # cannot occur in NFC text
_NFC_MAYBE = 1 << 22  # may compose with the character before it
_SLOW = 1 << 23  # lower case context-dependent or longer than one character; or an apostrophe

_lock = threading.Lock()
_tables: dict[tuple[bool, bool], np.ndarray] = {}  # (lowercase, drop_digits) -> packed table
_compose: tuple[frozenset[int], np.ndarray] | None = None


def _nfc_compose() -> tuple[frozenset[int], np.ndarray]:
    """Code points with NFC_Quick_Check = Maybe, and the sorted pairs ``first << 21 | second`` that compose.

    Maybe characters are the second halves of canonical pairs that compose (a decomposition
    into two characters whose composite NFC keeps), plus the Hangul medial vowels and final
    consonants (composed by rule, so always sent to the scalar path). Python does not expose
    the property, so it is derived once from ``unicodedata`` (about 0.1 s).
    """
    global _compose
    if _compose is None:
        maybe = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
        pairs = []
        for cp in range(0x30000):  # every canonical decomposition lies below U+30000
            d = unicodedata.decomposition(chr(cp))
            if d and not d.startswith("<"):
                parts = d.split()
                if len(parts) == 2 and unicodedata.normalize("NFC", chr(cp)) == chr(cp):
                    a, b = int(parts[0], 16), int(parts[1], 16)
                    maybe.add(b)
                    pairs.append(a << 21 | b)
        _compose = frozenset(maybe), np.array(sorted(set(pairs)), dtype=np.uint64)
    return _compose


def _describe(key: tuple[bool, bool], table: np.ndarray, cps) -> None:
    """Fill ``table`` for the code points ``cps``, from the scalar rule (``_TABLES``)."""
    lowercase, drop = key
    chars = _TABLES["drop" if drop else "keep"]
    maybe = _nfc_compose()[0]
    for cp in np.asarray(cps).tolist():
        ch = chr(cp)
        v = unicodedata.combining(ch) << 24
        if unicodedata.normalize("NFC", ch) != ch:
            v |= _NFC_NO
        if cp in maybe:
            v |= _NFC_MAYBE
        if lowercase:
            low = ch.lower()
            if len(low) != 1 or cp == 0x03A3:  # capital sigma lower-cases by context
                v |= _SLOW
            else:
                ch = low
        out = chars[ord(ch)]
        if out == "'":  # kept only between two letters: decided where it stands
            v |= _SLOW
        table[cp] = v | (10 if cp == 10 else ord(out))  # the batch separator survives


def normalize_batch(texts: Sequence[str], lowercase: bool, drop_digits: bool, scalar,
                    counts: bool = False, utf8: bool = False, _nfc: bool = False):
    """``[scalar(t) for t in texts]``, computed in numpy where that is exact (see module doc).

    With ``counts=True`` returns ``(lines, word counts)``; with ``utf8=True`` the lines are
    UTF-8 ``bytes`` (what KenLM's Python module encodes every ``str`` to before scoring).
    """
    n = len(texts)
    if n == 0:
        return ([], []) if counts else []
    big = "\n".join(texts)
    if big.count("\n") != n - 1:  # a text with its own line break: no safe separator
        lines, nw = _one_by_one(texts, scalar, utf8)
        return (lines, nw) if counts else lines
    codes = np.frombuffer(big.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    key = (lowercase, drop_digits)
    with _lock:
        table = _tables.get(key)
        if table is None:
            table = _tables[key] = np.zeros(_N, dtype=np.uint32)
        info = table[codes]
        if not info.all():  # characters seen for the first time
            _describe(key, table, np.unique(codes[info == 0]))
            info = table[codes]
    out = info & _OUT

    # Lines numpy cannot decide exactly. NFC (the Unicode quick check): no character that
    # cannot occur in NFC, combining marks in canonical order, and no "Maybe" character
    # that composes with the one before it (or follows a combining mark). Only the few
    # code points with a flag or a combining class need a look.
    at = np.flatnonzero(info > _OUT)
    slow_at = at[:0]
    if len(at):
        sub = info[at]
        ccc = sub >> 24
        prev = info[at - 1] >> 24  # (at 0 this wraps to the end; at worst a line goes slow)
        bad = ((sub & (_NFC_NO | _SLOW)) != 0) | ((ccc > 0) & (ccc < prev))
        apos = (sub & _OUT) == 39
        if apos.any():  # an apostrophe stays between two letters, else becomes a space
            last = len(out) - 1
            for j in np.flatnonzero(apos).tolist():
                i = int(at[j])
                if not (0 < i < last and chr(out[i - 1]).isalpha() and chr(out[i + 1]).isalpha()):
                    out[i] = 32
            bad[apos] = False
        maybe = (sub & _NFC_MAYBE) != 0
        if maybe.any():
            m_at = at[maybe]
            c, p = codes[m_at], codes[m_at - 1]
            pairs = _nfc_compose()[1]
            keys = p.astype(np.uint64) << np.uint64(21) | c
            k = np.searchsorted(pairs, keys).clip(max=len(pairs) - 1)
            bad[maybe] |= (pairs[k] == keys) | (prev[maybe] != 0) | ((c >= 0x1100) & (c < 0x1200))
        slow_at = at[bad]

    # Collapse whitespace. After the table, every code point up to 32 is a space or the
    # separator (10), so "blank" is one comparison. Keep only the last space of a run, and
    # only before a word character; then drop a space that starts a line.
    sp = out == 32
    sp[:-1] &= out[1:] <= 32
    out = out[~sp]
    if len(out):
        sp = out == 32
        sp[1:] &= out[:-1] == 10
        out = out[~sp]
    joined = out.tobytes().decode("utf-32-le")
    lines = joined.encode().split(b"\n") if utf8 else joined.split("\n")
    slow_lines: list[int] = []
    fixed_nw: list[int] = []
    if len(slow_at):
        slow_lines = np.unique(np.searchsorted(np.flatnonzero(codes == 10), slow_at)).tolist()
        slow_texts = [texts[i] for i in slow_lines]
        if _nfc:  # already in NFC: what is left (final sigma, dotted capital I) goes one by one
            fixed, fixed_nw = _one_by_one(slow_texts, scalar, utf8)
        else:  # mostly not-NFC lines (precomposed nukta letters): compose them, then batch again
            fixed, fixed_nw = normalize_batch([unicodedata.normalize("NFC", t) for t in slow_texts],
                                              lowercase, drop_digits, scalar, True, utf8, _nfc=True)
        for i, s in zip(slow_lines, fixed):
            lines[i] = s
    if not counts:
        return lines
    # Words per line: its spaces plus one, none for an empty line.
    blank = np.flatnonzero(out <= 32)
    k = np.flatnonzero(out[blank] == 10)  # the separators among the blanks
    ends = np.append(blank[k], len(out))  # where each line ends
    nw = np.diff(np.append(k, len(blank)), prepend=-1)  # spaces + 1
    nw[np.diff(ends, prepend=-1) == 1] = 0
    nw = nw.tolist()
    for i, k in zip(slow_lines, fixed_nw):
        nw[i] = k
    return lines, nw


def _one_by_one(texts: Sequence[str], scalar, utf8: bool) -> tuple[list, list[int]]:
    """The scalar normaliser on each text: ``(lines, word counts)``."""
    lines = [scalar(t) for t in texts]
    nw = [len(s.split()) for s in lines]
    return ([s.encode() for s in lines] if utf8 else lines), nw
